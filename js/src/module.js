// The module loader, and the JavaScript half of the boundary (src/wasm/bindings.cpp holds the
// whole contract): the wasm module, embedded by the build as hex, is compiled and started;
// its calls out arrive here and go to the connection they name.

// The wasm module arrives as hex in WASM_HEX, the argument of the function tools/build-shim.js
// wraps the bundle in (tools/embed-wasm.js puts it there): gzip shrinks hex to within ~10% of
// the binary's own gzip size, base64 only to ~30% above it.

// Uint8Array.fromHex (Chrome 140, Firefox 133, Safari 18.2) decodes natively in well under a
// millisecond; the loop is for older browsers (4-12 ms here while it is still cold).
function wasmBytes(hex) {
  if (typeof Uint8Array.fromHex === 'function') return Uint8Array.fromHex(hex);
  var bytes = new Uint8Array(hex.length >> 1);
  for (var i = 0, j = 0; i < bytes.length; i++, j += 2) {
    var high = hex.charCodeAt(j), low = hex.charCodeAt(j + 1);
    bytes[i] = ((high > 57 ? high - 87 : high - 48) << 4) | (low > 57 ? low - 87 : low - 48);
  }
  return bytes;
}

// Compiles the module synchronously: for ~40 KB that takes a millisecond or two, and the
// module is then ready before the page's next script runs (an asynchronous compile waits its
// turn behind the page's other work: 20-70 ms here). Browsers that refuse a synchronous
// compile of this size on the main thread get the asynchronous one. `start` is the module's
// own (src/wasm/pre.js hands it over); `fail` hears why the wasm could not start.
function instantiate(imports, start, fail) {
  var bytes = wasmBytes(WASM_HEX);
  var instance = null;
  try {
    instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), imports);
  } catch (error) {
    WebAssembly.instantiate(bytes, imports).then(start, fail);
    return;
  }
  start({ instance: instance });
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
