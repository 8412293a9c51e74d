// The module loader, and the JavaScript half of the boundary (src/wasm/bindings.cpp holds the
// whole contract): the wasm module, embedded by the build deflated, is inflated, compiled and
// started; its calls out arrive here and go to the connection they name.

// The wasm module arrives in WASM, the argument of the function tools/build-shim.js wraps the
// bundle in: base64 of the module deflated by zopfli (zlib format; tools/embed-wasm.js puts it
// there). The page's gzip cannot shrink that base64 further, but it is smaller than the gzip of
// any plain embedding: 46 KB of wasm is 21.9 KB of the file this way, 25.7 KB as hex.

// Base64 to bytes: Uint8Array.fromBase64 (Chrome 140, Firefox 133, Safari 18.2) natively; atob
// and a loop in older browsers.
function base64Bytes(text) {
  if (typeof Uint8Array.fromBase64 === 'function') return Uint8Array.fromBase64(text);
  var binary = atob(text);
  var bytes = new Uint8Array(binary.length);
  for (var i = 0; i < bytes.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function ignore() {}

// Inflates with the browser's own DecompressionStream (Chrome 80, Firefox 113, Safari 16.4).
// The stream's steps are promises that settle as microtasks in Chromium, Firefox and WebKit
// alike: the module is whole before the page's next script runs, as a synchronous decode was.
function inflate(bytes) {
  var stream = new DecompressionStream('deflate');
  var writer = stream.writable.getWriter();
  // A broken stream rejects these too; the reader's rejection is the one that is reported.
  writer.write(bytes).then(null, ignore);
  writer.close().then(null, ignore);
  var reader = stream.readable.getReader();
  var chunks = [];
  var size = 0;
  function next() {
    return reader.read().then(function (step) {
      if (!step.done) {
        chunks.push(step.value);
        size += step.value.length;
        return next();
      }
      if (chunks.length === 1) return chunks[0];
      var whole = new Uint8Array(size);
      for (var i = 0, at = 0; i < chunks.length; at += chunks[i].length, i++) whole.set(chunks[i], at);
      return whole;
    });
  }
  return next();
}

// Compiles the module synchronously once it is inflated: for ~46 KB that takes a millisecond
// or two, and the module is then ready before the page's next script runs (an asynchronous
// compile waits its turn behind the page's other work: 20-70 ms here). Browsers that refuse a
// synchronous compile of this size on the main thread get the asynchronous one. `start` is the
// module's own (src/wasm/pre.js hands it over); `fail` hears why the wasm could not start.
function instantiate(imports, start, fail) {
  if (typeof DecompressionStream !== 'function') {
    fail(new Error('this browser has no DecompressionStream (Chrome 80, Firefox 113 and Safari 16.4 have it)'));
    return;
  }
  new Promise(function (resolve) {
    resolve(inflate(base64Bytes(WASM)));
  }).then(function (bytes) {
    var instance = null;
    try {
      instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), imports);
    } catch (error) {
      return WebAssembly.instantiate(bytes, imports).then(start);
    }
    start({ instance: instance });
  }).then(null, fail);
}

// The calls out of wasm (bindings.cpp's EM_JS functions), each to the connection with that id:
// `batch` to its _onBatch method, and so on; `live(id)` finds it, or null once it is gone.
function callsOut(live) {
  function route(name) {
    var method = '_on' + name.charAt(0).toUpperCase() + name.slice(1);
    return function (id) {
      var connection = live(id);
      if (connection) connection[method].apply(connection, Array.prototype.slice.call(arguments, 1));
    };
  }
  var calls = {};
  ['batch', 'report', 'ask', 'relayed', 'state', 'url', 'save', 'post', 'lock', 'log'].forEach(function (name) {
    calls[name] = route(name);
  });
  return calls;
}

// Starts a module instance; resolves to it. `createModule` is Emscripten's factory.
export function startModule(createModule, live) {
  return new Promise(function (resolve, reject) {
    createModule({
      instantiateWasm: function (imports, start) {
        instantiate(imports, start, reject);
      },
      _comet: callsOut(live)
    }).then(resolve, reject);
  });
}
