'use strict';
// Build step (run by CMake after the link): writes the one-file product. Puts the wasm module,
// as hex, where the shim's placeholder stands, so dist/jquery.comet.js needs no second request.
// Hex rather than Emscripten's SINGLE_FILE base64: hex keeps the module's bytes aligned, so
// gzip still finds their repeats (40 KB of wasm: 21.3 KB gzip as hex, 24.8 KB as base64).
//
//   node tools/embed-wasm.js <module.js> <module.wasm> <out.js>
const fs = require('node:fs');

const [moduleJs, moduleWasm, out] = process.argv.slice(2);
if (!out) {
  console.error('usage: node tools/embed-wasm.js <module.js> <module.wasm> <out.js>');
  process.exit(2);
}
// The shim's string literal, in whichever quotes the minifier chose.
const PLACEHOLDER = /(['"])@COMET_WASM_HEX@\1/g;
const source = fs.readFileSync(moduleJs, 'utf8');
const found = source.match(PLACEHOLDER) || [];
if (found.length !== 1) {
  console.error(`embed-wasm: expected the placeholder '@COMET_WASM_HEX@' once in ${moduleJs}, found it ${found.length} times`);
  process.exit(1);
}
const hex = fs.readFileSync(moduleWasm).toString('hex');
fs.writeFileSync(out, source.replace(PLACEHOLDER, () => `'${hex}'`));
