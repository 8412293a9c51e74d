'use strict';
// The JavaScript style check that `npm test` runs (npx eslint .): eslint's recommended rules
// plus a few that keep the code plain, for the shim (js/src/: ES modules, otherwise ES5, runs in
// any page), the demo, the build tools (tools/), and the Node test tooling and tests.
const js = require('@eslint/js');
const globals = require('globals');

const style = {
  eqeqeq: ['error', 'always', { null: 'ignore' }],
  'no-var': 'off',
  'prefer-const': 'off',
  semi: ['error', 'always'],
  quotes: ['error', 'single', { avoidEscape: true, allowTemplateLiterals: true }],
  curly: ['error', 'multi-line'],
  'no-unused-vars': ['error', { args: 'none', caughtErrors: 'none' }],
  'max-len': ['error', { code: 160, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true }],
};

module.exports = [
  // src/wasm/fetch_trim.js is an Emscripten library template: emcc fills in its {{{ }}} struct
  // offsets before closure compiles it, and it is not JavaScript until then.
  { ignores: ['build*/**', 'dist/**', 'node_modules/**', 'test/artifacts/**', 'test/browser/pages/generated/**',
              'src/wasm/fetch_trim.js'] },
  js.configs.recommended,
  {
    // The shim's sources, bundled by tools/build-shim.js into one ES5 script appended after
    // Emscripten's factory: ES modules (import/export, ecmaVersion 2015) but otherwise ES5
    // code, browser, CommonJS-aware (the `module` of whoever loads dist/jquery.comet.js).
    files: ['js/src/**/*.js'],
    languageOptions: { ecmaVersion: 2015, sourceType: 'module',
      globals: { ...globals.browser, createCometModule: 'readonly', WASM: 'readonly', module: 'writable' } },
    rules: style,
  },
  {
    // Browser-side code: the demo, test pages, bench contenders.
    files: ['web/demo.js', 'test/browser/pages/**/*.js', 'test/bench/pages/**/*.js'],
    languageOptions: { ecmaVersion: 2020, sourceType: 'script',
      globals: { ...globals.browser, jQuery: 'readonly', $: 'readonly', NchanSubscriber: 'readonly' } },
    rules: style,
  },
  {
    // Build and set-up tools: Node, CommonJS.
    files: ['tools/**/*.js'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'commonjs', globals: globals.node },
    rules: style,
  },
  {
    // Node: servers, test runners and tests (whose page.evaluate callbacks run in the browser,
    // hence the browser globals too).
    files: ['**/*.js'],
    ignores: ['js/src/**', 'tools/**', 'web/demo.js', 'test/browser/pages/**', 'test/bench/pages/**'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'commonjs',
      globals: { ...globals.node, ...globals.browser, $: 'readonly', jQuery: 'readonly' } },
    rules: style,
  },
];
