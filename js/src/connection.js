// The connection object that connect() returns, and the methods the wasm module calls on it
// (module.js routes them here by id). It carries out what the core decided: it decodes and
// delivers batches, reports errors, shows states, and hands storage, lock and channel work to
// tabs.js. It decides nothing about the stream.
import { PREFIX, describeValue, headerText } from './options.js';
import { decodeBatch, decodeText, makeXhrLike } from './decode.js';
import { rethrowLater } from './events.js';
import { TabLink, browserOnline, canShare, loadCursor, saveCursor } from './tabs.js';

// Marks polls that carry no cursor yet (see the core's cache_buster): unique per connection
// and page load.
var tokenCounter = 0;
function uniqueToken() {
  tokenCounter += 1;
  return Date.now().toString(36) + Math.random().toString(36).slice(2, 8) + tokenCounter.toString(36);
}

// `page` is what the connections of one jQuery share: its events, the module once it is
// ready, the connection lists.
export function Connection(page, urls, settings) {
  this.urls = urls;
  this.url = urls[0];
  this.options = settings;
  this.state = 'connecting';
  this.shared = false;  // with the shared option: 'leader' or 'follower'
  this._relayed = null;  // the other tab's batch or error the core is deciding about
  this._page = page;
  this._id = null;      // in the wasm module, once begun
  this._closed = false;
  this._tabs = null;
  this._headersError = null;  // what the headers function last threw, for onError
}

// The page's origin, for what the core says about a failure from another one.
function pageOrigin() {
  var origin = typeof location !== 'undefined' && location.origin;
  return origin && origin !== 'null' ? origin : '';
}

// What a headers function threw, rejected with or returned, as the end of the core's "GET
// <url> was not sent: ...".
function describeError(error, how) {
  // Headers that are not headers: headerText's own sentence.
  if (how === 'returned') return String(error.message).replace(PREFIX, '');
  var what = error instanceof Error ? String(error)
    // A jqXHR, from $.get(...) that failed.
    : error && typeof error === 'object' && 'status' in error && 'statusText' in error
      ? 'HTTP ' + error.status + ' ' + error.statusText : describeValue(error);
  return how === 'threw' ? 'the headers function threw ' + what
    : 'the headers function\'s promise was rejected with ' + what;
}

Connection.prototype.close = function () {
  if (this._closed) return this;
  var page = this._page;
  this._closed = true;
  var index = page.connections.indexOf(this);
  if (index >= 0) page.connections.splice(index, 1);
  index = page.pending.indexOf(this);
  if (index >= 0) page.pending.splice(index, 1);
  var from = this.state;
  this.state = 'closed';
  var id = this._id;
  if (id !== null) {
    page.wasm._signal(id, 0);  // close (bindings.cpp numbers the signals)
    delete page.byId[id];
    this._id = null;
    // This may run inside a handler called from this very connection: free it afterwards.
    setTimeout(function () { page.wasm._destroy(id); }, 0);
  }
  page.events.fire('comet', 'close', { connection: this, url: this.url });
  this._stateChanged(from);
  return this;
};

// Once the module is ready: the connection in wasm, and the browser's part for the core.
Connection.prototype._begin = function () {
  var page = this._page;
  var settings = this.options;
  var wasm = page.wasm;
  var share = settings.shared && canShare();
  // _openWith's arguments, in bindings.cpp's order; the flags are its OpenFlag bits.
  var id = wasm._openWith(
    this.urls.join('\n'),
    settings.requestMethod,
    settings.typeAttr,
    settings.dataAttr === null ? '' : settings.dataAttr,
    uniqueToken(),  // cacheBuster
    pageOrigin(),
    settings.timeout,
    settings.retryDelay,
    settings.maxRetryDelay,
    settings.maxResponseBytes,
    Math.floor(Math.random() * 4294967296),  // the backoff's seed, high and low halves
    Math.floor(Math.random() * 4294967296),
    (settings.debug ? 1 : 0) | (share ? 2 : 0) | (settings.resume ? 4 : 0) | (settings.withCredentials ? 8 : 0) |
      (settings.cursorInQuery ? 16 : 0) |
      // Always ask (32): $.ajaxSettings.headers are read before each poll, as $.ajax read them.
      32 | (typeof settings.headers === 'function' ? 64 : 0));
  this._id = id;
  page.byId[id] = this;
  if (share) this._tabs = new TabLink(wasm, id, this);
  var saved = settings.resume ? loadCursor(this.urls, settings) : null;
  wasm._begin(id, saved !== null, saved ? saved.lastModified : '', saved ? saved.etag : '', browserOnline());
};

// The `debug` option's console log.
Connection.prototype._log = function (method, line) {
  if (this.options.debug && window.console) window.console[method](PREFIX + line);
};

// Every change of this.state ends here: the debug line and comet.state.
Connection.prototype._stateChanged = function (from) {
  this._log('log', this.url + ': ' + from + ' -> ' + this.state);
  this._page.events.fire('comet', 'state', { connection: this, url: this.url, from: from, to: this.state });
};

Connection.prototype._deliver = function (types, datas) {
  var events = this._page.events;
  var bound = events.boundEvents();
  for (var i = 0; i < types.length && !this._closed; i++) events.deliverMessage(datas[i], types[i], bound);
};

Connection.prototype._xhrLike = function (status, statusText, headers, responseText) {
  var wasm = this._page.wasm;
  return makeXhrLike(status, statusText, headers, responseText, function (block, name) {
    return wasm._findHeader(block, name);
  });
};

