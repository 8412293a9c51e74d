'use strict';
// `npm pack` as a new contributor or a release runs it: in a clean clone of this repository's
// HEAD (commit first: the clone has no uncommitted change), which has no dist/ (git-ignored).
// The prepack script (tools/setup.js --pack) must build dist/jquery.comet.js in the clone,
// really (npm ci, emcmake, emcc), before npm packs it, and print its size and SRI hash. The
// tarball is installed into an empty project, and its file loaded in Chromium the way a CDN's
// user loads it: a script tag from another origin with the printed hash as `integrity` (and
// `crossorigin`); it must receive a message from real nginx + Nchan, and a wrong hash must be
// refused. Where the build cannot run (no emcc on PATH, and setup may not install it), npm pack
// must fail, say what is missing and what to do, and write no tarball.
//
// Costs about a minute and a half on 2 cores: npm ci (offline, from npm's cache, as the
// package test's install is) and a whole wasm build.
const { it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawnSync } = require('node:child_process');
const { asNobody, NOBODY } = require('../env/processes.js');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { fixture, channel, waitFor, waitForSubscribers, assertNoPageErrors } = require('./support.js');

const ROOT = path.join(__dirname, '..', '..');
const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const CDN_URL = `https://cdn.jsdelivr.net/npm/jquery.comet@${version}/dist/jquery.comet.js`;
const env = fixture();
let scratch;
let clone;
let packed;
let project;
let file;

function which(command) {
  for (const dir of (process.env.PATH || '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, command);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  throw new Error(`${command} is not on PATH`);
}

// The environment of a user's shell: none of the npm_* variables that `npm test` sets for its
// script (npm would read npm_config_* as its own options).
function shellEnv(extra = {}) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_|^INIT_CWD$/i.test(name)));
  return { ...clean, npm_config_update_notifier: 'false', ...extra };
}

function cloneHead(name) {
  const dir = path.join(scratch, name);
  execFileSync('git', ['clone', '--quiet', ROOT, dir]);
  assert.equal(fs.existsSync(path.join(dir, 'dist')), false, 'a clean clone has no dist/');
  return dir;
}

// `npm pack --json` in `dir`: its exit status, its stdout (npm's JSON), all its output, and the
// tarballs it wrote.
function npmPack(dir, { env: packEnv, asUser } = {}) {
  const out = fs.mkdtempSync(path.join(scratch, 'out-'));
  let [command, ...args] = [which('npm'), 'pack', '--json', '--pack-destination', out];
  if (asUser) {
    fs.chownSync(out, NOBODY, NOBODY);
    [command, ...args] = asNobody([command, ...args]);
    command = which(command);  // the PATH given to npm has no emscripten, and maybe no setpriv
  }
  const result = spawnSync(command, args, { cwd: dir, env: packEnv, encoding: 'utf8' });
  assert.equal(result.error, undefined, `npm pack could not start: ${result.error}`);
  const tarballs = fs.readdirSync(out).map((name) => path.join(out, name));
  return { status: result.status, stdout: result.stdout, output: result.stdout + result.stderr, tarballs };
}

before(async () => {
  await env.start();
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'comet-pack-'));
  fs.chmodSync(scratch, 0o755);
  clone = cloneHead('clone');
  // offline: npm ci (run by the prepack script, since the clone has no node_modules) takes the
  // locked tarballs from npm's cache, as `npm ci` left them on this machine. Installing is
  // allowed, whatever this run's COMET_SETUP_NO_INSTALL says: the clone has no node_modules.
  packed = npmPack(clone, { env: shellEnv({ npm_config_offline: 'true', COMET_SETUP_NO_INSTALL: '' }) });
  assert.equal(packed.status, 0, `npm pack failed:\n${packed.output}`);
  assert.equal(packed.tarballs.length, 1, packed.output);
  // An empty project that installs the tarball, offline, as test/browser/package.test.js does;
  // jQuery comes from the clone's node_modules.
  project = path.join(scratch, 'project');
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'user', version: '1.0.0', private: true }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--offline', '--legacy-peer-deps', packed.tarballs[0]],
    { cwd: project, env: shellEnv(), stdio: ['ignore', 'ignore', 'inherit'] });
  fs.cpSync(path.join(clone, 'node_modules', 'jquery3'), path.join(project, 'node_modules', 'jquery'), { recursive: true });
  file = fs.readFileSync(path.join(project, 'node_modules', 'jquery.comet', 'dist', 'jquery.comet.js'));
}, { timeout: 15 * 60 * 1000 });

