'use strict';
// Brings a fresh Debian machine to a working checkout: installs what is missing (apt-get as
// root, npm ci), then builds. When everything is present this costs seconds. Used by
// `npm test`, `npm start`, `npm run bench` and `npm run build` (`npm run setup` also builds
// the native tests).
//
//   node tools/setup.js [--build-only]
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const WASM_BUILD = path.join(ROOT, 'build-wasm');
const NATIVE_BUILD = path.join(ROOT, 'build-native');
const DIST = path.join(ROOT, 'dist', 'jquery.comet.js');

// Debian package -> a file that proves it is installed.
const SYSTEM_PACKAGES = [
  ['emscripten', '/usr/bin/emcc'],
  ['nginx-light', '/usr/sbin/nginx'],
  ['libnginx-mod-nchan', '/usr/lib/nginx/modules/ngx_nchan_module.so'],
  ['chromium', '/usr/bin/chromium'],
  ['firefox-esr', '/usr/bin/firefox-esr'],
  ['redis-server', '/usr/bin/redis-server'],
  ['cmake', '/usr/bin/cmake'],
  ['g++', '/usr/bin/g++'],
  ['make', '/usr/bin/make'],
  ['libgtest-dev', '/usr/include/gtest/gtest.h'],
  ['node-acorn', '/usr/share/nodejs/acorn/package.json'],
  ['fonts-dejavu-core', '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'],
  ['clang', '/usr/bin/clang++'],
  ['clang-format', '/usr/bin/clang-format'],
  ['libclang-rt-14-dev', '/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a'],
];

function log(message) {
  process.stdout.write(`[setup] ${message}\n`);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: ROOT, ...options });
  if (result.error) throw new Error(`${command} could not start: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed with exit code ${result.status}`);
}

function ensureSystemPackages() {
  const missing = SYSTEM_PACKAGES.filter(([, file]) => !fs.existsSync(file)).map(([name]) => name);
  if (missing.length === 0) return;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new Error(`missing Debian packages: ${missing.join(' ')}\n` +
      `install them as root: apt-get update && apt-get install -y ${missing.join(' ')}`);
  }
  log(`installing ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update'], { env });
  run('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env });
}

function ensureNodeModules() {
  const lock = path.join(ROOT, 'package-lock.json');
  const installed = path.join(ROOT, 'node_modules', '.package-lock.json');
  const fresh = fs.existsSync(installed) && fs.statSync(installed).mtimeMs >= fs.statSync(lock).mtimeMs;
  if (fresh) return;
  log('npm ci');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

function buildEnv() {
  // emcc needs acorn, which Debian installs outside node's default search path; Debian's
  // closure-compiler is missing or from 2013, so closure comes from npm (the newest release
  // does not work with emcc 3.1.6).
  return { ...process.env, NODE_PATH: '/usr/share/nodejs',
    EM_CLOSURE_COMPILER: path.join(ROOT, 'node_modules', '.bin', 'google-closure-compiler') };
}

function buildWasm() {
  const env = buildEnv();
  if (!fs.existsSync(path.join(WASM_BUILD, 'CMakeCache.txt'))) {
    run('emcmake', ['cmake', '-S', ROOT, '-B', WASM_BUILD, '-DCMAKE_BUILD_TYPE=MinSizeRel',
      '-DCMAKE_CXX_FLAGS_MINSIZEREL=-Oz -DNDEBUG', '-DCOMET_CLOSURE=ON'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  run('cmake', ['--build', WASM_BUILD, '-j', '2'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  fs.mkdirSync(path.dirname(DIST), { recursive: true });
  const built = path.join(WASM_BUILD, 'jquery.comet.js');
  if (!fs.existsSync(DIST) || fs.statSync(DIST).mtimeMs < fs.statSync(built).mtimeMs) fs.copyFileSync(built, DIST);
  log(`built ${path.relative(ROOT, DIST)} (${fs.statSync(DIST).size} bytes)`);
}

function buildNative() {
  if (!fs.existsSync(path.join(NATIVE_BUILD, 'CMakeCache.txt'))) {
    run('cmake', ['-S', ROOT, '-B', NATIVE_BUILD, '-DCMAKE_BUILD_TYPE=Debug',
      '-DCMAKE_CXX_FLAGS=-fsanitize=address,undefined -fno-sanitize-recover=undefined'],
    { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  run('cmake', ['--build', NATIVE_BUILD, '-j', '2'], { stdio: ['ignore', 'ignore', 'inherit'] });
}

function setup({ native = false } = {}) {
  ensureSystemPackages();
  ensureNodeModules();
  buildWasm();
  if (native) buildNative();
}

module.exports = { setup, buildWasm, buildNative, ROOT, NATIVE_BUILD, WASM_BUILD, DIST };

if (require.main === module) {
  try {
    setup({ native: !process.argv.includes('--build-only') });
  } catch (error) {
    console.error(`[setup] ${error.message}`);
    process.exit(1);
  }
}
