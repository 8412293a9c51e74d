// The demo: one connection to Nchan's /activity?channel=demo, a feed of what arrives, the
// connection state as a badge, and a form that publishes.
(function ($) {
  'use strict';
  var count = 0;
  var errors = 0;

  function status(state) {
    $('#status').attr('class', 'badge ' + state).text(state);
  }

  function addItem(type, text, className) {
    var item = $('<li>').addClass(className || '');
    $('<span class="type">').text(type === null ? '(no type)' : type).appendTo(item);
    $('<span class="text">').text(text).appendTo(item);
    $('<time>').text(new Date().toLocaleTimeString()).appendTo(item);
    item.prependTo('#feed');
    $('#feed li').slice(200).remove();
  }

  var connection = $.comet.connect('/activity?channel=demo', {
    onError: function (xhr, textStatus, error) {
      errors++;
      $('#errors').text(errors);
      addItem('error', textStatus + ': ' + (error && error.message || error || 'HTTP ' + xhr.status), 'error');
    }
  });

  $(document).bind('comet.message', function (event, data, type) {
    count++;
    $('#count').text(count);
    var text = data && typeof data === 'object' ? (data.text !== undefined ? data.text : JSON.stringify(data)) : String(data);
    if (data && typeof data === 'object' && typeof data.at === 'number') $('#latency').text(Math.max(0, Date.now() - data.at) + ' ms');
    addItem(type, text);
  });
  $(document).bind('comet.open comet.error comet.close', function () { status(connection.state); });
  setInterval(function () { status(connection.state); }, 250);

  $('#publish').on('submit', function (event) {
    event.preventDefault();
    $.ajax({
      url: '/pub/demo',
      type: 'POST',
      contentType: 'application/json',
      data: JSON.stringify({ type: $('#type').val(), data: { text: $('#text').val(), at: Date.now() } })
    });
  });
})(jQuery);