after(async () => {
  await env.stop();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

// A page on the comet server's origin, loading jQuery from the project and the library from the
// CDN's URL, both answered from the installed package; `served` counts the CDN's answers.
async function openWithIntegrity(integrity) {
  const context = await env.browser.newContext();
  const served = { count: 0 };
  await context.route(`${env.server.origin}/pkg/**`, (route) => {
    const relative = decodeURIComponent(new URL(route.request().url()).pathname.slice('/pkg/'.length));
    if (relative === 'sri.html') {
      return route.fulfill({ contentType: 'text/html', body: `<!doctype html><meta charset="utf-8">
        <script src="/pkg/node_modules/jquery/dist/jquery.js"></script>
        <script>window.refused = false;</script>
        <script src="${CDN_URL}" integrity="${integrity}" crossorigin="anonymous" onerror="window.refused = true"></script>` });
    }
    return route.fulfill({ path: path.join(project, relative) });
  });
  // As jsDelivr and unpkg answer: the file, and CORS for anyone (which `crossorigin` needs).
  await context.route(CDN_URL, (route) => {
    served.count++;
    return route.fulfill({ body: file, contentType: 'application/javascript; charset=utf-8',
      headers: { 'access-control-allow-origin': '*' } });
  });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (error) => page.errors.push(error.message));
  await page.goto(`${env.server.origin}/pkg/sri.html`);
  return { page, served };
}

function printedIntegrity() {
  const match = /\[setup\] dist\/jquery\.comet\.js integrity: (sha384-[A-Za-z0-9+/]+={0,2})/.exec(packed.output);
  assert.ok(match, `npm pack printed no integrity line:\n${packed.output}`);
  return match[1];
}

it('npm pack in a clean clone builds dist/jquery.comet.js there first (prepack), then packs it', (t) => {
  // The set-up's steps and their times, in the test's report.
  for (const line of packed.output.match(/^\[setup\] .*$/gm) || []) t.diagnostic(line);
  assert.match(packed.output, /\[setup\] npm ci \(first run: [^)]+\)\n/);
  assert.match(packed.output, /\[setup\] building dist\/jquery\.comet\.js with emcc \(first build: [^)]+\)\n/);
  assert.match(packed.output, /\[setup\] building dist\/jquery\.comet\.js with emcc: done in [\d.]+ s\n/);
  assert.ok(fs.existsSync(path.join(clone, 'build-wasm', 'CMakeCache.txt')), 'the clone has its own wasm build');
  assert.equal(path.basename(packed.tarballs[0]), `jquery.comet-${version}.tgz`);
  // npm's JSON alone on stdout: the build's progress (and npm ci's) went to stderr.
  const [description] = JSON.parse(packed.stdout);
  assert.ok(description.files.some((entry) => entry.path === 'dist/jquery.comet.js' && entry.size === file.length));
  const listed = execFileSync('tar', ['-tzf', packed.tarballs[0]], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
  assert.deepEqual(listed, ['package/LICENSE', 'package/README.md', 'package/dist/jquery.comet.js',
    'package/js/jquery.comet.d.ts', 'package/package.json']);
  assert.ok(file.equals(fs.readFileSync(path.join(clone, 'dist', 'jquery.comet.js'))), 'the tarball holds the file the clone built');
});

