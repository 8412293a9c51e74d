// Emscripten's fetchXHR, trimmed to what src/wasm/fetch_connection.cpp asks of emscripten_fetch
// (linked with --js-library after library_fetch.js, CMakeLists.txt: this entry replaces
// Emscripten's own of the same name, which emscripten_start_fetch calls).
//
// From Emscripten 3.1.6, src/Fetch.js (Copyright 2016 The Emscripten Authors; MIT or
// University of Illinois/NCSA Open Source License).
//
// What the adapter asks for: an asynchronous XHR, the body loaded into memory whole (no
// streaming, no IndexedDB, no request body, no user name, no MIME override), no XHR timeout
// (the Poller owns timeouts), and onsuccess, onerror and onprogress. Emscripten's version
// carries the other branches in every build (324 B of the gzipped file) and, per request,
// sets five handlers, an XHR timeout, withCredentials and an expando property, and reads
// xhr.response four times. This one sets only what is asked (withCredentials only when true)
// and reads xhr.response once. A plain burst, one request per message, was not measurably
// faster for it (Chromium, interleaved with Emscripten's version).
//
// The struct fields it fills are the ones the adapter and emscripten_fetch_close read: id,
// data, numBytes, dataOffset, totalBytes, readyState, status and statusText. readyState is 4
// from the response's end on, so that closing the fetch afterwards calls no handler.
mergeInto(LibraryManager.library, {
  $fetchXHR__deps: ['$Fetch', 'malloc'],
  $fetchXHR: function (fetch, onsuccess, onerror, onprogress) {
    var attr = fetch + {{{ C_STRUCTS.emscripten_fetch_t.__attributes }}};
    var headers = HEAPU32[attr + {{{ C_STRUCTS.emscripten_fetch_attr_t.requestHeaders }}} >> 2];
    var xhr = new XMLHttpRequest();
    if (HEAPU32[attr + {{{ C_STRUCTS.emscripten_fetch_attr_t.withCredentials }}} >> 2]) xhr.withCredentials = true;
    xhr.open(UTF8ToString(attr), UTF8ToString(HEAPU32[fetch + {{{ C_STRUCTS.emscripten_fetch_t.url }}} >> 2]));
    xhr.responseType = 'arraybuffer';
    // Name, value, ..., null.
    for (; headers && HEAPU32[headers >> 2]; headers += 8) {
      xhr.setRequestHeader(UTF8ToString(HEAPU32[headers >> 2]), UTF8ToString(HEAPU32[headers + 4 >> 2]));
    }
    // The id is the index + 1 (Emscripten's convention: 0 is no fetch).
    HEAPU32[fetch + {{{ C_STRUCTS.emscripten_fetch_t.id }}} >> 2] = Fetch.xhrs.push(xhr);
    function state(readyState) {
      HEAPU16[fetch + {{{ C_STRUCTS.emscripten_fetch_t.readyState }}} >> 1] = readyState;
      HEAPU16[fetch + {{{ C_STRUCTS.emscripten_fetch_t.status }}} >> 1] = xhr.status;
    }
    // The whole body into memory that emscripten_fetch_close frees (none for an empty one).
    function finish(e, loaded) {
      var body = loaded ? xhr.response : null;
      var size = body ? body.byteLength : 0;
      var ptr = 0;
      if (size) {
        ptr = _malloc(size);
        HEAPU8.set(new Uint8Array(body), ptr);
      }
      HEAPU32[fetch + {{{ C_STRUCTS.emscripten_fetch_t.data }}} >> 2] = ptr;
      Fetch.setu64(fetch + {{{ C_STRUCTS.emscripten_fetch_t.numBytes }}}, size);
      Fetch.setu64(fetch + {{{ C_STRUCTS.emscripten_fetch_t.dataOffset }}}, 0);
      Fetch.setu64(fetch + {{{ C_STRUCTS.emscripten_fetch_t.totalBytes }}}, size);
      state(4);
      stringToUTF8(loaded ? xhr.statusText : '', fetch + {{{ C_STRUCTS.emscripten_fetch_t.statusText }}}, 64);
      // As Emscripten's: a response that is not 2xx goes to onerror, with its body.
      (loaded && xhr.status >= 200 && xhr.status < 300 ? onsuccess : onerror)(fetch, xhr, e);
    }
    xhr.onload = function (e) { finish(e, true); };
    xhr.onerror = function (e) { finish(e, false); };
    xhr.onprogress = function (e) {
      Fetch.setu64(fetch + {{{ C_STRUCTS.emscripten_fetch_t.dataOffset }}}, e.loaded);
      Fetch.setu64(fetch + {{{ C_STRUCTS.emscripten_fetch_t.totalBytes }}}, e.total);
      state(xhr.readyState);
      onprogress(fetch, xhr, e);
    };
    // As Emscripten's: should send() throw, the fetch fails (with status 0) rather than the
    // exception unwinding through the wasm frames that called it.
    try {
      xhr.send();
    } catch (e) {
      finish(e, false);
    }
  },
});
