// Decoding what the wasm module hands over: a batch of messages, and an error's response as
// onError receives it.
//
// A batch: `messages` is [flags, typeOffset, typeLength, dataOffset, dataLength] per message,
// offsets into the body (flags: 1 JSON data, 2 string type, 4 number/true type); `values` is
// the JSON messages' type and data values gathered by the core into one JSON array, [type,
// data, type, data, ...]. It is empty when the core did not gather them (large messages:
// worth_gathering in src/core/body.hpp); each value is then parsed where it stands in the body.
//
// A batch is parsed in runs (of 256 messages: connection.js), each run just before its
// messages are delivered: what JSON.parse makes for a run is garbage once the run's handlers
// have run, so the collector's scavenges, which copy whatever is still alive, copy one run's
// messages at most. Parsing a whole batch at once kept all of it alive through every scavenge
// of the parse and the dispatch. Chromium, 10,000 messages of the headline's shape (the bench):
// gathered, decoded, parsed and dispatched to one handler, no network, 66.8 ms in one parse and
// 50.5 in runs of 256 (medians of 15 pages, interleaved); in the product, the scavenges during
// a drain took 9.1-25.6 ms instead of 25.7-38.1 (three pages each, Chromium's trace). Everything
// a run needs is read out of wasm memory at once, before any handler runs: a handler may
// connect or close, and wasm memory may then grow or be reused.

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

// The bytes of a gathered message's type value at entry `d`: its token, or "null".
function typeBytes(entries, d) {
  return entries[d] & 6 ? entries[d + 2] : 4;
}

// Returns the batch's runs of at most `size` messages (at least one run), in order, each a
// function that parses its messages and returns { types, datas, failures }: the messages to
// deliver, and those whose JSON the core validated but JSON.parse refused ({ error, text }),
// which are skipped.
export function decodeBatch(body, messages, values, size) {
  var count = messages.length / 5;
  var text = null;
  var runs = [];
  var at = 0;  // where the next gathered message's "[" or "," stands in `values`
  var first = 0;
  do {
    var end = Math.min(count, first + size);
    var raws = [];  // the messages not gathered: their data and type texts
    var from = at;
    for (var d = first * 5; d < end * 5; d += 5) {
      var flags = messages[d];
      if (values.length && (flags & 1)) {
        at += 2 + typeBytes(messages, d) + messages[d + 4];
      } else {
        text = text || batchText(body);
        raws[d / 5 - first] = [text(messages[d + 3], messages[d + 4]),
                               flags & 6 ? text(messages[d + 1], messages[d + 2]) : null];
      }
    }
    var bytes = values.subarray(from, at);
    var json = textDecoder.decode(bytes);
    runs.push(parseRun.bind(null, messages.slice(first * 5, end * 5), raws, json,
                            json.length !== bytes.length && bytes.slice()));
    first = end;
  } while (first < count);
  return runs;
}

// One run: `entries` its part of `messages` (a copy), `raws` as decodeBatch made them, `json`
// its gathered values ("[" or "," first) and, when that text is not one character per byte,
// `bytes`, a copy of them: should JSON.parse refuse the run's values where the core did not,
// each message is parsed on its own, its values found at their byte offsets.
function parseRun(entries, raws, json, bytes) {
  var count = entries.length / 5;
  var values = null;
  try {
    values = json && JSON.parse('[' + json.substring(1) + ']');
  } catch (error) {
    // the core and JSON.parse disagree somewhere: each message on its own
  }
  // The fallback's texts: from the run's text, or decoded from its bytes.
  var cut = bytes ? decodeText.bind(null, bytes) : json.substr.bind(json);
  var datas = [];
  var types = [];
  var failures = [];
  for (var i = 0, d = 0, v = 0, at = 0; i < count; i++, d += 5) {
    var flags = entries[d];
    var raw = raws[i];
    if (!raw) {
      if (values) {
        types.push(typeOf(values[v++]));
        datas.push(values[v++]);
        continue;
      }
      var typeLength = typeBytes(entries, d);
      raw = [cut(at + typeLength + 2, entries[d + 4]), flags & 6 ? cut(at + 1, typeLength) : null];
      at += 2 + typeLength + entries[d + 4];
    }
    try {
      var data = flags & 1 ? JSON.parse(raw[0]) : raw[0];
      types.push(raw[1] !== null ? typeOf(JSON.parse(raw[1])) : null);
      datas.push(data);
    } catch (error) {
      failures.push({ error: error, text: raw[0] });
    }
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
