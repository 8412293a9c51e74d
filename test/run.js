'use strict';
// `npm test`: set up what is missing, build, check the style (clang-format, eslint), run the
// native tests (ctest), the fuzzers for a bounded time, the tests of the test tools
// (test/tools/: node:test, no browser), the browser tests (test/browser/: node:test +
// Chromium and Firefox through Playwright, WebKit through WebKitWebDriver, against real
// nginx + Nchan) and one tiny benchmark run, and end with one line: "N passed, N failed",
// with the browser tests in each engine and the skipped tests by reason, e.g.
// "508 passed, 0 failed (chromium 209, firefox 120, webkit 40 browser tests; 3 skipped: ...)".
// Every skipped test is listed before it, with its reason. COMET_ENGINES=webkit (a
// comma-separated list) narrows the tests written for every engine.
//
//   node test/run.js                 everything
//   node test/run.js <file.test.js>  only these node:test files (test/tools/ or test/browser/);
//                                    builds the product first unless they are all in test/tools/
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { setup, ROOT, NATIVE_BUILD } = require('../tools/setup.js');

function runCtest() {
  const result = spawnSync('ctest', ['--test-dir', NATIVE_BUILD, '--output-on-failure', '-j', '2'],
    { cwd: ROOT, encoding: 'utf8' });
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  const match = /(\d+)% tests passed, (\d+) tests failed out of (\d+)/.exec(result.stdout);
  if (!match) return { passed: 0, failed: 1 };
  const total = Number(match[3]);
  const failed = Number(match[2]);
  return { passed: total - failed, failed };
}

// libFuzzer over the parsers for a bounded time: each target counts as one test.
function runFuzzTargets(seconds) {
  const { runFuzzers, describeResult } = require('./env/fuzz.js');
  let results;
  try {
    results = runFuzzers({ seconds });
  } catch (error) {
    console.log(`fuzzing could not run: ${error.message}`);
    return { passed: 0, failed: 1 };
  }
  for (const entry of results) console.log(describeResult(entry));
  const failed = results.filter((entry) => !entry.ok).length;
  return { passed: results.length - failed, failed };
}

// The engine a browser test ran in, from its name and its suites' (outermost first): the tests
// written for several engines name it first ("[webkit] ...", "webkit: ..." or a suite named
// "webkit"). A browser test that names none ran in Chromium, the fixture's default.
function engineOf(names) {
  for (const name of names) {
    const match = /^\[?(chromium|firefox|webkit)(\]|:|$)/.exec(name);
    if (match) return match[1];
  }
  return 'chromium';
}

// node:test files, one at a time: each test (not suite) counts once; a skipped one counts as
// neither passed nor failed, and is listed with its reason. With `browser`, also what ran in
// each engine.
async function runNodeTests(files, { browser = false } = {}) {
  const { run } = require('node:test');
  const { spec } = require('node:test/reporters');
  const result = { passed: 0, failed: 0, skipped: [], failures: [], engines: {}, times: {} };
  // The names of the tests and suites running now, by nesting, and the file of the outermost:
  // files run one at a time, and a file's tests one at a time, so test:start comes in order.
  // (A subtest's own `file` is where t.test() was called: support.js for part().)
  const running = [];
  let file = '';
  const stream = run({ files, concurrency: 1, timeout: 300000 });
  stream.on('test:start', (event) => {
    if (event.nesting === 0) file = event.file || '';
    running.length = event.nesting;
    running.push(event.name);
  });
  const count = (event, outcome) => {
    const suite = event.details.type === 'suite';
    // Each engine's time: its outermost suites' and tests' (a suite's takes in its hooks:
    // starting the browser and the servers).
    if (browser && event.nesting === 0) {
      const engine = engineOf([event.name]);
      result.times[engine] = (result.times[engine] || 0) + (event.details.duration_ms || 0);
    }
    // A skipped suite (a file's suite for an engine it does not run in yet) is listed too.
    if (suite && event.skip === undefined) return;
    const names = running.slice(0, event.nesting);
    names.push(event.name);
    if (event.skip !== undefined && outcome === 'passed') {
      const where = `${path.relative(ROOT, file)}: ${names.join(' > ')}`;
      result.skipped.push({ where, reason: event.skip === true ? '(no reason given)' : String(event.skip) });
      return;
    }
    result[outcome]++;
    if (outcome === 'failed') result.failures.push({ where: `${path.relative(ROOT, file)}: ${names.join(' > ')}`, error: event.details.error });
    if (browser) {
      const engine = engineOf(names);
      result.engines[engine] = (result.engines[engine] || 0) + 1;
    }
  };
  stream.on('test:pass', (event) => count(event, 'passed'));
  stream.on('test:fail', (event) => count(event, 'failed'));
  await new Promise((resolve, reject) => {
    const out = stream.compose(spec);
    out.on('data', (chunk) => process.stdout.write(chunk));
    out.on('end', resolve);
    out.on('error', reject);
  });
  return result;
}

