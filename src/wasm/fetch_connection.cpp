#include "fetch_connection.hpp"

#include <emscripten/em_js.h>
#include <emscripten/emscripten.h>
#include <emscripten/eventloop.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

// emscripten_fetch_close() does not abort the XHR underneath (see the Emscripten notes): the
// server would keep the connection and a late answer would hit a freed struct. Aborting the
// XHR first ends the request for real; its readystatechange marks the fetch done, so the
// close that follows calls no handler.
EM_JS(void, comet_abort_xhr, (uint32_t id), {
    var xhr = Fetch.xhrs[id - 1];
    if (xhr) xhr.abort();
});

// The response's header block, NUL-terminated in memory the caller frees. Emscripten's
// emscripten_fetch_get_response_headers_length and _get_response_headers each call
// getAllResponseHeaders(); this calls it once per response.
EM_JS(char*, comet_response_headers, (uint32_t id), {
    var xhr = Fetch.xhrs[id - 1];
    var text = xhr ? xhr.getAllResponseHeaders() : "";
    var size = lengthBytesUTF8(text) + 1;
    var block = _malloc(size);
    stringToUTF8(text, block, size);
    return block;
});

// The calls back to the shim, which puts _cometMessages, _cometReport and _cometState on the
// module object before the module starts. Byte ranges arrive as views into wasm memory that
// stay valid only while the call lasts (a handler could grow memory and detach them), so the
// shim decodes them before it runs any handler. A batch is the body, its messages (five
// words each, see body.hpp), their JSON values gathered into one array (may be empty) and,
// for connections that keep it, the cursor after them (null otherwise).
EM_JS(void, comet_js_messages,
      (uint32_t id, const uint8_t* body, uint32_t length, const uint32_t* messages, uint32_t count,
       const uint8_t* values, uint32_t values_length, const char* last_modified, const char* etag),
      {
          Module['_cometMessages'](
              id, HEAPU8.subarray(body, body + length), HEAPU32.subarray(messages >> 2, (messages >> 2) + count * 5),
              HEAPU8.subarray(values, values + values_length),
              // Quoted: closure renames the module's own property names, not the shim's.
              last_modified ? {'lastModified' : UTF8ToString(last_modified), 'etag' : UTF8ToString(etag)} : null);
      });

EM_JS(void, comet_js_report,
      (uint32_t id, int status, const char* text_status, const char* error_thrown, const char* detail, double retry_in,
       const char* status_text, const char* headers, const uint8_t* body, uint32_t body_length, int has_body),
      {
          Module['_cometReport'](id, status, UTF8ToString(text_status), UTF8ToString(error_thrown),
                                 UTF8ToString(detail), retry_in, UTF8ToString(status_text), UTF8ToString(headers),
                                 has_body ? HEAPU8.subarray(body, body + body_length) : null);
      });

EM_JS(void, comet_js_state, (uint32_t id, const char* from, const char* to),
      { Module['_cometState'](id, UTF8ToString(from), UTF8ToString(to)); });

// The cursor moved without a batch to carry it (an oversized message was skipped), for
// connections that keep it (resume, shared): the shim saves it and hands it to other tabs.
EM_JS(void, comet_js_cursor, (uint32_t id, const char* last_modified, const char* etag),
      { Module['_cometCursor'](id, UTF8ToString(last_modified), UTF8ToString(etag)); });

// The URL in use changed (a failure moved to the next one): its index in the list.
EM_JS(void, comet_js_url, (uint32_t id, uint32_t index), { Module['_cometUrl'](id, index); });

// Only for connections with the `debug` option.
EM_JS(void, comet_js_request, (uint32_t id, const char* method, const char* url, const char* headers),
      { Module['_cometRequest'](id, UTF8ToString(method), UTF8ToString(url), UTF8ToString(headers)); });

EM_JS(void, comet_js_response, (uint32_t id, int status, double bytes),
      { Module['_cometResponse'](id, status, bytes); });

