// Linked with --pre-js (CMakeLists.txt): the start of the module's factory, for MINIMAL_RUNTIME.
//
// MINIMAL_RUNTIME starts the module with WebAssembly.instantiate(Module['wasm'], imports)
// .then(start): asynchronously (the page's next script would run first, and a connect() wait
// for it), and without a word when it fails. This WebAssembly, seen only inside the factory,
// hands the imports and `start` to the shim's Module['instantiateWasm'] instead
// (js/src/module.js), which compiles the module synchronously, calls start({instance}), and
// reports a failure itself.
/* global Module */
/* eslint-disable no-unused-vars */
/** @suppress {duplicate} */
var WebAssembly = {
  instantiate: function (wasm, imports) {
    return {
      then: function (start) {
        Module['instantiateWasm'](imports, start);
      }
    };
  }
};
