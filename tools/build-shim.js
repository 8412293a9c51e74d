'use strict';
// Build step (run by CMake before the link): bundles the jQuery face, js/src/ with main.js as
// its entry, into the one ES5 script that Emscripten appends after its module factory
// (--extern-post-js), after Closure Compiler has minified it (ECMASCRIPT5_STRICT).
//
//   node tools/build-shim.js <entry.js> <out.js>
//
// The output is ES5, `;(function (WASM) { (function() { ... })(); })('@COMET_WASM@');`,
// with no minification (Closure does that): `createCometModule` stays a free reference to the
// factory before it, `module` stays the CommonJS loader's (when there is one), and the
// placeholder stays a string literal for tools/embed-wasm.js to replace.
//
// js/src/package.json says "type": "module": without it esbuild would take a file that
// mentions `module` (main.js does, to export for CommonJS) for a CommonJS module and wrap it,
// and `module.exports` would then be the wrapper's, not the loader's.
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const PLACEHOLDER = /(['"])@COMET_WASM@\1/g;

function fail(message) {
  console.error(`build-shim: ${message}`);
  process.exit(1);
}

const [entry, out] = process.argv.slice(2);
if (!out) {
  console.error('usage: node tools/build-shim.js <entry.js> <out.js>');
  process.exit(2);
}

let result;
try {
  result = esbuild.buildSync({
    entryPoints: [path.resolve(entry)],
    absWorkingDir: path.resolve(__dirname, '..'),
    bundle: true,
    write: false,
    outfile: path.resolve(out),
    format: 'iife',
    target: 'es5',
    platform: 'browser',
    minify: false,
    sourcemap: false,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    // main.js hands attach() to CommonJS through the global `module`, on purpose.
    logOverride: { 'commonjs-variable-in-esm': 'silent' },
  });
} catch (error) {
  // esbuild has printed the errors already.
  fail(`bundling ${entry} failed`);
}

const wrapped = Object.entries(result.metafile.inputs).filter(([, input]) => input.format === 'cjs');
if (wrapped.length) {
  fail(`${wrapped.map(([name]) => name).join(', ')} would be wrapped as CommonJS: ` +
    'files under js/src/ must be ES modules (js/src/package.json: "type": "module")');
}
// The wasm module (base64, ~30 KB) arrives as the argument of an outermost function, in the
// script's top-level code: V8 scans that literal once. Closure inlines a constant used once
// into the function that uses it, and a literal inside a lazily compiled function is scanned
// twice, on the pre-parse and again on first call: ~10 ms more to ready.
if ((result.outputFiles[0].text.match(PLACEHOLDER) || []).length !== 0) {
  fail('the placeholder \'@COMET_WASM@\' belongs to this wrapper: js/src/ reads the global WASM');
}
// The leading semicolon: MINIMAL_RUNTIME's factory ends without one, and this script would
// otherwise be read as a call of it.
const text = `;(function (WASM) {\n${result.outputFiles[0].text}})('@COMET_WASM@');\n`;

fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
fs.writeFileSync(out, text);