namespace comet {

namespace {

Millis now_ms() { return static_cast<Millis>(std::floor(emscripten_get_now())); }

}  // namespace

FetchConnection::FetchConnection(uint32_t id, PollerConfig config, bool debug, bool track_cursor)
    : id_(id), debug_(debug), track_cursor_(track_cursor), poller_(std::move(config)) {
    reported_cursor_ = poller_.cursor();
}

FetchConnection::~FetchConnection() { close(); }

void FetchConnection::feed(bool (Poller::*input)(Millis)) {
    (poller_.*input)(now_ms());
    run_actions(nullptr);
}

void FetchConnection::start() { feed(&Poller::start); }
void FetchConnection::go_offline() { feed(&Poller::go_offline); }
void FetchConnection::go_online() { feed(&Poller::go_online); }
void FetchConnection::suspend() { feed(&Poller::suspend); }
void FetchConnection::resume() { feed(&Poller::resume); }

void FetchConnection::close() {
    if (poller_.close()) run_actions(nullptr);
    if (fetch_) abort_fetch();  // belt and braces: nothing may outlive a closed connection
    if (timer_id_) {
        emscripten_clear_timeout(timer_id_);
        timer_id_ = 0;
        timer_at_ = -1;
    }
}

void FetchConnection::on_fetch_success(emscripten_fetch_t* fetch) {
    static_cast<FetchConnection*>(fetch->userData)->fetch_finished(fetch, true);
}

void FetchConnection::on_fetch_error(emscripten_fetch_t* fetch) {
    static_cast<FetchConnection*>(fetch->userData)->fetch_finished(fetch, false);
}

void FetchConnection::on_fetch_progress(emscripten_fetch_t* fetch) {
    auto* self = static_cast<FetchConnection*>(fetch->userData);
    if (fetch != self->fetch_) return;
    // Without streaming, dataOffset is how much has arrived and totalBytes what Content-Length
    // promises: a response announced too large is abandoned before it arrives. The headers
    // are read only for one that is.
    uint64_t received = fetch->dataOffset;
    uint64_t announced = fetch->totalBytes;
    if (!self->poller_.too_large(received, announced)) return;
    self->read_headers(fetch);
    Response headers_only;
    headers_only.status = fetch->status;
    headers_only.headers = self->headers_;
    if (self->poller_.on_progress(now_ms(), self->fetch_request_id_, headers_only, received, announced))
        self->run_actions(&headers_only);
}

void FetchConnection::read_headers(emscripten_fetch_t* fetch) {
    char* block = comet_response_headers(fetch->id);
    headers_.assign(block);
    std::free(block);
}

void FetchConnection::on_timer(void* self) {
    auto* connection = static_cast<FetchConnection*>(self);
    connection->timer_id_ = 0;
    connection->timer_at_ = -1;
    connection->poller_.on_timer(now_ms());
    connection->run_actions(nullptr);
}

void FetchConnection::fetch_finished(emscripten_fetch_t* fetch, bool success) {
    // Only the current fetch may speak. A fetch we are closing ourselves calls back from
    // inside emscripten_fetch_close (status 65535); it must be left alone, not closed twice.
    if (fetch != fetch_) return;
    fetch_ = nullptr;
    uint64_t id = fetch_request_id_;
    Millis now = now_ms();
    if (debug_) comet_js_response(id_, fetch->status, static_cast<double>(fetch->numBytes));
    if (!success && fetch->status == 0) {
        poller_.on_network_failure(now, id);
        run_actions(nullptr);
    } else {
        read_headers(fetch);
        Response response;
        response.status = fetch->status;
        response.status_text =
            std::string_view(fetch->statusText, strnlen(fetch->statusText, sizeof fetch->statusText));
        response.headers = headers_;
        response.body = std::string_view(fetch->data ? fetch->data : "", static_cast<size_t>(fetch->numBytes));
        poller_.on_response(now, id, response);
        run_actions(&response);
    }
    emscripten_fetch_close(fetch);
}

void FetchConnection::run_actions(const Response* response) {
    // Handlers may call back into this connection (close() from a message handler), which
    // appends to the Poller's queue: take the batch first.
    std::vector<Action> batch;
    batch.swap(poller_.actions());
    for (const Action& action : batch) {
        if (auto* start = std::get_if<StartRequest>(&action)) {
            if (poller_.state() != State::Closed) start_fetch(*start);
        } else if (std::get_if<AbortRequest>(&action)) {
            abort_fetch();
        } else if (auto* messages = std::get_if<Deliver>(&action)) {
            if (response && poller_.state() != State::Closed) deliver(*messages, *response);
        } else if (auto* problem = std::get_if<Report>(&action)) {
            if (poller_.state() != State::Closed) report(*problem, response);
        } else if (auto* change = std::get_if<StateChanged>(&action)) {
            comet_js_state(id_, name_of(change->from), name_of(change->to));
        }
    }
    const Cursor& cursor = poller_.cursor();
    if (track_cursor_ && poller_.state() != State::Closed &&
        (cursor.etag != reported_cursor_.etag || cursor.last_modified != reported_cursor_.last_modified)) {
        reported_cursor_ = cursor;
        comet_js_cursor(id_, cursor.last_modified.c_str(), cursor.etag.c_str());
    }
    if (poller_.url_index() != reported_url_index_) {
        reported_url_index_ = poller_.url_index();
        comet_js_url(id_, static_cast<uint32_t>(reported_url_index_));
    }
    arm_timer();
}

void FetchConnection::start_fetch(const StartRequest& request) {
    if (fetch_) abort_fetch();
    emscripten_fetch_attr_t attr;
    emscripten_fetch_attr_init(&attr);
    size_t method_length = std::min(request.method.size(), sizeof attr.requestMethod - 1);
    std::memcpy(attr.requestMethod, request.method.data(), method_length);
    attr.requestMethod[method_length] = '\0';
    attr.attributes = EMSCRIPTEN_FETCH_LOAD_TO_MEMORY;
    attr.onsuccess = &FetchConnection::on_fetch_success;
    attr.onerror = &FetchConnection::on_fetch_error;
    attr.onprogress = &FetchConnection::on_fetch_progress;
    attr.userData = this;
    attr.timeoutMSecs = 0;  // the Poller owns timeouts: it also catches a stall after headers
    std::vector<const char*> headers;
    headers.reserve(request.headers.size() * 2 + 1);
    for (const Header& header : request.headers) {
        headers.push_back(header.name.c_str());
        headers.push_back(header.value.c_str());
    }
    headers.push_back(nullptr);
    attr.requestHeaders = headers.data();
    fetch_request_id_ = request.request_id;
    if (debug_) {
        std::string sent;
        for (const Header& header : request.headers)
            sent += (sent.empty() ? "" : ", ") + header.name + ": " + header.value;
        comet_js_request(id_, request.method.c_str(), request.url.c_str(), sent.c_str());
    }
    // emscripten_fetch copies the URL and headers. Errors it detects up front arrive through
    // onerror synchronously, so fetch_ must name the new fetch before they can.
    fetch_ = emscripten_fetch(&attr, request.url.c_str());
}

void FetchConnection::abort_fetch() {
    emscripten_fetch_t* fetch = fetch_;
    if (!fetch) return;
    fetch_ = nullptr;  // first, so the callbacks that closing triggers are ignored
    comet_abort_xhr(fetch->id);
    emscripten_fetch_close(fetch);
}

void FetchConnection::arm_timer() {
    std::optional<Millis> deadline = poller_.next_deadline();
    // A timer that fires no later than the deadline can stay: if it fires early, the Poller
    // finds nothing due and this arms the rest. Every response moves the request deadline a
    // little later; re-arming for each would cost a clearTimeout and a setTimeout per message.
    if (deadline && timer_id_ && timer_at_ <= *deadline) return;
    if (timer_id_) {
        emscripten_clear_timeout(timer_id_);
        timer_id_ = 0;
        timer_at_ = -1;
    }
    if (!deadline) return;
    double delay = static_cast<double>(*deadline) - emscripten_get_now();
    timer_at_ = *deadline;
    // +1: the clock is floored to whole milliseconds, so never wake a hair too early.
    timer_id_ = emscripten_set_timeout(&FetchConnection::on_timer, delay < 0 ? 0 : delay + 1, this);
}

void FetchConnection::deliver(const Deliver& deliver, const Response& response) {
    // One crossing per response. The values buffer lives for this call only: nothing stays
    // behind at a high-water mark.
    std::string values;
    gather_json_values(response.body, deliver.messages, values);
    // The batch carries the cursor it moved to, so other tabs can follow the stream.
    const char* last_modified = nullptr;
    const char* etag = nullptr;
    if (track_cursor_) {
        reported_cursor_ = poller_.cursor();
        last_modified = reported_cursor_.last_modified.c_str();
        etag = reported_cursor_.etag.c_str();
    }
    comet_js_messages(
        id_, reinterpret_cast<const uint8_t*>(response.body.data()), static_cast<uint32_t>(response.body.size()),
        reinterpret_cast<const uint32_t*>(deliver.messages.data()), static_cast<uint32_t>(deliver.messages.size()),
        reinterpret_cast<const uint8_t*>(values.data()), static_cast<uint32_t>(values.size()), last_modified, etag);
}

void FetchConnection::report(const Report& report, const Response* response) {
    const Response* described = report.has_response ? response : nullptr;
    // NUL-terminated copies for the trip across: errors are rare, the copies are small.
    std::string status_text(described ? described->status_text : std::string_view());
    std::string headers(described ? described->headers : std::string_view());
    std::string_view body = described && report.has_body ? described->body : std::string_view();
    comet_js_report(id_, report.status, name_of(report.text_status), report.error_thrown.c_str(), report.detail.c_str(),
                    static_cast<double>(report.retry_in), status_text.c_str(), headers.c_str(),
                    reinterpret_cast<const uint8_t*>(body.data()), static_cast<uint32_t>(body.size()),
                    described && report.has_body);
}

}  // namespace comet
