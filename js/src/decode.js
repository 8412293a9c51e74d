// Decoding what the wasm module hands over: a batch of messages, once, before any handler
// runs (the views point into wasm memory), and an error's response as onError receives it.
//
// A batch: `messages` is [flags, typeOffset, typeLength, dataOffset, dataLength] per message,
// offsets into the body (flags: 1 JSON data, 2 string type, 4 number/true type); `values` is
// the JSON messages' type and data values gathered by the core into one JSON array, [type,
// data, type, data, ...], parsed with a single JSON.parse. It is empty when the core did not
// gather them (large messages: worth_gathering in src/core/body.hpp); each value is then
// parsed where it stands in the body.

var textDecoder = new TextDecoder('utf-8');

export function decodeText(body, offset, length) {
  return textDecoder.decode(body.subarray(offset, offset + length));
}

// A batch's text: when every byte of the body is one character (ASCII, the common case),
// the whole body is decoded once and each message is a substring at its byte offsets;
// otherwise each span is decoded on its own.
function batchText(body) {
  var whole = textDecoder.decode(body);
  if (whole.length === body.length) {
    return function (offset, length) { return whole.substring(offset, offset + length); };
  }
  return function (offset, length) { return decodeText(body, offset, length); };
}

// The type a message's type value names: a non-empty string, or a number or true as a
// string; anything else leaves it untyped (the original ignored a falsy type).
function typeOf(value) {
  return typeof value === 'string' ? value || null : value ? String(value) : null;
}

function gatheredValues(values) {
  if (!values.length) return null;
  try {
    return JSON.parse(textDecoder.decode(values));
  } catch (error) {
    return null;  // the core and JSON.parse disagree somewhere: each message on its own
  }
}

// Returns { types, datas, failures }: the messages to deliver, and those whose JSON the core
// validated but JSON.parse refused ({ error, text }), which are skipped.
export function decodeBatch(body, messages, values) {
  var count = messages.length / 5;
  var gathered = gatheredValues(values);
  var text = null;
  var datas = new Array(count);
  var types = new Array(count);
  var failures = [];
  for (var i = 0, d = 0, v = 0; i < count; i++, d += 5) {
    var flags = messages[d];
    if ((flags & 1) && gathered) {
      types[i] = typeOf(gathered[v]);
      datas[i] = gathered[v + 1];
      v += 2;
      continue;
    }
    text = text || batchText(body);
    var raw = text(messages[d + 3], messages[d + 4]);
    if (!(flags & 1)) {
      types[i] = null;
      datas[i] = raw;
      continue;
    }
    try {
      datas[i] = JSON.parse(raw);
      types[i] = flags & 6 ? typeOf(JSON.parse(text(messages[d + 1], messages[d + 2]))) : null;
    } catch (error) {
      types[i] = undefined;
      failures.push({ error: error, text: raw });
    }
  }
  if (failures.length) {
    var kept = [];
    for (i = 0; i < count; i++) if (types[i] !== undefined) kept.push(i);
    types = kept.map(function (k) { return types[k]; });
    datas = kept.map(function (k) { return datas[k]; });
  }
  return { types: types, datas: datas, failures: failures };
}

// What onError receives as its first argument: the parts of jqXHR that error handlers use.
// Header lookups go to the core's own header reader (`findHeader`, the module's _findHeader).
export function makeXhrLike(status, statusText, headerBlock, responseText, findHeader) {
  return {
    readyState: 4,
    status: status,
    statusText: statusText || (status ? '' : 'error'),
    responseText: responseText,
    getResponseHeader: function (name) {
      var value = headerBlock ? findHeader(headerBlock, String(name)) : '\n';
      return value === '\n' ? null : value;
    },
    getAllResponseHeaders: function () { return headerBlock || ''; }
  };
}