Connection.prototype._report = function (status, textStatus, errorThrown, detail, retryIn, xhr, relay, cause) {
  if (this._closed) return;
  this._log('warn', detail);
  var thrown = textStatus === 'parsererror' && typeof errorThrown === 'string'
    ? new SyntaxError(errorThrown) : errorThrown;
  if (cause === 'headers' && this._headersError !== null) thrown = this._headersError;
  var onError = this.options.onError;
  if (onError) {
    try {
      onError.call(this, xhr, textStatus, thrown);
    } catch (error) {
      rethrowLater(error);
    }
  }
  if (this._closed) return;
  if (relay) {
    this._tabs.post({ kind: 'error', status: status, textStatus: textStatus, detail: detail, retryIn: retryIn,
                      errorThrown: typeof errorThrown === 'string' ? errorThrown : String(thrown && thrown.message),
                      statusText: xhr.statusText, headers: xhr.getAllResponseHeaders(), responseText: xhr.responseText,
                      cause: cause });
  }
  this._page.events.fire('comet', 'error', {
    connection: this,
    url: this.url,
    status: status,
    statusText: xhr.statusText,
    textStatus: textStatus,
    errorThrown: thrown,
    message: PREFIX + detail,
    retryIn: retryIn,
    cause: cause || 'server',
    refreshing: cause === 'refresh',
    xhr: xhr
  });
};

// ---------------------------------------------------------------------------------------------
// The calls from the wasm module (see module.js and src/wasm/bindings.cpp).

// A batch of this tab's poll; `relay`: post it to the other tabs first, with its cursors.
// Each run of 256 messages is parsed just before it is delivered (decode.js says why); a
// relayed batch is one run, since the other tabs get all of it first.
Connection.prototype._onBatch = function (body, messages, values, relay) {
  var runs = decodeBatch(body, messages, values, relay ? Infinity : 256);
  for (var r = 0; r < runs.length && !this._closed; r++) {
    var decoded = runs[r]();
    if (relay) {
      this._tabs.post({ kind: 'batch', previous: relay.previous, cursor: relay.cursor, types: decoded.types,
                        datas: decoded.datas });
    }
    this._deliver(decoded.types, decoded.datas);
    // The core validated these messages' JSON; reaching here means the two disagree. Reported,
    // skipped.
    for (var i = 0; i < decoded.failures.length && !this._closed; i++) {
      var failure = decoded.failures[i];
      this._report(200, 'parsererror', failure.error, failure.error.message, 0,
                   this._xhrLike(200, 'OK', '', failure.text), false);
    }
  }
};

Connection.prototype._onReport = function (status, textStatus, errorThrown, detail, retryIn, statusText, headers,
                                          body, relay, cause) {
  var responseText = body ? decodeText(body, 0, body.length) : '';
  this._report(status, textStatus, errorThrown, detail, retryIn, this._xhrLike(status, statusText, headers, responseText),
               relay, cause);
};

// The headers for request `requestId` of this tab's poll: $.ajaxSettings.headers under the
// `headers` option's (an object, or what its function returns or resolves to). Answered at
// once when they are at hand; a failure goes back to the core, which reports it and backs off.
Connection.prototype._onAsk = function (requestId, refresh) {
  var self = this;
  var id = this._id;
  var wasm = this._page.wasm;
  var option = this.options.headers;
  var asFunction = typeof option === 'function';
  var settled = false;
  function fail(error, how) {
    if (settled || self._id !== id) return;
    settled = true;
    self._headersError = error;
    wasm._headersFailed(id, requestId, describeError(error, how));
  }
  function answer(own) {
    if (settled || self._id !== id) return;
    var ajax = self._page.$.ajaxSettings;
    var text;
    try {
      text = headerText(own, asFunction ? 'the headers function' : 'option "headers"', ajax && ajax.headers,
                        '$.ajaxSettings.headers');
    } catch (error) {
      fail(error, 'returned');
      return;
    }
    settled = true;
    wasm._headers(id, requestId, text);
  }
  if (!asFunction) {
    answer(option);
    return;
  }
  var result;
  try {
    result = option.call(this, { url: this.url, refresh: refresh });
  } catch (error) {
    fail(error, 'threw');
    return;
  }
  if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
    try {
      result.then(answer, function (reason) { fail(reason, 'rejected'); });
    } catch (error) {
      fail(error, 'threw');
    }
  } else {
    answer(result);
  }
};

// The other tab's batch or error in hand: "deliver", "drop" (a late copy) or "report".
Connection.prototype._onRelayed = function (what) {
  var message = this._relayed;
  if (what === 'deliver') {
    // Another tab (another version, say) might post something else than two arrays.
    if (Array.isArray(message.types) && Array.isArray(message.datas)) this._deliver(message.types, message.datas);
  } else if (what === 'report') {
    this._report(message.status, message.textStatus, message.errorThrown, message.detail, message.retryIn,
                 this._xhrLike(message.status, message.statusText, message.headers, message.responseText), false,
                 message.cause);
  } else {
    this._log('log', this.url + ': a batch from another tab is a late copy of messages this tab has; dropped');
  }
};

Connection.prototype._onState = function (from, to) {
  if (this._closed) return;
  this.state = to;
  if (to === 'open') this._page.events.fire('comet', 'open', { connection: this, url: this.url });
  this._stateChanged(from);
};

Connection.prototype._onUrl = function (index) {
  this.url = this.urls[index];
};

Connection.prototype._onSave = function (cursor) {
  saveCursor(this.urls, this.options, cursor);
};

Connection.prototype._onPost = function (kind, cursor, state) {
  this._tabs.post(kind === 'welcome' ? { kind: kind, cursor: cursor, state: state }
    : kind === 'state' ? { kind: kind, to: state } : { kind: kind });
};

Connection.prototype._onLock = function (what) {
  if (what === 'request') this.shared = 'follower';
  this._tabs.lock(what);
};

Connection.prototype._onLog = function (warning, text) {
  this._log(warning ? 'warn' : 'log', text);
};
