// The browser APIs behind the core's Tab machine (src/core/tab.hpp), for one connection:
// storage for `resume`, the network state, and for `shared` the Web Lock and the BroadcastChannel. What to do
// with them -- who polls, from which cursor, which relayed batch to deliver -- the core
// decides; this file only reads, writes, posts, asks and hands over.

// ---------------------------------------------------------------------------------------------
// Resume: the cursor after the last batch delivered, kept in sessionStorage or localStorage
// under the connection's method and URLs.

function cursorStore(settings) {
  try {
    return settings.resume === 'persist' ? window.localStorage : window.sessionStorage;
  } catch (e) {
    return null;  // storage disabled (sandboxed frame, privacy settings): no resume
  }
}

function cursorKey(urls, settings) {
  return 'jquery.comet cursor ' + settings.requestMethod + ' ' + urls.join(' ');
}

function text(value) {
  return typeof value === 'string' ? value : '';
}

// What storage holds for this connection, as a cursor's two strings (the core judges them),
// or null when nothing readable is there.
export function loadCursor(urls, settings) {
  try {
    var saved = JSON.parse(cursorStore(settings).getItem(cursorKey(urls, settings)));
    return saved ? { lastModified: text(saved.lastModified), etag: text(saved.etag) } : null;
  } catch (e) {
    return null;
  }
}

export function saveCursor(urls, settings, cursor) {
  try {
    cursorStore(settings).setItem(cursorKey(urls, settings), JSON.stringify(cursor));
  } catch (e) {
    // storage full or disabled: the stream goes on, only a reload will not resume
  }
}

// What the browser says about the network, for the core (it starts a poll offline, or not).
export function browserOnline() {
  return !(window.navigator && window.navigator.onLine === false);
}

// ---------------------------------------------------------------------------------------------
// Shared: the tabs of an origin that connect to the same URLs with the same options ask one
// Web Lock and talk over one BroadcastChannel.

export function canShare() {
  return typeof window.BroadcastChannel === 'function' && !!window.navigator && !!window.navigator.locks &&
    typeof window.navigator.locks.request === 'function';
}

function cursorOf(value) {
  return value && typeof value === 'object' ? value : {};
}

// `wasm` is the module, `id` the connection's id there; `connection._relayed` is where a
// batch's or an error's data waits while the core decides about it.
export function TabLink(wasm, id, connection) {
  var settings = connection.options;
  var link = this;
  this.name = 'jquery.comet ' + JSON.stringify([connection.urls, settings.requestMethod, settings.typeAttr,
                                                 settings.dataAttr]);
  this.wasm = wasm;
  this.id = id;
  this.connection = connection;
  this.release = null;
  this.abort = typeof window.AbortController === 'function' ? new window.AbortController() : null;
  this.channel = new window.BroadcastChannel(this.name);
  this.channel.onmessage = function (event) { link.receive(event.data); };
}

// Another tab's message, to the core.
TabLink.prototype.receive = function (message) {
  var wasm = this.wasm;
  var id = this.id;
  if (!message) return;
  if (message.kind === 'hello') {
    wasm._signal(id, 7);  // peer hello
  } else if (message.kind === 'batch') {
    var previous = cursorOf(message.previous);
    var cursor = cursorOf(message.cursor);
    this.connection._relayed = message;
    wasm._peerBatch(id, text(previous.lastModified), text(previous.etag), text(cursor.lastModified), text(cursor.etag));
  } else if (message.kind === 'welcome') {
    var welcome = cursorOf(message.cursor);
    wasm._peerWelcome(id, text(welcome.lastModified), text(welcome.etag), text(message.state));
  } else if (message.kind === 'state') {
    wasm._peerState(id, text(message.to));
  } else if (message.kind === 'error') {
    this.connection._relayed = message;
    wasm._signal(id, 8);  // peer report
  }
  this.connection._relayed = null;
};

TabLink.prototype.post = function (message) {
  this.channel.postMessage(message);
};

// The lock, as the core asks: "request", "release" or "leave".
TabLink.prototype.lock = function (what) {
  var link = this;
  if (what === 'request') {
    window.navigator.locks.request(this.name, this.abort ? { signal: this.abort.signal } : {}, function () {
      if (!link.wasm._signal(link.id, 6)) return null;  // lock granted: false, give it back
      link.connection.shared = 'leader';
      return new Promise(function (resolve) { link.release = resolve; });
    })['catch'](function () {});  // AbortError: closed before it led
    return;
  }
  if (this.release) this.release();
  this.release = null;
  if (what === 'leave') {
    if (this.abort) this.abort.abort();
    this.channel.close();
  }
};
