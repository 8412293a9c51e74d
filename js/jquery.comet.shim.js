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
      debug: false
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
      return settings;
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

    function Connection(url, settings) {
      this.url = url;
      this.options = settings;
      this.state = 'connecting';
      this._native = null;
      this._closed = false;
    }

    Connection.prototype.close = function () {
      if (this._closed) return this;
      this._closed = true;
      var index = connections.indexOf(this);
      if (index >= 0) connections.splice(index, 1);
      index = pending.indexOf(this);
      if (index >= 0) pending.splice(index, 1);
      var id = this._native;
      var from = this.state;
      this._native = null;
      this.state = 'closed';
      if (id !== null) {
        delete byId[id];
        wasm._command(id, CLOSE);
        // close() may run inside a handler called from this very connection: free it afterwards.
        setTimeout(function () { wasm._command(id, DESTROY); }, 0);
      }
      fire('comet', 'close', [{ connection: this, url: this.url }]);
      this._stateChanged(from);
      return this;
    };

    Connection.prototype._begin = function () {
      var settings = this.options;
      this._native = wasm._open(this.url, settings.requestMethod, settings.timeout, settings.retryDelay,
                                  settings.maxRetryDelay, settings.maxResponseBytes, settings.typeAttr,
                                  settings.dataAttr === null ? '' : settings.dataAttr, uniqueToken(),
                                  Math.floor(Math.random() * 4294967296), Math.floor(Math.random() * 4294967296),
                                  settings.debug);
      byId[this._native] = this;
      wasm._command(this._native, START);
      if (global.navigator && global.navigator.onLine === false) wasm._command(this._native, GO_OFFLINE);
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
      this.state = to;
      if (to === 'open') fire('comet', 'open', [{ connection: this, url: this.url }]);
      this._stateChanged(from);
    };

    Connection.prototype._onMessages = function (body, messages, values) {
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
      var events = boundEvents();
      for (i = 0; i < count && !this._closed; i++) {
        if (types[i] !== undefined) deliverMessage(datas[i], types[i], events);
      }
      for (i = 0; i < failures.length && !this._closed; i++) {
        this._onReport(200, 'parsererror', failures[i].error, failures[i].error.message, 0,
                       makeXhrLike(200, 'OK', '', failures[i].text));
      }
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
      global.addEventListener('pagehide', function () { tellAll(SUSPEND); });
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
        _cometMessages: function (id, body, messages, values) {
          var connection = live(id);
          if (connection) connection._onMessages(body, messages, values);
        },
        _cometReport: function (id, status, textStatus, errorThrown, detail, retryIn, statusText, headers, body) {
          var connection = live(id);
          if (!connection) return;
          var responseText = body ? decodeText(body, 0, body.length) : '';
          connection._onReport(status, textStatus, errorThrown, detail, retryIn,
                               makeXhrLike(status, statusText, headers, responseText));
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
        var connection = new Connection(resolveUrl(url), settle(options));
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
