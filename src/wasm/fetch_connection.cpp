#include "fetch_connection.hpp"

#include <emscripten/em_js.h>
#include <emscripten/emscripten.h>
#include <emscripten/eventloop.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "bindings.hpp"
#include "connection.hpp"
#include "http_text.hpp"

// emscripten_fetch_close() does not abort the XHR underneath (see the Emscripten notes): the
// server would keep the connection and a late answer would hit a freed struct. Aborting the
// XHR first ends the request for real (an aborted XHR fires neither load nor error); the close
// that follows calls onerror for the unfinished fetch, which fetch_finished ignores (fetch_ no
// longer names it).
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

namespace comet {

namespace {

// emscripten_fetch copies the URL and the request headers into the struct, and the XHR is
// opened with them before it returns (fetch_trim.js reads them there, once). Nothing reads
// them again, yet they would stay until the fetch is closed: for a long poll, the whole time a
// connection idles (the URL, and the cursor twice over: some 200 B of wasm heap). Freed here;
// the pointers are nulled, so emscripten_fetch_close's free of them does nothing.
void free_request_copies(emscripten_fetch_t* fetch) {
    std::free(const_cast<char*>(fetch->url));
    fetch->url = nullptr;
    if (const char* const* headers = fetch->__attributes.requestHeaders) {
        for (size_t i = 0; headers[i]; ++i) std::free(const_cast<char*>(headers[i]));
        std::free(const_cast<const char**>(headers));
        fetch->__attributes.requestHeaders = nullptr;
    }
}

}  // namespace

Millis now_ms() { return static_cast<Millis>(std::floor(emscripten_get_now())); }

FetchConnection::FetchConnection(uint32_t id, PollerConfig config, bool debug, Connection& owner)
    : id_(id), debug_(debug), owner_(owner), poller_(std::move(config)) {}

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
}

PollerConfig FetchConnection::take_config() {
    close();
    return poller_.release_config();
}

void FetchConnection::on_fetch_success(emscripten_fetch_t* fetch) {
    static_cast<FetchConnection*>(fetch->userData)->fetch_finished(fetch, true);
}

void FetchConnection::on_fetch_error(emscripten_fetch_t* fetch) {
    static_cast<FetchConnection*>(fetch->userData)->fetch_finished(fetch, false);
}

// Without streaming, dataOffset is how much has arrived and totalBytes what Content-Length
// promises: the Poller abandons a response that grows too large before it is all in memory.
void FetchConnection::on_fetch_progress(emscripten_fetch_t* fetch) {
    auto* self = static_cast<FetchConnection*>(fetch->userData);
    if (fetch != self->fetch_) return;
    Response headers_only;
    headers_only.status = fetch->status;
    headers_only.headers = self->headers_of(fetch);
    if (self->poller_.on_progress(now_ms(), self->fetch_request_id_, headers_only, fetch->dataOffset,
                                  fetch->totalBytes))
        self->run_actions(&headers_only);
}

// Read once per response, at its first progress event or at its end.
const std::string& FetchConnection::headers_of(emscripten_fetch_t* fetch) {
    if (!headers_read_) {
        char* block = comet_response_headers(fetch->id);
        headers_.assign(block);
        std::free(block);
        headers_read_ = true;
    }
    return headers_;
}

void FetchConnection::on_timer(void* self) {
    auto* connection = static_cast<FetchConnection*>(self);
    connection->timer_id_ = 0;
    connection->timer_at_ = -1;
    connection->feed(&Poller::on_timer);
}

