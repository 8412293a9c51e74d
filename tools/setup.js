'use strict';
// Brings a fresh Debian machine to a working checkout: installs what is missing (apt-get as
// root, npm ci), then builds. When everything is present this costs seconds. Used by
// `npm test`, `npm start`, `npm run bench` and `npm run build` (`npm run setup` also builds
// the native tests), and before `npm pack` / `npm publish` (the `prepack` script).
//
//   node tools/setup.js [--build-only | --pack]
//
// --build-only: only what building dist/jquery.comet.js needs (Emscripten, CMake, make,
//   node-acorn), not the browsers, nginx or the test tools.
// --pack: as --build-only, for `npm pack`: a tarball must never lack dist/jquery.comet.js, so
//   when the build cannot run this fails, saying what is missing and what to do.
// COMET_SETUP_NO_INSTALL=1: install nothing (neither apt-get, even as root, nor npm ci); say
//   what is missing instead.
//
// Each step that does work prints what it is and what it costs on a first run before it starts,
// and how long it took when done. Every build ends with the file's size and its Subresource
// Integrity hash, also written to dist/jquery.comet.js.sri (for a release's notes and the CDN
// script tag's integrity attribute).
const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');

const ROOT = path.resolve(__dirname, '..');
const WASM_BUILD = path.join(ROOT, 'build-wasm');
const NATIVE_BUILD = path.join(ROOT, 'build-native');
const DIST = path.join(ROOT, 'dist', 'jquery.comet.js');
const SRI = `${DIST}.sri`;

// Debian package -> what proves it is installed: the commands the build runs, looked up on PATH
// as they are run (an Emscripten from emsdk counts too), or a file.
const BUILD_PACKAGES = [
  ['emscripten', { commands: ['emcc', 'emcmake'] }],
  ['cmake', { commands: ['cmake'] }],
  ['make', { commands: ['make'] }],
  // emcc needs acorn; buildEnv() points NODE_PATH at Debian's copy.
  ['node-acorn', { file: '/usr/share/nodejs/acorn/package.json' }],
];
// What the tests, the demo and the benchmark need besides.
const OTHER_PACKAGES = [
  ['nginx-light', { file: '/usr/sbin/nginx' }],
  ['libnginx-mod-nchan', { file: '/usr/lib/nginx/modules/ngx_nchan_module.so' }],
  ['chromium', { file: '/usr/bin/chromium' }],
  ['firefox-esr', { file: '/usr/bin/firefox-esr' }],
  // WebKit: Debian's WebKitGTK MiniBrowser, driven through WebKitWebDriver (classic WebDriver)
  // in a virtual X display.
  ['webkit2gtk-driver', { file: '/usr/bin/WebKitWebDriver' }],
  ['xvfb', { file: '/usr/bin/Xvfb' }],
  ['redis-server', { file: '/usr/bin/redis-server' }],
  ['g++', { file: '/usr/bin/g++' }],
  ['libgtest-dev', { file: '/usr/include/gtest/gtest.h' }],
  ['fonts-dejavu-core', { file: '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf' }],
  ['clang', { file: '/usr/bin/clang++' }],
  ['clang-format', { file: '/usr/bin/clang-format' }],
  ['libclang-rt-14-dev', { file: '/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a' }],
];

// What each step costs on a first run, as measured on a 2-core machine that other jobs shared
// (the times vary with that load): printed as the step starts, so that a first run's minutes
// are expected. Every step prints its own time when done.
const FIRST_RUN = {
  apt: 'first run only: downloads and installs them, minutes',
  npm: 'first run: downloads about 140 MB; 10-30 s on a fast connection',
  wasmConfigure: 'first build only: a few seconds',
  wasm: 'first build: 20 s to a minute on 2 cores; then about a second',
  native: 'first build: 1-3 minutes on 2 cores; then seconds',
};

// Progress goes to stdout, except under `npm pack`, where stdout is npm's (`npm pack --json`
// prints the tarball's description there, and npm runs prepack with its own stdout).
let progress = process.stdout;

function log(message) {
  progress.write(`[setup] ${message}\n`);
}

