'use strict';
// `npm test`: set up what is missing, build, check the style (clang-format, eslint), run the
// native tests (ctest), the fuzzers for a bounded time, the tests of the test tools
// (test/tools/: node:test, no browser), the browser tests (test/browser/: node:test +
// Playwright + Chromium against real nginx + Nchan) and one tiny benchmark run, and end with
// one line: "N passed, N failed".
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

// node:test files, one at a time: each test (not suite) counts once.
async function runNodeTests(files) {
  const { run } = require('node:test');
  const { spec } = require('node:test/reporters');
  let passed = 0;
  let failed = 0;
  const stream = run({ files, concurrency: 1, timeout: 300000 });
  stream.on('test:pass', (event) => { if (event.details.type !== 'suite') passed++; });
  stream.on('test:fail', (event) => { if (event.details.type !== 'suite') failed++; });
  await new Promise((resolve, reject) => {
    const out = stream.compose(spec);
    out.on('data', (chunk) => process.stdout.write(chunk));
    out.on('end', resolve);
    out.on('error', reject);
  });
  return { passed, failed };
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

function testFiles(dir) {
  return fs.readdirSync(dir).filter((file) => file.endsWith('.test.js')).sort().map((file) => path.join(dir, file));
}

async function main() {
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
  const totals = { passed: 0, failed: 0 };
  if (only.length === 0) {
    console.log('\n== style (clang-format, eslint)');
    const lint = runLint();
    totals.passed += lint.passed;
    totals.failed += lint.failed;
    console.log('\n== native tests (ctest)');
    const native = runCtest();
    totals.passed += native.passed;
    totals.failed += native.failed;
    const seconds = Number(process.env.COMET_FUZZ_SECONDS || 20);
    console.log(`\n== fuzzing (libFuzzer, ${seconds} s per target)`);
    const fuzz = runFuzzTargets(seconds);
    totals.passed += fuzz.passed;
    totals.failed += fuzz.failed;
  }
  if (toolFiles.length) {
    console.log('\n== tool tests (test/tools/: node:test, no browser)');
    const tools = await runNodeTests(toolFiles);
    totals.passed += tools.passed;
    totals.failed += tools.failed;
  }
  if (browserFiles.length) {
    console.log('\n== browser tests (Chromium, and Firefox for the cut tests; nginx/Nchan)');
    const browser = await runNodeTests(browserFiles);
    totals.passed += browser.passed;
    totals.failed += browser.failed;
  }
  if (only.length === 0) {
    // The benchmark is not a test: this only proves it still runs, at a tiny size.
    console.log('\n== benchmark smoke run (npm run bench --tiny; no timing asserted)');
    const bench = spawnSync(process.execPath, [path.join(__dirname, 'bench', 'run.js'), '--tiny'], { cwd: ROOT, stdio: 'inherit' });
    console.log(bench.status === 0 ? 'ok   benchmark smoke run' : `FAIL benchmark smoke run (exit ${bench.status})`);
    if (bench.status === 0) totals.passed++;
    else totals.failed++;
  }
  console.log(`\n${totals.passed} passed, ${totals.failed} failed`);
  process.exitCode = totals.failed === 0 && totals.passed > 0 ? 0 : 1;
}

main();
