/*
 * jquery.comet: the jQuery face of the WebAssembly long-poll client.
 *
 * This file is appended after the Emscripten module factory (createCometModule) at link time,
 * so dist/jquery.comet.js is one file. The C++ core decides everything (what to request,
 * when, with which cursor, what a response means); this shim validates options, queues
 * connections until the module is ready, decodes each batch of messages once and fires the
 * jQuery events. Every event leaves through fire(), where the rules about what may reach
 * jQuery live.
 */
(function (global, createModule, wasmHex) {
  'use strict';

  // Installs $.comet on the jQuery it is given (once per jQuery) and returns that jQuery.
  function attach($) {
    if (!$ || !$.fn || !$.event || typeof $.event.dispatch !== 'function' || typeof $.Event !== 'function') {
      throw new Error('jquery.comet: needs jQuery: load jquery.js before jquery.comet.js, or pass ' +
                      'jQuery to the function that require("jquery.comet") returns');
    }
    // Once per jQuery; an old jquery.comet plugin found there is replaced (this is its drop-in).
    if ($.comet && $.comet._wasmClient) return $;

    var PREFIX = 'jquery.comet: ';
    var textDecoder = new TextDecoder('utf-8');
    var hasOwn = Object.prototype.hasOwnProperty;

    var defaults = {
      timeout: 60000,
      onError: null,
      requestMethod: 'GET',
      typeAttr: 'type',
      dataAttr: 'data',
      retryDelay: 1000,
      maxRetryDelay: 30000,
      maxResponseBytes: 16 * 1024 * 1024,
      debug: false,
      shared: false,
      resume: null
    };

    // ---------------------------------------------------------------------------------------
    // Options

    function describeValue(value) {
      if (value === null) return 'null';
      if (typeof value === 'string') return JSON.stringify(value);
      if (typeof value === 'number' || typeof value === 'boolean') return String(value);
      return typeof value;
    }

    function optionError(Kind, name, expected, value) {
      return new Kind(PREFIX + 'option "' + name + '" must be ' + expected + ', got ' + describeValue(value));
    }

    function checkMilliseconds(settings, name, min) {
      var value = settings[name];
      if (typeof value !== 'number' || value !== value) {
        throw optionError(TypeError, name, 'a number of milliseconds', value);
      }
      if (value < min || value > 2147483647) {
        throw optionError(RangeError, name, 'between ' + min + ' and 2147483647 milliseconds', value);
      }
    }

    // Returns the settings for one connection: defaults merged with options, checked.
    function settle(options) {
      if (options !== undefined && options !== null && typeof options !== 'object') {
        throw new TypeError(PREFIX + 'options must be an object, got ' + describeValue(options));
      }
      var settings = $.extend({}, $.comet.defaults, options);
      checkMilliseconds(settings, 'timeout', 0);
      checkMilliseconds(settings, 'retryDelay', 1);
      checkMilliseconds(settings, 'maxRetryDelay', 1);
      if (settings.maxRetryDelay < settings.retryDelay) {
        throw optionError(RangeError, 'maxRetryDelay', 'at least retryDelay (' + settings.retryDelay + ')',
                          settings.maxRetryDelay);
      }
      var limit = settings.maxResponseBytes;
      if (typeof limit !== 'number' || limit !== limit) {
        throw optionError(TypeError, 'maxResponseBytes', 'a number of bytes', limit);
      }
      if (limit < 1024 || limit > 1073741824 || Math.floor(limit) !== limit) {
        throw optionError(RangeError, 'maxResponseBytes', 'a whole number between 1024 and 1073741824', limit);
      }
      if (settings.onError !== null && settings.onError !== undefined && typeof settings.onError !== 'function') {
        throw optionError(TypeError, 'onError', 'a function or null', settings.onError);
      }
      if (typeof settings.requestMethod !== 'string' || !/^[A-Za-z]+$/.test(settings.requestMethod)) {
        throw optionError(TypeError, 'requestMethod', 'an HTTP method name such as "GET"', settings.requestMethod);
      }
      settings.requestMethod = settings.requestMethod.toUpperCase();
      if (/^(CONNECT|TRACE|TRACK)$/.test(settings.requestMethod)) {
        throw optionError(TypeError, 'requestMethod', 'a method browsers allow', settings.requestMethod);
      }
      if (typeof settings.typeAttr !== 'string' || settings.typeAttr === '') {
        throw optionError(TypeError, 'typeAttr', 'a non-empty string', settings.typeAttr);
      }
      if (settings.dataAttr !== null && (typeof settings.dataAttr !== 'string' || settings.dataAttr === '')) {
        throw optionError(TypeError, 'dataAttr', 'a non-empty string or null', settings.dataAttr);
      }
      if (typeof settings.debug !== 'boolean') {
        throw optionError(TypeError, 'debug', 'true or false', settings.debug);
      }
      if (typeof settings.shared !== 'boolean') {
        throw optionError(TypeError, 'shared', 'true or false', settings.shared);
      }
      if (settings.resume === false || settings.resume === undefined) settings.resume = null;
      if (settings.resume !== null && settings.resume !== 'session' && settings.resume !== 'persist') {
        throw optionError(TypeError, 'resume', '"session", "persist" or null', settings.resume);
      }
      return settings;
    }

    // One URL, or several instances of one server (sharing their message store) to fail over
    // between, in order of preference.
    function resolveUrls(url) {
      if (!Array.isArray(url)) return [resolveUrl(url)];
      if (url.length === 0) {
        throw new TypeError(PREFIX + 'connect(urls, options) needs at least one URL, got an empty array');
      }
      return url.map(resolveUrl);
    }

    function resolveUrl(url) {
      if (typeof url !== 'string' || url === '') {
        throw new TypeError(PREFIX + 'connect(url, options) needs the URL of the comet server as a string, got ' +
                            describeValue(url));
      }
      try {
        var absolute = new URL(url, global.location.href);
        absolute.hash = '';  // never sent, and the core appends to the query
        return absolute.href;
      } catch (e) {
        throw new TypeError(PREFIX + 'connect(url, options): ' + JSON.stringify(url) + ' is not a valid URL');
      }
    }

    // ---------------------------------------------------------------------------------------
    // Events

    // A server-chosen type may name a jQuery event only when it cannot escape its own handlers:
    // no '.' (namespaces), no whitespace (several events), no name that Object.prototype or
    // jQuery's special-event hooks already use. Other types still reach comet.message.
    function isSafeType(type) {
      return type.length > 0 && type.length <= 256 && !/[\s.]/.test(type) &&
        !(type in Object.prototype) && !hasOwn.call($.event.special, type);
    }

    function rethrowLater(error) {
      setTimeout(function () { throw error; }, 0);
    }

    // The one way out to jQuery: the handlers bound on document for `type` in `namespace` run,
    // with (event, args...), and nothing else does. This is what jQuery's triggerHandler does
    // for them (it builds the event the same way and calls jQuery.event.dispatch), without the
    // rest of trigger: no native default action (a type "open" must not call document.open()),
    // no special-event hooks, no bubbling, and no document.on<type> property handler, which a
    // server-chosen type could otherwise reach (document.onkeydown, onvisibilitychange, ...).
    // Skipping the rest of trigger (parsing the name, the event path) also makes a dispatch
    // about half as costly.
    // A handler that throws does not stop the batch, the message's other event or the
    // connection; its error is rethrown on its own so the page still sees it.
    var document = global.document;
    var namespaceTests = {};  // namespace -> the RegExp jQuery's trigger would build for it

    function fire(type, namespace, args) {
      var event = new $.Event(type);
      event.isTrigger = 2;  // what triggerHandler sets: jQuery handlers only
      event.namespace = namespace;
      event.rnamespace = namespaceTests[namespace] ||
        (namespaceTests[namespace] = new RegExp('(^|\\.)' + namespace + '(\\.|$)'));
      event.result = undefined;
      event.target = document;
      try {
        $.event.dispatch.apply(document, [event].concat(args));
      } catch (error) {
        rethrowLater(error);
      }
    }

    // Whether any handler is bound on document for an event type. Dispatching through jQuery
    // costs more than everything else a message needs, so events nobody listens to are not
    // dispatched at all; listeners see exactly what they would otherwise. Where jQuery's
    // internal data is not reachable, everything is dispatched.
    function listened(events, type) {
      if (events === undefined) return true;
      var handlers = events && hasOwn.call(events, type) ? events[type] : null;
      return !!(handlers && handlers.length);
    }

    function boundEvents() {
      return typeof $._data === 'function' ? ($._data(document, 'events') || null) : undefined;
    }

    function deliverMessage(data, type, events) {
      // The original fired "<type>.comet"; untyped messages became "null.comet", kept for
      // drop-in compatibility.
      var perType = type === null ? 'null' : type;
      if (isSafeType(perType) && listened(events, perType)) fire(perType, 'comet', [data, type]);
      if (listened(events, 'comet')) fire('comet', 'message', [data, type]);
    }

    // ---------------------------------------------------------------------------------------
    // Decoding a batch: `messages` is [flags, typeOffset, typeLength, dataOffset, dataLength]
    // per message, offsets into the body (flags: 1 JSON data, 2 string type, 4 number/true
    // type); `values` is the JSON messages' type and data values gathered by the core into one
    // JSON array, [type, data, type, data, ...], parsed with a single JSON.parse.

    function decodeText(body, offset, length) {
      return textDecoder.decode(body.subarray(offset, offset + length));
    }

    // A batch's text: when every byte of the body is one character (ASCII, the common case),
    // the whole body is decoded once and each message is a substring at its byte offsets;
    // otherwise each span is decoded on its own.
    function batchText(body) {
      var whole = textDecoder.decode(body);
      if (whole.length === body.length) {
        return function (offset, length) { return whole.substring(offset, offset + length); };
      }
      return function (offset, length) { return decodeText(body, offset, length); };
    }

    // The type a message's type value names: a non-empty string, or a number or true as a
    // string; anything else leaves it untyped (the original ignored a falsy type).
    function typeOf(value) {
      return typeof value === 'string' ? value || null : value ? String(value) : null;
    }

    function gatheredValues(values) {
      if (!values.length) return null;
      try {
        return JSON.parse(textDecoder.decode(values));
      } catch (error) {
        return null;  // the core and JSON.parse disagree somewhere: each message on its own
      }
    }

    function parseHeaders(block) {
      var headers = {};
      (block || '').split(/\r?\n/).forEach(function (line) {
        var colon = line.indexOf(':');
        if (colon <= 0) return;
        var name = line.slice(0, colon).trim().toLowerCase();
        var value = line.slice(colon + 1).trim();
        headers[name] = hasOwn.call(headers, name) ? headers[name] + ', ' + value : value;
      });
      return headers;
    }

    // What onError receives as its first argument: the parts of jqXHR that error handlers use.
    function makeXhrLike(status, statusText, headerBlock, responseText) {
      var headers = null;
      return {
        readyState: 4,
        status: status,
        statusText: statusText || (status ? '' : 'error'),
        responseText: responseText,
        getResponseHeader: function (name) {
          headers = headers || parseHeaders(headerBlock);
          var key = String(name).toLowerCase();
          return hasOwn.call(headers, key) ? headers[key] : null;
        },
        getAllResponseHeaders: function () { return headerBlock || ''; }
      };
    }

    // ---------------------------------------------------------------------------------------
    // Connections

    // Marks polls that carry no cursor yet (see the core's cache_buster): unique per connection
    // and page load.
    var tokenCounter = 0;
    function uniqueToken() {
      tokenCounter += 1;
      return Date.now().toString(36) + Math.random().toString(36).slice(2, 8) + tokenCounter.toString(36);
    }

    var wasm = null;
    var moduleFailure = null;
    var pending = [];
    var connections = [];
    var byId = {};  // the connections the wasm module knows, by the id it gave them

    function live(id) {
      return hasOwn.call(byId, id) ? byId[id] : null;
    }

    // What a connection can be asked to do: the numbers of bindings.cpp's Command.
    var START = 0, CLOSE = 1, GO_OFFLINE = 2, GO_ONLINE = 3, SUSPEND = 4, RESUME = 5, DESTROY = 6;

    var NO_CURSOR = { lastModified: '', etag: '' };

    // A cursor from storage or from another tab is taken only when the core finds it a whole
    // message id: one cut short would send the server somewhere else in the stream.
    function wholeCursor(cursor) {
      return !!cursor && typeof cursor.lastModified === 'string' && typeof cursor.etag === 'string' &&
        wasm._wholeCursor(cursor.lastModified, cursor.etag);
    }

    function Connection(urls, settings) {
      this.urls = urls;
      this.url = urls[0];
      this.options = settings;
      this.state = 'connecting';
      this.shared = false;   // with the shared option: 'leader' or 'follower'
      this._native = null;
      this._closed = false;
      this._cursor = NO_CURSOR;
      this._share = null;
    }

    Connection.prototype.close = function () {
      if (this._closed) return this;
      this._closed = true;
      var index = connections.indexOf(this);
      if (index >= 0) connections.splice(index, 1);
      index = pending.indexOf(this);
      if (index >= 0) pending.splice(index, 1);
      var from = this.state;
      this.state = 'closed';
      this._stopPolling();
      if (this._share) this._share.leave();
      fire('comet', 'close', [{ connection: this, url: this.url }]);
      this._stateChanged(from);
      return this;
    };

    Connection.prototype._begin = function () {
      if (this.options.resume) this._cursor = loadCursor(this) || NO_CURSOR;
      if (this.options.shared && canShare()) {
        this._share = new Share(this);
      } else {
        this._startPolling();
      }
    };

    // Starts this tab's own poll, from the cursor it has.
    Connection.prototype._startPolling = function () {
      var settings = this.options;
      this.url = this.urls[0];
      this._native = wasm._open(this.urls.join('\n'), settings.requestMethod, settings.timeout, settings.retryDelay,
                                settings.maxRetryDelay, settings.maxResponseBytes, settings.typeAttr,
                                settings.dataAttr === null ? '' : settings.dataAttr, uniqueToken(),
                                Math.floor(Math.random() * 4294967296), Math.floor(Math.random() * 4294967296),
                                this._cursor.lastModified, this._cursor.etag, settings.debug,
                                !!(settings.resume || this._share));
      byId[this._native] = this;
      wasm._command(this._native, START);
      if (global.navigator && global.navigator.onLine === false) wasm._command(this._native, GO_OFFLINE);
    };

    Connection.prototype._stopPolling = function () {
      var id = this._native;
      if (id === null) return;
      this._native = null;
      delete byId[id];
      wasm._command(id, CLOSE);
      // This may run inside a handler called from this very connection: free it afterwards.
      setTimeout(function () { wasm._command(id, DESTROY); }, 0);
    };

    // The `debug` option's console log: one line per request, response, state change, error.
    Connection.prototype._log = function (method, line) {
      if (this.options.debug && global.console) global.console[method](PREFIX + line);
    };

    // Every change of this.state ends here: the debug line and comet.state.
    Connection.prototype._stateChanged = function (from) {
      this._log('log', this.url + ': ' + from + ' -> ' + this.state);
      fire('comet', 'state', [{ connection: this, url: this.url, from: from, to: this.state }]);
    };

    Connection.prototype._onState = function (from, to) {
      if (this._closed) return;
      // A shared connection's state goes on across leaders: it changes from what it was.
      if (this._share) from = this.state;
      if (from === to) return;
      this.state = to;
      if (this._share) this._share.send({ kind: 'state', to: to });
      if (to === 'open') fire('comet', 'open', [{ connection: this, url: this.url }]);
      this._stateChanged(from);
    };

    Connection.prototype._onMessages = function (body, messages, values, cursor) {
      // Decode the whole batch before any handler runs: the views point into wasm memory.
      var count = messages.length / 5;
      var gathered = gatheredValues(values);
      var text = null;
      var datas = new Array(count);
      var types = new Array(count);
      var failures = [];
      for (var i = 0, d = 0, v = 0; i < count; i++, d += 5) {
        var flags = messages[d];
        if ((flags & 1) && gathered) {
          types[i] = typeOf(gathered[v]);
          datas[i] = gathered[v + 1];
          v += 2;
          continue;
        }
        text = text || batchText(body);
        var raw = text(messages[d + 3], messages[d + 4]);
        if (!(flags & 1)) {
          types[i] = null;
          datas[i] = raw;
          continue;
        }
        try {
          datas[i] = JSON.parse(raw);
          types[i] = flags & 6 ? typeOf(JSON.parse(text(messages[d + 1], messages[d + 2]))) : null;
        } catch (error) {
          // The core validated this JSON; reaching here means the two disagree. Report, skip.
          types[i] = undefined;
          failures.push({ error: error, text: raw });
        }
      }
      if (failures.length) {
        var kept = [];
        for (i = 0; i < count; i++) if (types[i] !== undefined) kept.push(i);
        types = kept.map(function (k) { return types[k]; });
        datas = kept.map(function (k) { return datas[k]; });
      }
      // Other tabs get the batch before this tab's handlers can change what it holds.
      if (cursor && this._share) {
        this._share.send({ kind: 'batch', previous: this._cursor, cursor: cursor, types: types, datas: datas });
      }
      this._deliver(types, datas);
      if (cursor) this._moveCursor(cursor);
      for (i = 0; i < failures.length && !this._closed; i++) {
        this._onReport(200, 'parsererror', failures[i].error, failures[i].error.message, 0,
                       makeXhrLike(200, 'OK', '', failures[i].text));
      }
    };

    Connection.prototype._deliver = function (types, datas) {
      var events = boundEvents();
      for (var i = 0; i < types.length && !this._closed; i++) deliverMessage(datas[i], types[i], events);
    };

    // The cursor after what this tab has delivered: saved for a reload with `resume`.
    Connection.prototype._moveCursor = function (cursor) {
      if (this._share) this._share.moved(this._cursor);
      this._cursor = cursor;
      if (this.options.resume && !this._closed) saveCursor(this);
    };

    // The cursor moved without a batch (an oversized message was skipped).
    Connection.prototype._onCursor = function (cursor) {
      if (this._share) this._share.send({ kind: 'batch', previous: this._cursor, cursor: cursor, types: [], datas: [] });
      this._moveCursor(cursor);
    };

    Connection.prototype._onReport = function (status, textStatus, errorThrown, detail, retryIn, xhr) {
      if (this._closed) return;
      this._log('warn', detail);
      var thrown = textStatus === 'parsererror' && typeof errorThrown === 'string'
        ? new SyntaxError(errorThrown) : errorThrown;
      var onError = this.options.onError;
      if (onError) {
        try {
          onError.call(this, xhr, textStatus, thrown);
        } catch (error) {
          rethrowLater(error);
        }
      }
      if (this._closed) return;
      if (this._share) {
        this._share.send({ kind: 'error', status: status, textStatus: textStatus, detail: detail, retryIn: retryIn,
                           errorThrown: typeof errorThrown === 'string' ? errorThrown : String(thrown && thrown.message),
                           statusText: xhr.statusText, headers: xhr.getAllResponseHeaders(), responseText: xhr.responseText });
      }
      fire('comet', 'error', [{
        connection: this,
        url: this.url,
        status: status,
        statusText: xhr.statusText,
        textStatus: textStatus,
        errorThrown: thrown,
        message: PREFIX + detail,
        retryIn: retryIn,
        xhr: xhr
      }]);
    };

    // ---------------------------------------------------------------------------------------
    // Resuming after a reload (resume: 'session' | 'persist'): the cursor after the last batch
    // delivered, kept in sessionStorage or localStorage under the connection's method and URLs.

    function cursorStore(connection) {
      try {
        return connection.options.resume === 'persist' ? global.localStorage : global.sessionStorage;
      } catch (e) {
        return null;  // storage disabled (sandboxed frame, privacy settings): no resume
      }
    }

    function cursorKey(connection) {
      return 'jquery.comet cursor ' + connection.options.requestMethod + ' ' + connection.urls.join(' ');
    }

    function loadCursor(connection) {
      try {
        var saved = JSON.parse(cursorStore(connection).getItem(cursorKey(connection)));
        if (wholeCursor(saved)) {
          connection._log('log', connection.url + ': resuming after If-None-Match ' + saved.etag);
          return { lastModified: saved.lastModified, etag: saved.etag };
        }
        if (saved) connection._log('warn', connection.url + ': the saved cursor is not a whole message id; starting anew');
      } catch (e) {
        // nothing saved, or not readable: start as a new subscriber
      }
      return null;
    }

    function saveCursor(connection) {
      try {
        cursorStore(connection).setItem(cursorKey(connection), JSON.stringify(connection._cursor));
      } catch (e) {
        // storage full or disabled: the stream goes on, only a reload will not resume
      }
    }

    // ---------------------------------------------------------------------------------------
    // One poll for all tabs (shared: true). The tabs of an origin that connect to the same
    // URLs with the same options ask one Web Lock; its holder, the leader, polls, and hands
    // every batch, state change and error to the others over a BroadcastChannel. When the
    // leader closes or its tab dies, the browser gives the lock to the next tab, which polls
    // from the cursor of the last batch it delivered.
    //
    // Every batch carries the cursor before it and after it. A tab delivers a batch that
    // starts where it stands; one that starts at a cursor it has already moved past is a late
    // copy of messages it has (the old leader's last batch, arriving after the new leader
    // fetched the same messages itself) and is dropped; one from anywhere else is delivered
    // (this tab missed something, e.g. while frozen, and cannot get it back).

    var TAKEOVER_SETTLE_MS = 100;  // a new leader first takes what the old one sent just before it went
    var HISTORY = 64;              // cursors a tab remembers having moved past

    function canShare() {
      return typeof global.BroadcastChannel === 'function' && !!global.navigator && !!global.navigator.locks &&
        typeof global.navigator.locks.request === 'function';
    }

    function sameCursor(a, b) {
      return a.etag === b.etag && a.lastModified === b.lastModified;
    }

    function Share(connection) {
      var settings = connection.options;
      var name = 'jquery.comet ' + JSON.stringify([connection.urls, settings.requestMethod, settings.typeAttr,
                                                    settings.dataAttr]);
      var share = this;
      this.connection = connection;
      this.history = [];
      this.channel = new global.BroadcastChannel(name);
      this.channel.onmessage = function (event) { share.receive(event.data); };
      this.abort = typeof global.AbortController === 'function' ? new global.AbortController() : null;
      this.release = null;
      this.name = name;
      this.channel.postMessage({ kind: 'hello' });
      this.follow();
    }

    // Waits for the lock, following the leader meanwhile.
    Share.prototype.follow = function () {
      var share = this;
      var connection = this.connection;
      connection.shared = 'follower';
      connection._log('log', connection.url + ': following the tab that polls (shared)');
      global.navigator.locks.request(this.name, this.abort ? { signal: this.abort.signal } : {}, function () {
        if (connection._closed) return null;
        return new Promise(function (resolve) {
          share.release = resolve;
          share.lead();
        });
      })['catch'](function () {});  // AbortError: closed before it led
    };

    Share.prototype.lead = function () {
      var share = this;
      var connection = this.connection;
      var granted = this.release;
      connection.shared = 'leader';
      connection._log('log', connection.url + ': this tab polls for all tabs (shared)');
      setTimeout(function () {
        // Still leading (not closed, not resigned into the back/forward cache meanwhile)?
        if (share.release === granted && !connection._closed) connection._startPolling();
      }, TAKEOVER_SETTLE_MS);
    };

    // To the other tabs; only the leader speaks.
    Share.prototype.send = function (message) {
      if (this.connection.shared === 'leader') this.channel.postMessage(message);
    };

    Share.prototype.moved = function (previous) {
      this.history.push(previous);
      if (this.history.length > HISTORY) this.history.shift();
    };

    Share.prototype.receive = function (message) {
      var connection = this.connection;
      if (connection._closed || !message) return;
      var leading = connection.shared === 'leader';
      if (message.kind === 'hello') {
        // A tab joined: tell it where the stream stands, so it can take over from there.
        if (leading) this.channel.postMessage({ kind: 'welcome', cursor: connection._cursor, state: connection.state });
        return;
      }
      if (leading && connection._native !== null) return;  // this tab polls: it has it all
      if (message.kind === 'batch') {
        var standing = connection._cursor;
        if (!sameCursor(message.previous, standing) &&
            this.history.some(function (past) { return sameCursor(past, message.previous); })) {
          return;  // a late copy of messages this tab already has
        }
        connection._deliver(message.types, message.datas);
        if (wholeCursor(message.cursor)) {
          connection._moveCursor(message.cursor);
        } else {
          connection._log('warn', connection.url + ': a batch from another tab came with a cursor that is not whole; ' +
                          'this tab keeps its own');
        }
      } else if (message.kind === 'welcome') {
        if (sameCursor(connection._cursor, NO_CURSOR) && wholeCursor(message.cursor)) {
          connection._moveCursor(message.cursor);
        }
        if (message.state !== 'closed') connection._onState(connection.state, message.state);
      } else if (message.kind === 'state') {
        if (message.to !== 'closed') connection._onState(connection.state, message.to);
      } else if (message.kind === 'error') {
        connection._onReport(message.status, message.textStatus, message.errorThrown, message.detail, message.retryIn,
                             makeXhrLike(message.status, message.statusText, message.headers, message.responseText));
      }
    };

    // The page is going into the back/forward cache: another tab polls meanwhile.
    Share.prototype.resign = function () {
      if (!this.release) return;
      this.connection._stopPolling();
      var release = this.release;
      this.release = null;
      release();
      this.follow();
    };

    // The connection closed: let the next tab lead, or stop waiting to.
    Share.prototype.leave = function () {
      if (this.release) this.release();
      if (this.abort) this.abort.abort();
      this.channel.close();
    };

    function failPending(error) {
      moduleFailure = error;
      var waiting = pending;
      pending = [];
      waiting.forEach(function (connection) {
        connection.state = 'closed';
        connection._onReport(0, 'error', error, 'the WebAssembly module could not start: ' + error.message, 0,
                             makeXhrLike(0, 'error', '', ''));
      });
    }

    // The browser's view of the network and of the page's life reaches every connection: no
    // polling while offline (try at once when back), nothing open while the page sits in the
    // back/forward cache.
    function tellAll(command) {
      connections.forEach(function (connection) {
        if (connection._native !== null) wasm._command(connection._native, command);
      });
    }
    if (global.addEventListener) {
      global.addEventListener('offline', function () { tellAll(GO_OFFLINE); });
      global.addEventListener('online', function () { tellAll(GO_ONLINE); });
      global.addEventListener('pagehide', function () {
        connections.forEach(function (connection) {
          if (connection._share) connection._share.resign();
        });
        tellAll(SUSPEND);
      });
      global.addEventListener('pageshow', function (event) {
        if (!event.persisted) return;
        tellAll(RESUME);
        if (global.navigator && global.navigator.onLine === false) tellAll(GO_OFFLINE);
      });
    }

    // The wasm module, embedded by the build as hex (see js/embed-wasm.js): gzip shrinks hex
    // to within ~10% of the binary's own gzip size, base64 only to ~30% above it.
    // Uint8Array.fromHex (Chrome 140, Firefox 133, Safari 18.2) decodes natively in well under
    // a millisecond; the loop is for older browsers (4-12 ms here while it is still cold).
    function wasmBytes(hex) {
      if (typeof Uint8Array.fromHex === 'function') return Uint8Array.fromHex(hex);
      var bytes = new Uint8Array(hex.length >> 1);
      for (var i = 0, j = 0; i < bytes.length; i++, j += 2) {
        var high = hex.charCodeAt(j), low = hex.charCodeAt(j + 1);
        bytes[i] = ((high > 57 ? high - 87 : high - 48) << 4) | (low > 57 ? low - 87 : low - 48);
      }
      return bytes;
    }

    // Compiles the module synchronously: for ~40 KB that takes a millisecond or two, and the
    // module is then ready before the page's next script runs (an asynchronous compile waits
    // its turn behind the page's other work: 20-70 ms here). Browsers that refuse a
    // synchronous compile of this size on the main thread get the asynchronous one.
    function instantiate(imports, receiveInstance, fail) {
      var bytes = wasmBytes(wasmHex);
      var instance = null;
      try {
        instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), imports);
      } catch (error) {
        WebAssembly.instantiate(bytes, imports).then(function (result) {
          receiveInstance(result.instance, result.module);
        }, fail);
        return {};
      }
      receiveInstance(instance);
      return instance.exports;
    }

    var ready = new Promise(function (resolve, reject) {
      createModule({
        instantiateWasm: function (imports, receiveInstance) {
          return instantiate(imports, receiveInstance, reject);
        },
        // The calls from the wasm module (fetch_connection.cpp's EM_JS functions).
        // A call for a connection closed meanwhile is dropped.
        _cometMessages: function (id, body, messages, values, cursor) {
          var connection = live(id);
          if (connection) connection._onMessages(body, messages, values, cursor);
        },
        _cometReport: function (id, status, textStatus, errorThrown, detail, retryIn, statusText, headers, body) {
          var connection = live(id);
          if (!connection) return;
          var responseText = body ? decodeText(body, 0, body.length) : '';
          connection._onReport(status, textStatus, errorThrown, detail, retryIn,
                               makeXhrLike(status, statusText, headers, responseText));
        },
        _cometCursor: function (id, lastModified, etag) {
          var connection = live(id);
          if (connection) connection._onCursor({ lastModified: lastModified, etag: etag });
        },
        _cometUrl: function (id, index) {
          var connection = live(id);
          if (connection) connection.url = connection.urls[index];
        },
        _cometState: function (id, from, to) {
          var connection = live(id);
          if (connection) connection._onState(from, to);
        },
        // Only for connections with `debug: true`.
        _cometRequest: function (id, method, url, headers) {
          var connection = live(id);
          if (connection) connection._log('log', method + ' ' + url + (headers ? ' (' + headers + ')' : ''));
        },
        _cometResponse: function (id, status, bytes) {
          var connection = live(id);
          if (connection) {
            connection._log('log', connection.url + ': ' + (status ? 'HTTP ' + status + ', ' + bytes + ' bytes'
                                                                    : 'no HTTP response (network failure)'));
          }
        }
      }).then(resolve, reject);
    }).then(function (instance) {
      wasm = instance;
      var waiting = pending;
      pending = [];
      waiting.forEach(function (connection) {
        if (!connection._closed) connection._begin();
      });
      return $.comet;
    }, function (error) {
      failPending(error);
      throw error;
    });
    // A failed start is reported to each connection; do not also leave an unhandled rejection.
    ready['catch'](function () {});

    $.comet = {
      version: '0.1.0',
      _wasmClient: true,
      defaults: defaults,
      ready: ready,

      connect: function (url, options) {
        var connection = new Connection(resolveUrls(url), settle(options));
        connections.push(connection);
        if (wasm) {
          connection._begin();
        } else if (moduleFailure) {
          pending.push(connection);
          failPending(moduleFailure);
        } else {
          pending.push(connection);
        }
        return connection;
      },

      disconnect: function () {
        connections.slice().forEach(function (connection) { connection.close(); });
      },

      connections: function () {
        return connections.slice();
      },

      // For leak tests and debugging: the wasm heap's use and the XHRs still alive.
      _heapStats: function () {
        if (!wasm) return null;
        var size = wasm._heapSize();
        return { dynamicHeap: size, used: size - wasm._heapFree(), liveXhrs: wasm._liveXhrs(),
                 memoryBytes: wasm.HEAP8.length };
      },

      // For leak tests and debugging: fetches open across all connections.
      _openRequests: function () {
        return wasm ? wasm._openRequests() : 0;
      }
    };
    return $;
  }

  // A script tag attaches to the page's jQuery. CommonJS (bundlers, `require`, `import`)
  // gets attach(jQuery) instead, so the plugin lands on the jQuery the caller has, global or not.
  if (typeof module === 'object' && module !== null && 'exports' in module) {
    module.exports = attach;
  } else {
    attach(global.jQuery);
  }
})(typeof window !== 'undefined' ? window : this, createCometModule, '@COMET_WASM_HEX@');
