'use strict';
// What an npm user gets: `npm pack`, the tarball installed into an empty project, then loaded in
// the browser from that project's node_modules, by a script tag and through a bundler
// (esbuild), and its types checked against a small example with tsc. npm pack runs the prepack
// script (tools/setup.js --pack), which finds the build up to date here (about a second); a
// clean clone's pack, which builds, is test/browser/pack.test.js.
const { it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { fixture, channel, waitFor, waitForSubscribers, assertNoPageErrors } = require('./support.js');

const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'node_modules', '.bin');
const env = fixture();
let project;
let packed;

before(async () => {
  await env.start();
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'comet-package-'));
  [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', scratch], { cwd: ROOT, encoding: 'utf8' }));
  // An empty project that installs the tarball; jQuery (a peer dependency) and the jQuery
  // types come from this repository's own node_modules, so the test needs no registry.
  // --legacy-peer-deps: npm would otherwise fetch jquery's metadata for the peer dependency,
  // which a fresh machine's cache does not hold (`npm ci` caches only the locked tarballs).
  project = path.join(scratch, 'project');
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'user', version: '1.0.0', private: true }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--offline', '--legacy-peer-deps', path.join(scratch, packed.filename)],
    { cwd: project, stdio: ['ignore', 'ignore', 'inherit'] });
  // After the install, which would remove them as extraneous.
  for (const [from, to] of [['jquery3', 'jquery'], ['@types/jquery', '@types/jquery'], ['@types/sizzle', '@types/sizzle']]) {
    fs.cpSync(path.join(ROOT, 'node_modules', from), path.join(project, 'node_modules', to), { recursive: true });
  }
});
after(env.stop);

// Serves the user's project under /pkg/ on the comet server's origin.
async function openProject(file, html) {
  const context = await env.browser.newContext();
  await context.route(`${env.server.origin}/pkg/**`, (route) => {
    const relative = decodeURIComponent(new URL(route.request().url()).pathname.slice('/pkg/'.length));
    if (relative === file) return route.fulfill({ body: html, contentType: 'text/html' });
    return route.fulfill({ path: path.join(project, relative) });
  });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (error) => page.errors.push(error.message));
  await page.goto(`${env.server.origin}/pkg/${file}`);
  return page;
}

// `bundled`: use the jQuery the bundle exported, not a global one.
async function receives(page, bundled) {
  const name = channel('pkg');
  await page.evaluate(([fromBundle, url]) => {
    const $ = fromBundle ? window.bundled.$ : window.jQuery;
    window.got = [];
    $(document).on('hello.comet', (event, data) => window.got.push(data));
    $.comet.connect(url);
  }, [bundled, `/sub/${name}`]);
  await waitForSubscribers(env, name, 1);
  await env.publish(name, JSON.stringify({ type: 'hello', data: 'from the package' }));
  await waitFor(page, () => window.got.length === 1);
  assert.deepEqual(await page.evaluate(() => window.got), ['from the package']);
}

it('packs only what a user needs: the built file, its types, the README and the licence', () => {
  const files = packed.files.map((file) => file.path).sort();
  assert.deepEqual(files, ['LICENSE', 'README.md', 'dist/jquery.comet.js', 'js/jquery.comet.d.ts', 'package.json']);
  const manifest = JSON.parse(fs.readFileSync(path.join(project, 'node_modules', 'jquery.comet', 'package.json'), 'utf8'));
  assert.equal(manifest.main, 'dist/jquery.comet.js');
  assert.equal(manifest.types, 'js/jquery.comet.d.ts');
  assert.equal(manifest.license, 'MIT');
  assert.equal(manifest.peerDependencies.jquery, '>=1.12.4 <5');
  // V8 reads its compile hint only as the file's first line (tools/embed-wasm.js).
  const built = fs.readFileSync(path.join(project, 'node_modules', 'jquery.comet', 'dist', 'jquery.comet.js'), 'utf8');
  assert.ok(built.startsWith('//# allFunctionsCalledOnLoad\n'), `the file opens with: ${built.slice(0, 60)}`);
});

it('works from the installed package with a plain script tag', async () => {
  const page = await openProject('script.html', `<!doctype html><meta charset="utf-8">
    <script src="/pkg/node_modules/jquery/dist/jquery.js"></script>
    <script src="/pkg/node_modules/jquery.comet/dist/jquery.comet.js"></script>`);
  await receives(page, false);
  await assertNoPageErrors(page);
  await page.context().close();
});

it("bundles the README's import example with esbuild: it attaches to the jQuery it is given, not a global", async () => {
  // The README's block as the entry, plus one line that hands the bundle's jQuery to the test.
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const [, example] = readme.match(/```js\n([\s\S]*?import attach from 'jquery\.comet';[\s\S]*?)```/);
  fs.writeFileSync(path.join(project, 'entry.js'), `${example}\nwindow.bundled = { $: $, globalJQuery: typeof window.jQuery };\n`);
  execFileSync(path.join(BIN, 'esbuild'), ['entry.js', '--bundle', '--log-level=warning', '--outfile=bundle.js'],
    { cwd: project, stdio: ['ignore', 'inherit', 'inherit'] });
  await fetch(`${env.server.origin}/pub/tweets`, { method: 'DELETE' });
  const page = await openProject('bundle.html', `<!doctype html><meta charset="utf-8">
    <script src="/pkg/bundle.js"></script>`);
  assert.equal(await page.evaluate(() => window.bundled.globalJQuery), 'undefined', 'the bundle has no global jQuery');
  await page.evaluate(() => {
    window.feed = [];
    window.bundled.$(document).on('feed.comet', (event, data) => window.feed.push(data));
  });
  await waitForSubscribers(env, 'tweets', 1);
  await env.publish('tweets', JSON.stringify({ type: 'feed', data: { text: 'bundled' } }));
  await waitFor(page, () => window.feed.length === 1);
  assert.deepEqual(await page.evaluate(() => window.feed), [{ text: 'bundled' }]);
  await receives(page, true);
  await assertNoPageErrors(page);
  await page.context().close();
});

it('type-checks a user example against the installed types (tsc --noEmit, strict)', () => {
  fs.copyFileSync(path.join(ROOT, 'test', 'package', 'example.ts'), path.join(project, 'example.ts'));
  const result = spawnSync(path.join(BIN, 'tsc'), ['--noEmit', '--strict', '--module', 'commonjs', '--target', 'es2017',
    '--types', 'jquery', 'example.ts'], { cwd: project, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stdout + result.stderr);
});
