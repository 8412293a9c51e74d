// The first script of the test pages: keeps what the page reports as uncaught errors
// (`error`, `unhandledrejection`) and what its scripts write to the console, for the WebKit
// page object (test/browser/webkit.js), which reads them back on each evaluate: classic
// WebDriver reports neither. Elsewhere it only keeps them (Playwright reports both itself).
// The WebKit page object also runs this file in pages that lack it, after their load.
(function () {
  if (window.__cometRecorder) return;
  var CONSOLE_LIMIT = 1000;  // console lines kept between two reads (errors are all kept)
  var errors = [];
  var lines = [];
  var dropped = 0;

  function describe(value) {
    if (value instanceof Error || (value && typeof value === 'object' && typeof value.message === 'string')) {
      return { name: String(value.name || 'Error'), message: String(value.message), stack: String(value.stack || '') };
    }
    return { name: '', message: String(value), stack: '' };
  }
  function text(value) {
    if (typeof value === 'string') return value;
    if (value instanceof Error) return String(value);
    try {
      var json = JSON.stringify(value);
      return json === undefined ? String(value) : json;
    } catch (error) {
      return String(value);
    }
  }

  window.addEventListener('error', function (event) {
    // A script's uncaught exception (an ErrorEvent); a resource's failure does not reach here.
    if (!(event instanceof ErrorEvent)) return;
    errors.push(event.error !== undefined && event.error !== null ? describe(event.error)
      : { name: '', message: String(event.message), stack: '' });
  });
  window.addEventListener('unhandledrejection', function (event) { errors.push(describe(event.reason)); });

  var types = { log: 'log', info: 'info', warn: 'warning', error: 'error', debug: 'debug' };
  Object.keys(types).forEach(function (method) {
    var original = console[method];
    if (typeof original !== 'function') return;
    console[method] = function () {
      var parts = [];
      for (var i = 0; i < arguments.length; i++) parts.push(text(arguments[i]));
      if (lines.length >= CONSOLE_LIMIT) {
        lines.shift();
        dropped++;
      }
      lines.push({ type: types[method], text: parts.join(' ') });
      return original.apply(this, arguments);
    };
  });

  window.__cometRecorder = {
    // Everything kept since the last read.
    drain: function () {
      var out = { errors: errors, console: lines, dropped: dropped };
      errors = [];
      lines = [];
      dropped = 0;
      return out;
    },
  };
})();