it("prints the file's size and SRI hash, both the packed file's, and writes the hash to dist/jquery.comet.js.sri", () => {
  const size = /\[setup\] dist\/jquery\.comet\.js: ([\d,]+) bytes \(([\d,]+) gzipped/.exec(packed.output);
  assert.ok(size, `npm pack printed no size line:\n${packed.output}`);
  assert.equal(Number(size[1].replace(/,/g, '')), file.length);
  const integrity = printedIntegrity();
  assert.equal(integrity, `sha384-${crypto.createHash('sha384').update(file).digest('base64')}`);
  assert.equal(fs.readFileSync(path.join(clone, 'dist', 'jquery.comet.js.sri'), 'utf8'), `${integrity}\n`);
});

it('the packed file, from a CDN origin under the printed integrity hash, runs and receives from Nchan', async () => {
  const { page, served } = await openWithIntegrity(printedIntegrity());
  assert.equal(served.count, 1);
  assert.equal(await page.evaluate(() => window.refused), false);
  const name = channel('pack');
  await page.evaluate((url) => {
    window.got = [];
    $(document).on('hello.comet', (event, data) => window.got.push(data));
    $.comet.connect(url);
  }, `/sub/${name}`);
  await waitForSubscribers(env, name, 1);
  await env.publish(name, JSON.stringify({ type: 'hello', data: 'from the clean clone' }));
  await waitFor(page, () => window.got.length === 1);
  assert.deepEqual(await page.evaluate(() => window.got), ['from the clean clone']);
  await assertNoPageErrors(page);
  await page.context().close();
});

it('the browser refuses the file under a wrong integrity hash', async () => {
  // A well-formed sha384 of other bytes: the file with one more newline.
  const wrong = `sha384-${crypto.createHash('sha384').update(Buffer.concat([file, Buffer.from('\n')])).digest('base64')}`;
  const { page, served } = await openWithIntegrity(wrong);
  await waitFor(page, () => window.refused === true);
  assert.equal(served.count, 1, 'the file was served, and refused');
  assert.equal(await page.evaluate(() => typeof jQuery.comet), 'undefined');
  await page.context().close();
});

// A PATH with what npm and the build need, but no Emscripten.
function pathWithoutEmscripten() {
  const bin = path.join(scratch, 'bin-without-emcc');
  if (!fs.existsSync(bin)) {
    fs.mkdirSync(bin);
    for (const command of ['node', 'npm', 'sh', 'cmake', 'make']) fs.symlinkSync(which(command), path.join(bin, command));
  }
  assert.equal(fs.existsSync(path.join(bin, 'emcc')), false);
  return bin;
}

function assertLoudFailure(result, dir, reason) {
  assert.notEqual(result.status, 0, result.output);
  assert.match(result.output, /npm pack \(and npm publish\) build dist\/jquery\.comet\.js first, and the build needs what is missing here:\n/);
  assert.match(result.output, /\n {2}emscripten \(emcc, emcmake not found on PATH\)\n/);
  assert.ok(result.output.includes(reason), result.output);
  assert.match(result.output, /\n {2}apt-get update && apt-get install -y emscripten\nthen run npm pack again\./);
  assert.deepEqual(result.tarballs, [], 'no tarball');
  assert.equal(fs.existsSync(path.join(dir, 'dist')), false);
  assert.equal(fs.existsSync(path.join(dir, 'node_modules')), false, 'it failed before npm ci, not a minute later');
}

it('without Emscripten, and told to install nothing (COMET_SETUP_NO_INSTALL=1), npm pack fails saying what to install, and packs nothing', () => {
  const dir = cloneHead('no-emscripten');
  const result = npmPack(dir, { env: { PATH: pathWithoutEmscripten(), HOME: os.homedir(), COMET_SETUP_NO_INSTALL: '1',
    npm_config_update_notifier: 'false' } });
  assertLoudFailure(result, dir, 'COMET_SETUP_NO_INSTALL is set, so setup installs nothing itself. Install as root:');
});

it('without Emscripten, as a user who is not root, npm pack fails naming the package and the root command, and packs nothing', () => {
  const dir = cloneHead('not-root');
  const home = path.join(scratch, 'home-not-root');
  fs.mkdirSync(home);
  const packEnv = { PATH: pathWithoutEmscripten(), HOME: home, npm_config_update_notifier: 'false' };
  // Root runs it as nobody (setpriv), in a clone and a home that nobody owns.
  const asUser = process.getuid() === 0;
  if (asUser) execFileSync('chown', ['-R', `${NOBODY}:${NOBODY}`, dir, home]);
  const result = npmPack(dir, { env: packEnv, asUser });
  assertLoudFailure(result, dir, 'setup installs them itself (apt-get) only when run as root. Install as root:');
});
