// The four contenders of `npm run bench`, each doing the same work per message: decode the
// JSON, then one handler call that records the message's id (and, for the steady stream,
// its latency). bench.start(url, count, options) connects; bench.state() reports what arrived.
(function () {
  'use strict';
  var ids = [];
  var latencies = [];
  var doneAt = 0;
  var expected = Infinity;
  var countOnly = false;  // the memory scenario keeps a count, not every id
  var counted = 0;

  function now() { return performance.timeOrigin + performance.now(); }

  function record(message) {
    if (countOnly) {
      counted++;
      return;
    }
    ids.push(message.id);
    if (message.t) latencies.push(now() - message.t);
    if (ids.length === expected) doneAt = now();
  }

  // The original plugin's loop, written from its description: $.ajax with cache and
  // ifModified (jQuery keeps Last-Modified/Etag per URL), setTimeout(.., 1) between polls,
  // a fixed 10 s retry after an error, the update triggered as "<type>.comet" on document.
  function classic(url) {
    $(document).bind('b.comet', function (event, data) { record(data); });
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
    function poll() {
      var xhr = new XMLHttpRequest();
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
  }

  // `options`: $.comet.connect's (the cross-origin scenario's cursorInQuery and headers).
  function comet(url, options) {
    $(document).bind('comet.message', function (event, data) { record(data); });
    $.comet.connect(url, options);
  }

  var contenders = { classic: classic, limit: limit, nchan: nchan, comet: comet };

  window.bench = {
    ready: window.jQuery && jQuery.comet ? jQuery.comet.ready.then(function () { return performance.now(); })
                                         : Promise.resolve(performance.now()),
    start: function (url, count, options) {
      expected = count;
      this.startedAt = now();
      contenders[window.benchClient](url, options);
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
    countOnly: function () {
      countOnly = true;
      counted = ids.length;
      ids = [];
    }
  };
  document.getElementById('client').textContent = window.benchClient;
})();
