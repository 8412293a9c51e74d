// The demo: one connection to /activity?channel=demo, shared by the demo's tabs and resumed
// after a reload, a feed of what arrives, the connection state as a badge with the countdown
// to the next retry and which tab polls, a plot of the last minute, a form that publishes, and
// a button that makes the demo server misbehave (web/demo-server.js).
(function ($) {
  'use strict';
  var count = 0;
  var errors = 0;
  var retryAt = 0;           // when the next poll after a failure is due (ms since epoch)
  var seconds = [];          // the last 60 s: { messages, latency } per second, newest last
  var current = { messages: 0, latency: 0 };

  function showState() {
    var state = connection.state;
    $('#status').attr('class', 'badge ' + state).text(state);
    var left = retryAt - Date.now();
    $('#retry').text(state === 'waiting' && left > 0 ? 'retry in ' + (left / 1000).toFixed(1) + ' s' : '');
    $('#role').text(connection.shared === 'leader' ? 'this tab polls for all tabs'
      : connection.shared === 'follower' ? 'another tab polls for this one' : '');
  }

  // A value as the feed shows it: a string as it is, anything else as JSON.
  function show(value) {
    if (typeof value === 'string') return value;
    return value === undefined ? '(nothing)' : JSON.stringify(value);
  }

  function bytes(text) {
    var n = new Blob([text]).size;
    return n < 1000000 ? Math.round(n / 1000) + ' KB' : (n / 1000000).toFixed(1) + ' MB';
  }

  // At most `limit` characters of a text (a surrogate pair is not split), then what the
  // whole weighed: one 900 KB message would otherwise put 900 KB of text into the page.
  function shorten(text, limit) {
    if (text.length <= limit) return text;
    var end = /[\uD800-\uDBFF]/.test(text.charAt(limit - 1)) ? limit - 1 : limit;
    return text.slice(0, end) + '\u2026 (' + bytes(text) + ' in all)';
  }

  function addItem(type, text, className, title) {
    var item = $('<li>').addClass(className || '');
    $('<span class="type">').text(type === null ? '(no type)' : shorten(type, 40)).appendTo(item);
    $('<span class="text">').text(shorten(text, 2000)).attr('title', title || null).appendTo(item);
    $('<time>').text(new Date().toLocaleTimeString()).appendTo(item);
    item.prependTo('#feed');
    $('#feed li').slice(200).remove();
  }

  function plot() {
    var canvas = document.getElementById('plot');
    var g = canvas.getContext('2d');
    var w = canvas.width, h = canvas.height, step = w / 60;
    var maxRate = Math.max(5, Math.max.apply(null, seconds.map(function (s) { return s.messages; })));
    var maxLatency = Math.max(50, Math.max.apply(null, seconds.map(function (s) { return s.latency; })));
    g.clearRect(0, 0, w, h);
    g.fillStyle = '#bee3f8';
    seconds.forEach(function (s, i) {
      var bar = s.messages / maxRate * (h - 4);
      g.fillRect(w - (seconds.length - i) * step, h - bar, step - 1, bar);
    });
    g.strokeStyle = '#c05621';
    g.lineWidth = 1.5;
    g.beginPath();
    seconds.forEach(function (s, i) {
      var x = w - (seconds.length - i) * step + step / 2, y = h - 2 - s.latency / maxLatency * (h - 6);
      if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
    });
    g.stroke();
  }

  var connection = $.comet.connect('/activity?channel=demo', {
    // Backoff capped at 10 s instead of 30 s, so the recovery after "misbehave" (8 s of
    // failures) is seen within about 18 s at worst.
    maxRetryDelay: 10000,
    shared: true,
    resume: 'session'
  });

  $(document).bind('comet.message', function (event, data, type) {
    count++;
    current.messages++;
    $('#count').text(count);
    // {"text": ...} shows its text (what the form publishes), anything else all of it.
    var text = data && typeof data === 'object' && data.text !== undefined ? show(data.text) : show(data);
    if (data && typeof data === 'object' && typeof data.at === 'number') {
      var latency = Math.max(0, Date.now() - data.at);
      current.latency = Math.max(current.latency, latency);
      $('#latency').text(latency + ' ms');
    }
    addItem(type, text);
  });
  // Every failure, in every tab (a follower hears of its leader's): what the poll got, status 0
  // being no complete answer at all, and when the next one goes out. The library's sentence,
  // with the URL, is the tooltip.
  $(document).bind('comet.error', function (event, info) {
    retryAt = Date.now() + info.retryIn;
    errors++;
    $('#errors').text(errors);
    var what = info.status ? 'HTTP ' + info.status + ' ' + info.statusText
      : info.cause === 'server' ? 'status 0: no complete answer (refused, reset or cut short)' : info.textStatus;
    addItem('error', what + '; retry in ' + (info.retryIn / 1000).toFixed(1) + ' s', 'error', info.message);
  });
  $(document).bind('comet.state', showState);
  setInterval(showState, 100);
  setInterval(function () {
    seconds.push(current);
    if (seconds.length > 60) seconds.shift();
    $('#rate').text(current.messages + ' msg/s');
    current = { messages: 0, latency: 0 };
    plot();
  }, 1000);

  function publish(type, text) {
    return $.ajax({
      url: '/pub/demo',
      type: 'POST',
      contentType: 'application/json',
      data: JSON.stringify({ type: type, data: { text: text, at: Date.now() } })
    });
  }

  $('#publish').on('submit', function (event) {
    event.preventDefault();
    publish($('#type').val(), $('#text').val());
  });
  $('#burst').on('click', function () {
    for (var i = 1; i <= 50; i++) publish($('#type').val(), $('#text').val() + ' #' + i);
  });
  $('#misbehave').on('click', function () {
    $.ajax({ url: '/demo/misbehave?seconds=8', type: 'POST' });
    addItem('demo', 'the server misbehaves for 8 s', 'error');
  });
})(jQuery);