// Runs fn() as one step of the set-up: says what it is (and its cost) first, its time after.
function step(title, hint, fn) {
  log(hint ? `${title} (${hint})` : title);
  const started = process.hrtime.bigint();
  const result = fn();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  log(`${title}: done in ${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`);
  return result;
}

function run(command, args, options = {}) {
  // A command's output goes where the progress goes: under `npm pack`, stdout is npm's.
  const stdio = ['inherit', progress === process.stderr ? 2 : 'inherit', 'inherit'];
  const result = spawnSync(command, args, { stdio, cwd: ROOT, ...options });
  if (result.error) throw new Error(`${command} could not start: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed with exit code ${result.status}`);
}

function onPath(command) {
  return (process.env.PATH || '').split(path.delimiter).filter(Boolean).some((dir) => {
    try {
      fs.accessSync(path.join(dir, command), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

// [package, why it counts as missing] for each missing one.
function missingPackages(packages) {
  const missing = [];
  for (const [name, { commands, file }] of packages) {
    if (file && !fs.existsSync(file)) missing.push([name, `no ${file}`]);
    const absent = (commands || []).filter((command) => !onPath(command));
    if (absent.length) missing.push([name, `${absent.join(', ')} not found on PATH`]);
  }
  return missing;
}

function installForbidden() {
  return /^(1|true|yes)$/i.test(process.env.COMET_SETUP_NO_INSTALL || '');
}

// `pack`: the error is for `npm pack` (or `npm publish`), which has no file to pack without
// the build. `reason`: why setup does not install them itself.
function missingError(missing, { pack = false, reason }) {
  const names = [...new Set(missing.map(([name]) => name))].join(' ');
  const lines = [pack
    ? 'npm pack (and npm publish) build dist/jquery.comet.js first, and the build needs what is missing here:'
    : 'missing Debian packages:'];
  for (const [name, why] of missing) lines.push(`  ${name} (${why})`);
  lines.push(`${reason} Install as root:`);
  lines.push(`  apt-get update && apt-get install -y ${names}`);
  if (pack) {
    lines.push('then run npm pack again. No Emscripten at hand? The built file is in every release: the npm package ' +
      '(npm install jquery.comet) and its copy on a CDN (README: "Getting the file").');
  }
  return new Error(lines.join('\n'));
}

function ensureSystemPackages(packages, { pack = false } = {}) {
  const missing = missingPackages(packages);
  if (missing.length === 0) return;
  if (installForbidden()) {
    throw missingError(missing, { pack, reason: 'COMET_SETUP_NO_INSTALL is set, so setup installs nothing itself.' });
  }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw missingError(missing, { pack, reason: 'setup installs them itself (apt-get) only when run as root.' });
  }
  const names = [...new Set(missing.map(([name]) => name))];
  step(`apt-get install ${names.join(' ')}`, FIRST_RUN.apt, () => {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    run('apt-get', ['update'], { env });
    run('apt-get', ['install', '-y', '--no-install-recommends', ...names], { env });
  });
  const still = missingPackages(packages);
  if (still.length) {
    throw missingError(still, { pack, reason: 'apt-get ran, and they are still missing: is /usr/bin on PATH?' });
  }
}

function ensureNodeModules() {
  const lock = path.join(ROOT, 'package-lock.json');
  const installed = path.join(ROOT, 'node_modules', '.package-lock.json');
  const fresh = fs.existsSync(installed) && fs.statSync(installed).mtimeMs >= fs.statSync(lock).mtimeMs;
  if (fresh) return;
  if (installForbidden()) {
    throw new Error('node_modules is missing or older than package-lock.json, and COMET_SETUP_NO_INSTALL is set: run npm ci');
  }
  // Under `npm pack --dry-run` or `--json` (prepack), npm passes its options on as npm_config_*:
  // they are not for this install.
  const env = { ...process.env };
  delete env.npm_config_dry_run;
  delete env.npm_config_json;
  step('npm ci', FIRST_RUN.npm, () => run('npm', ['ci', '--no-audit', '--no-fund'], { env }));
}

function buildEnv() {
  // emcc needs acorn, which Debian installs outside node's default search path; Debian's
  // closure-compiler is missing or from 2013, so closure comes from npm (the newest release
  // does not work with emcc 3.1.6).
  return { ...process.env, NODE_PATH: '/usr/share/nodejs',
    EM_CLOSURE_COMPILER: path.join(ROOT, 'node_modules', '.bin', 'google-closure-compiler') };
}

// The file's size and its Subresource Integrity hash: printed, and the hash written to
// dist/jquery.comet.js.sri.
function describeProduct() {
  const bytes = fs.readFileSync(DIST);
  const integrity = `sha384-${crypto.createHash('sha384').update(bytes).digest('base64')}`;
  if (!fs.existsSync(SRI) || fs.readFileSync(SRI, 'utf8') !== `${integrity}\n`) fs.writeFileSync(SRI, `${integrity}\n`);
  const gzip = zlib.gzipSync(bytes, { level: 9 }).length;
  const relative = path.relative(ROOT, DIST);
  log(`${relative}: ${bytes.length.toLocaleString('en-US')} bytes (${gzip.toLocaleString('en-US')} gzipped, zlib level 9)`);
  log(`${relative} integrity: ${integrity} (also in ${path.relative(ROOT, SRI)})`);
  return { size: bytes.length, gzip, integrity };
}

function buildWasm() {
  const env = buildEnv();
  const first = !fs.existsSync(path.join(WASM_BUILD, 'CMakeCache.txt'));
  if (first) {
    step('configuring the wasm build with emcmake', FIRST_RUN.wasmConfigure, () => {
      run('emcmake', ['cmake', '-S', ROOT, '-B', WASM_BUILD, '-DCMAKE_BUILD_TYPE=MinSizeRel',
        '-DCMAKE_CXX_FLAGS_MINSIZEREL=-Oz -DNDEBUG', '-DCOMET_CLOSURE=ON'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    });
  }
  step('building dist/jquery.comet.js with emcc', first ? FIRST_RUN.wasm : 'incremental: about a second when nothing changed', () => {
    run('cmake', ['--build', WASM_BUILD, '-j', '2'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  });
  const built = path.join(WASM_BUILD, 'jquery.comet.js');
  if (!fs.existsSync(built)) throw new Error(`the build wrote no ${path.relative(ROOT, built)}`);
  fs.mkdirSync(path.dirname(DIST), { recursive: true });
  // By content, not by date: a dist/ file edited or copied in by hand is replaced too.
  const product = fs.readFileSync(built);
  if (!fs.existsSync(DIST) || !fs.readFileSync(DIST).equals(product)) fs.copyFileSync(built, DIST);
  return describeProduct();
}

function buildNative() {
  const first = !fs.existsSync(path.join(NATIVE_BUILD, 'CMakeCache.txt'));
  step('building the native tests with g++', first ? FIRST_RUN.native : 'incremental: seconds when nothing changed', () => {
    if (first) {
      run('cmake', ['-S', ROOT, '-B', NATIVE_BUILD, '-DCMAKE_BUILD_TYPE=Debug',
        '-DCMAKE_CXX_FLAGS=-fsanitize=address,undefined -fno-sanitize-recover=undefined'],
      { stdio: ['ignore', 'ignore', 'inherit'] });
    }
    run('cmake', ['--build', NATIVE_BUILD, '-j', '2'], { stdio: ['ignore', 'ignore', 'inherit'] });
  });
}

// `buildOnly`: only what the build needs; `pack`: the same, failing as `npm pack` needs.
function setup({ native = false, buildOnly = false, pack = false } = {}) {
  ensureSystemPackages(buildOnly || pack ? BUILD_PACKAGES : [...BUILD_PACKAGES, ...OTHER_PACKAGES], { pack });
  ensureNodeModules();
  const product = buildWasm();
  if (native) buildNative();
  return product;
}

module.exports = { setup, buildWasm, buildNative, describeProduct, ROOT, NATIVE_BUILD, WASM_BUILD, DIST, SRI };

if (require.main === module) {
  const pack = process.argv.includes('--pack');
  if (pack) progress = process.stderr;
  const buildOnly = process.argv.includes('--build-only');
  try {
    setup({ native: !buildOnly && !pack, buildOnly, pack });
  } catch (error) {
    console.error(`[setup] ${error.message}`);
    process.exit(1);
  }
}
