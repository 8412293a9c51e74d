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
    resume: null
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
  if (settings.resume === false || settings.resume === undefined) settings.resume = null;
  if (settings.resume !== null && settings.resume !== 'session' && settings.resume !== 'persist') {
    throw optionError(TypeError, 'resume', '"session", "persist" or null', settings.resume);
  }
  return settings;
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
  try {
    var absolute = new URL(url, base);
    absolute.hash = '';  // never sent, and the core appends to the query
    return absolute.href;
  } catch (e) {
    throw new TypeError(PREFIX + 'connect(url, options): ' + JSON.stringify(url) + ' is not a valid URL');
  }
}
