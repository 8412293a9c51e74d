// Options: the defaults, and the checks that turn a caller's options into one connection's
// settings, or throw an error that names the option.

export var PREFIX = 'jquery.comet: ';

export function defaults() {
  return {
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
    resume: null,
    headers: null,
    withCredentials: null,
    cursorInQuery: false
  };
}

export function describeValue(value) {
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

// How many single-character edits turn a into b (for "did you mean").
function distance(a, b) {
  var row = [];
  for (var j = 0; j <= b.length; j++) row.push(j);
  for (var i = 1; i <= a.length; i++) {
    var diagonal = row[0];
    row[0] = i;
    for (j = 1; j <= b.length; j++) {
      var above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a.charAt(i - 1) === b.charAt(j - 1) ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

// Option names that no version of the library knows, each with a sentence for a warning: a
// misspelled one (`timout`) would otherwise be ignored without a word. A warning, not an
// error: old pages may pass options that the original plugin ignored too.
export function unknownOptions(options) {
  var known = defaults();
  var warnings = [];
  for (var name in options) {
    if (!Object.prototype.hasOwnProperty.call(options, name) || Object.prototype.hasOwnProperty.call(known, name)) continue;
    var best = null;
    for (var candidate in known) {
      var d = distance(name.toLowerCase(), candidate.toLowerCase());
      if (d <= Math.max(2, candidate.length >> 2) && (best === null || d < best.d)) best = { name: candidate, d: d };
    }
    warnings.push(PREFIX + 'unknown option ' + JSON.stringify(name) + ' is ignored' +
                  (best ? ' (did you mean "' + best.name + '"?)' : ''));
  }
  return warnings;
}

// Returns the settings for one connection: `base` (the page's $.comet.defaults) merged with
// options, checked.
export function settle($, base, options) {
  if (options !== undefined && options !== null && typeof options !== 'object') {
    throw new TypeError(PREFIX + 'options must be an object, got ' + describeValue(options));
  }
  var settings = $.extend({}, base, options);
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
  var headers = settings.headers;
  if (headers === undefined) headers = settings.headers = null;
  if (headers !== null && typeof headers !== 'function') {
    if (typeof headers !== 'object' || Array.isArray(headers)) {
      throw optionError(TypeError, 'headers', 'an object of header names and values, a function or null', headers);
    }
    try {
      headerText(headers, 'option "headers"');
    } catch (error) {
      throw new TypeError(error.message);
    }
  }
  // The original's polls went through $.ajax, so $.ajaxSetup({ xhrFields: ... }) applied.
  if (settings.withCredentials === null || settings.withCredentials === undefined) {
    var fields = $.ajaxSettings && $.ajaxSettings.xhrFields;
    settings.withCredentials = !!(fields && fields.withCredentials);
  }
  if (typeof settings.withCredentials !== 'boolean') {
    throw optionError(TypeError, 'withCredentials', 'true, false or null', settings.withCredentials);
  }
  if (typeof settings.cursorInQuery !== 'boolean') {
    throw optionError(TypeError, 'cursorInQuery', 'true or false', settings.cursorInQuery);
  }
  if (settings.resume === false || settings.resume === undefined) settings.resume = null;
  if (settings.resume !== null && settings.resume !== 'session' && settings.resume !== 'persist') {
    throw optionError(TypeError, 'resume', '"session", "persist" or null', settings.resume);
  }
  return settings;
}

// Request headers the page may not set (the browser refuses them), and the two that carry the
// cursor, which the core sets.
var FORBIDDEN = /^(accept-charset|accept-encoding|access-control-request-headers|access-control-request-method|connection|content-length|cookie|cookie2|date|dnt|expect|host|keep-alive|origin|referer|set-cookie|te|trailer|transfer-encoding|upgrade|via|proxy-.*|sec-.*|if-none-match|if-modified-since)$/i;
var TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

// The headers of `source` over those of `defaults` (objects; a name in both takes source's
// value, names compared without case), checked, as the core takes them: "name\nvalue" pairs
// joined by "\n". `label` and `defaultsLabel` name them in an error, which names the header too.
export function headerText(source, label, defaults, defaultsLabel) {
  var names = {};
  var pairs = [];
  function add(object, from) {
    if (object === null || object === undefined) return;
    if (typeof object !== 'object' || Array.isArray(object)) {
      throw new Error(PREFIX + from + ' must be an object of header names and values, got ' + describeValue(object));
    }
    for (var name in object) {
      if (!Object.prototype.hasOwnProperty.call(object, name)) continue;
      var value = object[name];
      if (value === null || value === undefined) continue;
      var where = PREFIX + from + ': header ' + JSON.stringify(name);
      if (!TOKEN.test(name)) throw new Error(where + ' is not a valid header name');
      if (FORBIDDEN.test(name)) {
        throw new Error(where + (/^if-/i.test(name) ? ' carries the cursor, which the library sets'
          : /^cookie/i.test(name) ? ' cannot be set by a page: use withCredentials to send cookies'
            : ' cannot be set by a page (the browser refuses it)'));
      }
      if (typeof value === 'number' && isFinite(value)) value = String(value);
      if (typeof value !== 'string' || /[\r\n\0]/.test(value)) {
        throw new Error(where + ' must have a string value without line breaks, got ' + describeValue(value));
      }
      var key = name.toLowerCase();
      if (Object.prototype.hasOwnProperty.call(names, key)) pairs[names[key]] = null;
      names[key] = pairs.length;
      pairs.push(name + '\n' + value.replace(/^[ \t]+|[ \t]+$/g, ''));
    }
  }
  add(defaults, defaultsLabel);
  add(source, label);
  return pairs.filter(function (pair) { return pair !== null; }).join('\n');
}

// One URL, or several instances of one server (sharing their message store) to fail over
// between, in order of preference; each made absolute against the page.
export function resolveUrls(url, base) {
  if (!Array.isArray(url)) return [resolveUrl(url, base)];
  if (url.length === 0) {
    throw new TypeError(PREFIX + 'connect(urls, options) needs at least one URL, got an empty array');
  }
  return url.map(function (one) { return resolveUrl(one, base); });
}

function resolveUrl(url, base) {
  if (typeof url !== 'string' || url === '') {
    throw new TypeError(PREFIX + 'connect(url, options) needs the URL of the comet server as a string, got ' +
                        describeValue(url));
  }
  var absolute;
  try {
    absolute = new URL(url, base);
  } catch (e) {
    throw new TypeError(PREFIX + 'connect(url, options): ' + JSON.stringify(url) + ' is not a valid URL');
  }
  // A long poll is an HTTP request: anything else (file:, ws:, data:, ...) would fail forever.
  if (absolute.protocol !== 'http:' && absolute.protocol !== 'https:') {
    throw new TypeError(PREFIX + 'connect(url, options): ' + JSON.stringify(url) + ' cannot be polled: only http: ' +
                        'and https: URLs can, not ' + absolute.protocol);
  }
  absolute.hash = '';  // never sent, and the core appends to the query
  return absolute.href;
}