void FetchConnection::fetch_finished(emscripten_fetch_t* fetch, bool success) {
    // Only the current fetch may speak. A fetch we are closing ourselves calls back from
    // inside emscripten_fetch_close (status 65535); it must be left alone, not closed twice.
    if (fetch != fetch_) return;
    fetch_ = nullptr;
    uint64_t id = fetch_request_id_;
    Millis now = now_ms();
    if (debug_) {
        js::log(
            id_, false,
            concat({poller_.url(), ": ",
                    fetch->status ? concat({"HTTP ", decimal(fetch->status), ", ", decimal(fetch->numBytes), " bytes"})
                                  : std::string("no HTTP response (network failure)")}));
    }
    if (!success && fetch->status == 0) {
        poller_.on_network_failure(now, id);
        run_actions(nullptr);
    } else {
        Response response;
        response.status = fetch->status;
        response.status_text =
            std::string_view(fetch->statusText, strnlen(fetch->statusText, sizeof fetch->statusText));
        response.headers = headers_of(fetch);
        response.body = std::string_view(fetch->data ? fetch->data : "", static_cast<size_t>(fetch->numBytes));
        poller_.on_response(now, id, response);
        run_actions(&response);
    }
    // Not needed again until the next response, whichever way this one ended (a progress event
    // may have read it before a network failure): an idle connection keeps no header block.
    std::string().swap(headers_);
    headers_read_ = false;
    emscripten_fetch_close(fetch);
}

// One action at a time: carrying one out may call back into this connection (a handler that
// closes it), and the Poller's queue then holds only what that input decided.
void FetchConnection::run_actions(const Response* response) {
    bool outer = !running_;
    running_ = true;
    while (std::optional<Action> action = poller_.take_action()) {
        switch (action->kind) {
            case Action::StartRequest: start_fetch(*action); break;
            case Action::AskHeaders: js::ask_headers(id_, action->request_id, action->refresh); break;
            case Action::AbortRequest: abort_fetch(); break;
            case Action::Deliver: owner_.delivered(*action, *response); break;  // only ever answers a response
            case Action::Report: owner_.reported(*action, response); break;
            case Action::StateChanged: owner_.state_changed(action->from, action->to); break;
            case Action::UrlChanged: owner_.url_changed(action->index); break;
        }
    }
    if (outer) running_ = false;
    arm_timer();
}

void FetchConnection::start_fetch(const Action& request) {
    abort_fetch();
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
    attr.withCredentials = request.with_credentials;
    // Name, value, name, value, ..., null: sized once, so no vector's growth code is linked.
    std::unique_ptr<const char*[]> headers(new const char*[request.headers.size() * 2 + 1]);
    size_t at = 0;
    for (const Header& header : request.headers) {
        headers[at++] = header.name.c_str();
        headers[at++] = header.value.c_str();
    }
    headers[at] = nullptr;
    attr.requestHeaders = headers.get();
    fetch_request_id_ = request.request_id;
    headers_read_ = false;
    if (debug_) {
        std::string line = concat({request.method, " ", request.url});
        // The cursor's values; not the page's own, which may be credentials.
        for (size_t i = 0; i < request.headers.size(); ++i) {
            const Header& header = request.headers[i];
            bool cursor = iequals(header.name, "If-None-Match") || iequals(header.name, "If-Modified-Since");
            line += concat({i ? ", " : " (", header.name, ": ", cursor ? std::string_view(header.value) : "(hidden)"});
        }
        js::log(id_, false, request.headers.empty() ? line : line + ")");
    }
    // The XHR is opened and sent inside this call. Should send() throw (fetch_trim.js), onerror
    // would arrive before fetch_ names the fetch and be ignored, leaving the request to the
    // Poller's timeout. The options are checked up front (method, headers, URLs resolved with
    // new URL(); js/src/options.js) so that neither open() nor send() throws.
    fetch_ = emscripten_fetch(&attr, request.url.c_str());
    if (fetch_) free_request_copies(fetch_);
}

// The page answers either later or at once, from inside js::ask_headers: then the actions
// still queued behind the AskHeaders may point into the response being handled, and the loop
// already running carries them out, with it, before the request the answer adds.
void FetchConnection::headers_answered(uint64_t request_id, std::vector<Header> headers) {
    if (poller_.on_headers(now_ms(), request_id, std::move(headers)) && !running_) run_actions(nullptr);
}

void FetchConnection::headers_failed(uint64_t request_id, std::string error) {
    if (poller_.on_headers_failed(now_ms(), request_id, std::move(error)) && !running_) run_actions(nullptr);
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

}  // namespace comet