// Style: every C++ file as .clang-format says, and eslint (eslint.config.js) over the
// JavaScript. One result each.
function runLint() {
  const result = { passed: 0, failed: 0 };
  const cxx = spawnSync('git', ['ls-files', '*.cpp', '*.hpp'], { cwd: ROOT, encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  const checks = [
    ['clang-format', 'clang-format', ['--dry-run', '-Werror', ...cxx]],
    ['eslint', path.join(ROOT, 'node_modules', '.bin', 'eslint'), ['.']],
  ];
  for (const [name, command, args] of checks) {
    const check = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit' });
    const ok = check.status === 0 && (name !== 'clang-format' || cxx.length > 0);
    console.log(ok ? `ok   ${name}` : `FAIL ${name} (exit ${check.status})`);
    result[ok ? 'passed' : 'failed']++;
  }
  return result;
}

// What a failed test threw: node:test wraps it (ERR_TEST_FAILURE, the thrown error as its
// cause); its message and its stack without Node's own frames, indented.
function describeFailure(error) {
  const thrown = error && error.cause !== undefined ? error.cause : error;
  const text = thrown instanceof Error ? (thrown.stack || thrown.message) : String(thrown);
  const lines = text.split('\n').filter((line) => !/^\s+at (.*\()?(node:|<anonymous>\))/.test(line));
  const shown = lines.slice(0, 30);
  if (lines.length > shown.length) shown.push(`... (${lines.length - shown.length} more lines)`);
  return shown.map((line) => `    ${line}`).join('\n');
}

function testFiles(dir) {
  return fs.readdirSync(dir).filter((file) => file.endsWith('.test.js')).sort().map((file) => path.join(dir, file));
}

// What the final line adds to "N passed, N failed": the browser tests (passed or failed) in each
// engine, and the skips by reason.
function summary({ engines: byEngine, skipped }) {
  const parts = [];
  if (byEngine) {
    const names = ['chromium', 'firefox', 'webkit'].filter((name) => byEngine[name] !== undefined);
    parts.push(`${names.map((name) => `${name} ${byEngine[name]}`).join(', ') || 'no'} browser tests`);
  }
  if (skipped.length) {
    const reasons = new Map();
    for (const { reason } of skipped) reasons.set(reason, (reasons.get(reason) || 0) + 1);
    parts.push(`${skipped.length} skipped: ${[...reasons].map(([reason, n]) => (n > 1 ? `${reason} (${n})` : reason)).join('; ')}`);
  }
  return parts.length ? ` (${parts.join('; ')})` : '';
}

async function main() {
  const started = Date.now();
  const only = process.argv.slice(2).map((file) => path.resolve(file));
  const toolsDir = path.join(__dirname, 'tools');
  const toolFiles = only.length ? only.filter((file) => path.dirname(file) === toolsDir) : testFiles(toolsDir);
  const browserFiles = only.length ? only.filter((file) => !toolFiles.includes(file)) : testFiles(path.join(__dirname, 'browser'));
  try {
    // The tool tests need no build: `node test/run.js test/tools/x.test.js` does not start one.
    if (only.length === 0 || browserFiles.length > 0) setup({ native: only.length === 0 });
  } catch (error) {
    console.error(`[setup] ${error.message}`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  const totals = { passed: 0, failed: 0, skipped: [], failures: [], engines: null };
  // One part's counts into the totals. A part that lists no failures of its own (style, ctest,
  // fuzzing: their output above says what failed) is named among them as `part`.
  const add = (part, result) => {
    totals.passed += result.passed;
    totals.failed += result.failed;
    if (result.skipped) totals.skipped.push(...result.skipped);
    if (result.failures) totals.failures.push(...result.failures);
    else if (result.failed) totals.failures.push({ where: part, error: `${result.failed} failed: see "== ${part}" above` });
  };
  if (only.length === 0) {
    console.log('\n== style (clang-format, eslint)');
    add('style', runLint());
    console.log('\n== native tests (ctest)');
    add('native tests (ctest)', runCtest());
    const seconds = Number(process.env.COMET_FUZZ_SECONDS || 20);
    console.log(`\n== fuzzing (libFuzzer, ${seconds} s per target)`);
    add('fuzzing', runFuzzTargets(seconds));
  }
  if (toolFiles.length) {
    console.log('\n== tool tests (test/tools/: node:test, no browser)');
    add('tool tests', await runNodeTests(toolFiles));
  }
  if (browserFiles.length) {
    // After setup: support.js needs node_modules.
    const { engines } = require('./browser/support.js');
    console.log(`\n== browser tests (in ${engines().join(', ')}; a few Chromium-only files; nginx/Nchan)`);
    const browser = await runNodeTests(browserFiles, { browser: true });
    add('browser tests', browser);
    totals.engines = browser.engines;
    totals.times = browser.times;
  }
  if (only.length === 0) {
    // The benchmark is not a test: this only proves it still runs, at a tiny size, in each
    // engine of the run.
    const { engines } = require('./browser/support.js');
    for (const engine of engines()) {
      console.log(`\n== benchmark smoke run in ${engine} (npm run bench -- --tiny --engine=${engine}; no timing asserted)`);
      const bench = spawnSync(process.execPath, [path.join(__dirname, 'bench', 'run.js'), '--tiny', `--engine=${engine}`],
        { cwd: ROOT, stdio: 'inherit' });
      console.log(bench.status === 0 ? `ok   benchmark smoke run in ${engine}` : `FAIL benchmark smoke run in ${engine} (exit ${bench.status})`);
      if (bench.status === 0) totals.passed++;
      else {
        totals.failed++;
        totals.failures.push({ where: `benchmark smoke run in ${engine}`, error: `exit ${bench.status}: see its output above` });
      }
    }
  }
  if (totals.skipped.length) {
    console.log(`\n== skipped (${totals.skipped.length})`);
    for (const { where, reason } of totals.skipped) console.log(`skipped: ${where}: ${reason}`);
  }
  // Each failed test again, with what it threw, last: a CI log that keeps only its tail still
  // says why.
  if (totals.failures.length) {
    console.log(`\n== failed (${totals.failures.length})`);
    for (const { where, error } of totals.failures) console.log(`failed: ${where}\n${describeFailure(error)}`);
  }
  if (totals.times) {
    const minutes = (ms) => `${(ms / 60000).toFixed(1)} min`;
    console.log(`\nbrowser tests' time: ${Object.entries(totals.times).map(([engine, ms]) => `${engine} ${minutes(ms)}`).join(', ')}; ` +
      `npm test: ${minutes(Date.now() - started)}`);
  }
  console.log(`\n${totals.passed} passed, ${totals.failed} failed${summary(totals)}`);
  process.exitCode = totals.failed === 0 && totals.passed > 0 ? 0 : 1;
}

main();
