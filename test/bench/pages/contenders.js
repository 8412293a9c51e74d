// The four contenders of `npm run bench`, each doing the same work per message: decode the
// JSON, then one handler call that records the message's id (and, for the steady stream,
// its latency). bench.start(url, count, options) connects (url: one URL, or an array of them,
// one connection each, for the scale table's connections per page); bench.state() reports
// what arrived. ?drain=<url>&count=<n> in the page's address starts at once, from the
// contender's script, as a page of its own would (the headline drain times from there).
(function () {
  'use strict';
  var ids = [];
  var latencies = [];
  var doneAt = 0;
  var expected = Infinity;
  var countOnly = false;  // the memory scenario keeps a count, not every id
  var counted = 0;
  var stoppers = [];  // one per connection opened: bench.stopAll() ends them all

  function now() { return performance.timeOrigin + performance.now(); }

  // A message's data is { id, t? }, or (the scale table's message sizes) a string of padding
  // that starts with the id and a colon, so that losses and duplicates are still seen.
  function record(message) {
    if (countOnly) {
      counted++;
      return;
    }
    ids.push(typeof message === 'string' ? parseInt(message, 10) : message.id);
    if (message.t) latencies.push(now() - message.t);
    if (ids.length === expected) doneAt = now();
  }

  // The original plugin's loop, written from its description: $.ajax with cache and
  // ifModified (jQuery keeps Last-Modified/Etag per URL), setTimeout(.., 1) between polls,
  // a fixed 10 s retry after an error, the update triggered as "<type>.comet" on document.
  // Each contender is called once per URL; the handlers that hear every connection are bound
  // once per page (`bound`), or every message would be recorded once per connection.
  var bound = false;
  function bindOnce(name) {
    if (!bound) $(document).bind(name, function (event, data) { record(data); });
    bound = true;
  }

  function classic(url) {
    bindOnce('b.comet');
    function poll() {
      $.ajax({
        url: url, type: 'GET', cache: true, ifModified: true, timeout: 60000,
        success: function (update) {
          if (update && typeof update === 'object') {
            var type = update.type || null;
            var data = update.data || update;
            $(document).trigger(type + '.comet', [data, type]);
          }
          setTimeout(poll, 1);
        },
        error: function (xhr, status) { setTimeout(poll, status === 'timeout' ? 0 : 10000); }
      });
    }
    poll();
  }

  // The limit: a bare XHR loop that keeps the cursor and parses JSON, nothing else. For a
  // multipart response it does the least splitting that Nchan's format allows.
  function limit(url) {
    var lastModified = null;
    var etag = null;
    var current = null;
    var stopped = false;
    stoppers.push(function () {
      stopped = true;
      if (current) current.abort();
    });
    function poll() {
      if (stopped) return;
      var xhr = current = new XMLHttpRequest();
      xhr.open('GET', url);
      if (etag !== null) {
        xhr.setRequestHeader('If-None-Match', etag);
        if (lastModified !== null) xhr.setRequestHeader('If-Modified-Since', lastModified);
      }
      xhr.onload = function () {
        if (xhr.status === 200) {
          lastModified = xhr.getResponseHeader('Last-Modified');
          etag = xhr.getResponseHeader('Etag');
          var type = xhr.getResponseHeader('Content-Type') || '';
          var text = xhr.responseText;
          if (type.indexOf('multipart/mixed') === 0) {
            var boundary = '--' + type.split('boundary=')[1];
            var parts = text.split(boundary);
            for (var i = 1; i < parts.length - 1; i++) {
              var part = parts[i];
              var body = part.slice(part.indexOf('\r\n\r\n') + 4, part.length - 2);
              record(JSON.parse(body).data);
            }
          } else {
            record(JSON.parse(text).data);
          }
        }
        poll();
      };
      xhr.onerror = function () { setTimeout(poll, 1000); };
      xhr.send();
    }
    poll();
  }

  function nchan(url) {
    var subscriber = new NchanSubscriber(url, { subscriber: 'longpoll' });
    subscriber.on('message', function (message) { record(JSON.parse(message).data); });
    subscriber.start();
    stoppers.push(function () { subscriber.stop(); });
  }

  // `options`: $.comet.connect's (the cross-origin scenario's cursorInQuery and headers).
  function comet(url, options) {
    bindOnce('comet.message');
    var connection = $.comet.connect(url, options);
    stoppers.push(function () { connection.close(); });
  }

  var contenders = { classic: classic, limit: limit, nchan: nchan, comet: comet };

  window.bench = {
    ready: window.jQuery && jQuery.comet ? jQuery.comet.ready.then(function () { return performance.now(); })
                                         : Promise.resolve(performance.now()),
    // Called again, it adds connections: `count` is then the total expected over all of them.
    start: function (url, count, options) {
      expected = count;
      if (!this.startedAt) this.startedAt = now();
      var urls = typeof url === 'string' ? [url] : url;
      for (var i = 0; i < urls.length; i++) contenders[window.benchClient](urls[i], options);
    },
    // `count`: how many were published, to name the first few that are missing.
    state: function (count) {
      var unique = {};
      var duplicates = 0;
      for (var i = 0; i < ids.length; i++) {
        if (unique[ids[i]]) duplicates++;
        unique[ids[i]] = true;
      }
      var missing = [];
      for (i = 0; i < (count || 0) && missing.length < 20; i++) if (!unique[i]) missing.push(i);
      var connections = window.jQuery && jQuery.comet ? jQuery.comet.connections() : [];
      return { received: ids.length, duplicates: duplicates, doneAt: doneAt, startedAt: this.startedAt,
               latencies: latencies, missing: missing,
               cometState: connections.length ? connections[0].state : null };
    },
    // When the last response from `path` (a channel's URL path) was wholly in the page, by the
    // browser's Resource Timing: what the server and the network took, before any client
    // code could look at it.
    responseEnd: function (path) {
      var end = 0;
      performance.getEntriesByType('resource').forEach(function (entry) {
        if (entry.name.indexOf(path) >= 0) end = Math.max(end, performance.timeOrigin + entry.responseEnd);
      });
      return end;
    },
    count: function () { return ids.length + counted; },
    // The floor under the headline's client share for any client that keeps the original's
    // events, in ms: the work that stays after a response of `count` messages of the
    // headline's shape, without the response. Their type and data values, gathered into JSON
    // arrays of 256 messages each as the core and the shim hand them over (js/src/decode.js),
    // each array parsed with one JSON.parse just before its messages are dispatched, one
    // comet.message per message to the drain's handler, as the shim's fire() (js/src/events.js)
    // does it. NchanSubscriber calls its handler without jQuery.
    floor: function (count, text) {
      var runs = [];
      for (var first = 0; first < count; first += 256) {
        var parts = [];
        for (var i = first; i < Math.min(count, first + 256); i++) parts.push('"b",{"id":' + i + ',"s":"' + text + '"}');
        runs.push('[' + parts.join(',') + ']');
      }
      bindOnce('comet.message');
      expected = count;
      var namespace = /(^|\.)message(\.|$)/;
      var started = performance.now();
      for (var r = 0; r < runs.length; r++) {
        var values = JSON.parse(runs[r]);
        for (i = 0; i < values.length; i += 2) {
          var event = new $.Event('comet');
          event.isTrigger = 2;
          event.namespace = 'message';
          event.rnamespace = namespace;
          event.result = undefined;
          event.target = document;
          $.event.dispatch.call(document, event, values[i + 1], values[i]);
        }
      }
      return performance.now() - started;
    },
    // Ends every connection opened so far (the memory scenario's first round).
    stopAll: function () {
      var stopping = stoppers;
      stoppers = [];
      stopping.forEach(function (stop) { stop(); });
    },
    countOnly: function () {
      countOnly = true;
      counted = ids.length;
      ids = [];
    }
  };
  var drain = /[?&]drain=([^&]+)&count=(\d+)/.exec(location.search);
  if (drain) window.bench.start(decodeURIComponent(drain[1]), Number(drain[2]));
  // This script runs in the head (bench.html writes its tag there): the body's paragraph is
  // not parsed yet.
  document.addEventListener('DOMContentLoaded', function () {
    document.getElementById('client').textContent = window.benchClient;
  });
})();
