// Events: the one way out to jQuery, and the rules about what may reach it.

var hasOwn = Object.prototype.hasOwnProperty;

export function rethrowLater(error) {
  setTimeout(function () { throw error; }, 0);
}

// The event functions for one jQuery.
export function createEvents($, document) {
  var namespaceTests = {};  // namespace -> the RegExp jQuery's trigger would build for it

  // A server-chosen type may name a jQuery event only when it cannot escape its own handlers:
  // no '.' (namespaces), no whitespace (several events), no name that Object.prototype or
  // jQuery's special-event hooks already use. Other types still reach comet.message.
  function isSafeType(type) {
    return type.length > 0 && type.length <= 256 && !/[\s.]/.test(type) &&
      !(type in Object.prototype) && !hasOwn.call($.event.special, type);
  }

  // The one way out to jQuery: the handlers bound on document for `type` in `namespace` run,
  // with (event, data) or (event, data, extra), and nothing else does. This is what jQuery's
  // triggerHandler does for them (it builds the event the same way and calls
  // jQuery.event.dispatch), without the rest of trigger: no native default action (a type
  // "open" must not call document.open()), no special-event hooks, no bubbling, and no
  // document.on<type> property handler, which a server-chosen type could otherwise reach
  // (document.onkeydown, onvisibilitychange, ...).
  // Skipping the rest of trigger (parsing the name, the event path) also makes a dispatch
  // about half as costly. The arguments go to dispatch as they are, not through an array.
  // A handler that throws does not stop the batch, the message's other event or the
  // connection; its error is rethrown on its own so the page still sees it.
  function fire(type, namespace, data, extra) {
    var event = new $.Event(type);
    event.isTrigger = 2;  // what triggerHandler sets: jQuery handlers only
    event.namespace = namespace;
    event.rnamespace = namespaceTests[namespace] ||
      (namespaceTests[namespace] = new RegExp('(^|\\.)' + namespace + '(\\.|$)'));
    event.result = undefined;
    event.target = document;
    try {
      if (arguments.length > 3) $.event.dispatch.call(document, event, data, extra);
      else $.event.dispatch.call(document, event, data);
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
    // drop-in compatibility. Whether anyone listens is asked first: it is one property lookup,
    // where isSafeType runs a regular expression, and a type nobody binds (every message of it,
    // on a page that binds only comet.message) needs neither.
    var perType = type === null ? 'null' : type;
    if (listened(events, perType) && isSafeType(perType)) fire(perType, 'comet', data, type);
    if (listened(events, 'comet')) fire('comet', 'message', data, type);
  }

  return { fire: fire, boundEvents: boundEvents, deliverMessage: deliverMessage };
}
