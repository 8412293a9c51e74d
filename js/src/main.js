/*
 * jquery.comet: the jQuery face of the WebAssembly long-poll client.
 *
 * The build (tools/build-shim.js) bundles these files into one script that runs after the
 * Emscripten module factory (createCometModule), so dist/jquery.comet.js is one file. The C++
 * core decides everything (what to request, when, with which cursor, what a response means,
 * which tab polls, what to resume); these files carry its decisions out:
 *
 *   main.js        $.comet: attach to a jQuery, connect/disconnect, the page's life events
 *   options.js     defaults and validation of the options
 *   connection.js  the connection object, and the calls the module makes on it
 *   decode.js      a batch of messages and an error's response, as handlers receive them
 *   events.js      fire(): the one way out to jQuery
 *   tabs.js        storage, Web Locks and BroadcastChannel for resume and shared
 *   module.js      starting the wasm module, and routing its calls out
 */
import { defaults, resolveUrls, settle, unknownOptions } from './options.js';
import { createEvents } from './events.js';
import { Connection } from './connection.js';
import { startModule } from './module.js';
import { browserOnline } from './tabs.js';

var global = typeof window !== 'undefined' ? window : {};

// Installs $.comet on the jQuery it is given (once per jQuery) and returns that jQuery.
function attach($) {
  if (!$ || !$.fn || !$.event || typeof $.event.dispatch !== 'function' || typeof $.Event !== 'function') {
    throw new Error('jquery.comet: needs jQuery: load jquery.js before jquery.comet.js, or pass ' +
                    'jQuery to the function that require("jquery.comet") returns');
  }
  // Once per jQuery; an old jquery.comet plugin found there is replaced (this is its drop-in).
  if ($.comet && $.comet._wasmClient) return $;

  // What the connections of this jQuery share.
  var page = {
    $: $,
    events: createEvents($, global.document),
    wasm: null,
    failure: null,     // why the module could not start
    pending: [],       // connected before the module was ready
    connections: [],   // open ones, in the order they were made
    byId: {}           // the ones the module knows, by the id it gave them
  };

  function live(id) {
    return Object.prototype.hasOwnProperty.call(page.byId, id) ? page.byId[id] : null;
  }

  function failPending(error) {
    page.failure = error;
    var waiting = page.pending;
    page.pending = [];
    waiting.forEach(function (connection) {
      connection.state = 'closed';
      connection._report(0, 'error', error, 'the WebAssembly module could not start: ' + error.message, 0,
                         connection._xhrLike(0, 'error', '', ''), false, 'module');
    });
  }

  // The browser's view of the network and of the page's life reaches every connection's core.
  // (embind checks the count of arguments: each input gets exactly its own.)
  function tellAll(input) {
    page.connections.forEach(function (connection) {
      if (connection._id !== null) input(connection._id);
    });
  }
  if (global.addEventListener) {
    global.addEventListener('offline', function () { tellAll(function (id) { page.wasm._signal(id, 1); }); });
    global.addEventListener('online', function () { tellAll(function (id) { page.wasm._signal(id, 2); }); });
    global.addEventListener('pagehide', function () { tellAll(function (id) { page.wasm._signal(id, 3); }); });
    global.addEventListener('pageshow', function (event) {
      if (event.persisted) tellAll(function (id) { page.wasm._signal(id, browserOnline() ? 5 : 4); });
    });
  }

  var ready = startModule(createCometModule, live).then(function (instance) {
    page.wasm = instance;
    var waiting = page.pending;
    page.pending = [];
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
    defaults: defaults(),
    ready: ready,

    connect: function (url, options) {
      var connection = new Connection(page, resolveUrls(url, global.location.href),
                                      settle($, $.comet.defaults, options));
      if (global.console && options) unknownOptions(options).forEach(function (line) { global.console.warn(line); });
      page.connections.push(connection);
      if (page.wasm) {
        connection._begin();
      } else {
        page.pending.push(connection);
        if (page.failure) failPending(page.failure);
      }
      return connection;
    },

    disconnect: function () {
      page.connections.slice().forEach(function (connection) { connection.close(); });
    },

    connections: function () {
      return page.connections.slice();
    },

    // For leak tests and debugging: the wasm heap's use and the XHRs still alive.
    _heapStats: function () {
      var wasm = page.wasm;
      if (!wasm) return null;
      var size = wasm._stat(1);
      return { dynamicHeap: size, used: size - wasm._stat(2), liveXhrs: wasm._stat(3),
               memoryBytes: wasm._stat(4) };
    },

    // For leak tests and debugging: fetches open across all connections.
    _openRequests: function () {
      return page.wasm ? page.wasm._stat(0) : 0;
    }
  };
  return $;
}

// A script tag attaches to the page's jQuery. CommonJS (bundlers, `require`, `import`) gets
// attach(jQuery) instead, so the plugin lands on the jQuery the caller has, global or not.
if (typeof module === 'object' && module !== null && 'exports' in module) {
  module.exports = attach;
} else {
  attach(global.jQuery);
}
