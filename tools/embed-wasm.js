'use strict';
// Build step (run by CMake after the link): writes the one-file product. Puts the wasm module
// where the shim's placeholder stands, so dist/jquery.comet.js needs no second request: deflated
// by zopfli (zlib format, which the shim's DecompressionStream('deflate') inflates) and then
// base64. The page's gzip cannot shrink that further, but it is the smallest embedding measured:
// 46,000 B of wasm are 21,878 B of gzipped file this way, 25,665 B as hex (which keeps the bytes
// aligned for gzip), 23,337 B with zlib's level 9 instead of zopfli, and far more as plain base64.
// The file opens with V8's compile hint (COMPILE_HINT below).
//
//   node tools/embed-wasm.js <module.js> <module.wasm> <out.js>
const fs = require('node:fs');
const zopfli = require('@gfx/zopfli');

const [moduleJs, moduleWasm, out] = process.argv.slice(2);
if (!out) {
  console.error('usage: node tools/embed-wasm.js <module.js> <module.wasm> <out.js>');
  process.exit(2);
}
// The shim's string literal, in whichever quotes the minifier chose.
const PLACEHOLDER = /(['"])@COMET_WASM@\1/g;
const source = fs.readFileSync(moduleJs, 'utf8');
const found = source.match(PLACEHOLDER) || [];
if (found.length !== 1) {
  console.error(`embed-wasm: expected the placeholder '@COMET_WASM@' once in ${moduleJs}, found it ${found.length} times`);
  process.exit(1);
}
// V8's explicit compile hint (Chrome 136 on; other engines read a comment): compile every
// function of the file while the script loads, not each at its first call. The first
// connect() runs most of the shim and the runtime for the first time, one lazy compile after
// another. With the hint, Chromium's first connect reached its XHR's open() after 3.0 ms
// instead of 5.2, and `ready` came after 3.4 ms instead of 4.1 (medians of 11 pages), for
// 35 KB more JS heap (the bytecode of functions a page may never call). It must open the file.
const COMPILE_HINT = '//# allFunctionsCalledOnLoad\n';
// 15 iterations (zopfli's default): 50 or 200 gain under 10 bytes for two to five times the time.
zopfli.zlib(fs.readFileSync(moduleWasm), { numiterations: 15 }, (error, deflated) => {
  if (error) {
    console.error(`embed-wasm: zopfli failed: ${error.message}`);
    process.exit(1);
  }
  const base64 = Buffer.from(deflated).toString('base64');
  fs.writeFileSync(out, COMPILE_HINT + source.replace(PLACEHOLDER, () => `'${base64}'`));
});
