'use strict';
// Coverage-guided fuzzing of the parsers and of the response rule with libFuzzer (clang + ASan + UBSan).
//
// Builds build-fuzz (configured with clang++ and -DCOMET_FUZZ=ON when it is not yet), then runs
// each target for `seconds` seconds on a scratch copy of its committed seed corpus
// (test/fuzz/corpus/<name>/): what the fuzzer discovers goes to the scratch directory, never
// into git. A crashing input is copied to test/artifacts/fuzz/.
//
//   node test/env/fuzz.js [seconds]     one line per target; exit code 1 on any failure
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const FUZZ_BUILD = path.join(ROOT, 'build-fuzz');
const FUZZ_DIR = path.join(ROOT, 'test', 'fuzz');
const ARTIFACTS = path.join(ROOT, 'test', 'artifacts', 'fuzz');
const TARGETS = [
  { target: 'fuzz_json', corpus: 'json', dict: 'json.dict' },
  { target: 'fuzz_multipart', corpus: 'multipart' },
  { target: 'fuzz_body', corpus: 'body' },
  { target: 'fuzz_response', corpus: 'response' },
];

function log(message) {
  process.stdout.write(`[fuzz] ${message}\n`);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'inherit'], cwd: ROOT, ...options });
  if (result.error) throw new Error(`${command} could not start: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed with exit code ${result.status}`);
}

function buildFuzzers() {
  const cache = path.join(FUZZ_BUILD, 'CMakeCache.txt');
  if (!fs.existsSync(cache) || !/^COMET_FUZZ:BOOL=ON$/m.test(fs.readFileSync(cache, 'utf8'))) {
    log('configuring build-fuzz (clang++, libFuzzer, ASan, UBSan)');
    run('cmake', ['-S', ROOT, '-B', FUZZ_BUILD, '-DCOMET_FUZZ=ON', '-DBUILD_TESTING=OFF',
      '-DCMAKE_BUILD_TYPE=RelWithDebInfo'], { env: { ...process.env, CXX: 'clang++' } });
  }
  run('cmake', ['--build', FUZZ_BUILD, '-j', '2', '--target', ...TARGETS.map(({ target }) => target)]);
}

// The last value of `key` in libFuzzer's output: "#123 DONE cov: 45 ..." and
// "stat::number_of_executed_units: 123".
function lastNumber(text, pattern) {
  let value;
  for (const match of text.matchAll(pattern)) value = Number(match[1]);
  return value;
}

function parseOutput(text) {
  const stat = lastNumber(text, /^stat::number_of_executed_units:\s*(\d+)/gm);
  const done = lastNumber(text, /^#(\d+)\s+DONE\b/gm);
  const latest = lastNumber(text, /^#(\d+)\s/gm);
  return {
    runs: stat ?? done ?? latest ?? 0,
    cov: lastNumber(text, /\bcov: (\d+)/g),
    ft: lastNumber(text, /\bft: (\d+)/g),
    done: done !== undefined,
  };
}

function runOne({ target, corpus, dict }, seconds, scratch) {
  const work = path.join(scratch, corpus);
  const artifacts = path.join(scratch, `${corpus}-artifacts`);
  fs.cpSync(path.join(FUZZ_DIR, 'corpus', corpus), work, { recursive: true });
  fs.mkdirSync(artifacts, { recursive: true });
  const args = [
    `-max_total_time=${seconds}`,
    '-rss_limit_mb=2048',
    '-timeout=10',
    '-print_final_stats=1',
    `-artifact_prefix=${artifacts}${path.sep}`,
  ];
  if (dict) args.push(`-dict=${path.join(FUZZ_DIR, dict)}`);
  args.push(work);
  // libFuzzer reports on stderr; a file keeps a long run's output out of memory limits.
  const logFile = path.join(scratch, `${target}.log`);
  const fd = fs.openSync(logFile, 'w');
  const started = process.hrtime.bigint();
  let result;
  try {
    result = spawnSync(path.join(FUZZ_BUILD, target), args, {
      cwd: scratch, stdio: ['ignore', fd, fd],
      // libFuzzer stops itself; this only guards against a hung process.
      timeout: (seconds + 120) * 1000, killSignal: 'SIGKILL',
    });
  } finally {
    fs.closeSync(fd);
  }
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  const text = fs.readFileSync(logFile, 'utf8');
  const parsed = parseOutput(text);
  const entry = {
    target,
    ok: !result.error && result.status === 0 && parsed.done,
    runs: parsed.runs,
    seconds: Math.round(elapsed * 10) / 10,
    cov: parsed.cov,
    ft: parsed.ft,
  };
  if (result.error) entry.error = result.error.message;
  else if (result.status !== 0) entry.error = `exit code ${result.status ?? result.signal}`;
  else if (!parsed.done) entry.error = 'libFuzzer did not report DONE';
  const found = fs.readdirSync(artifacts).filter((name) => /^(crash|leak|timeout|oom|slow-unit)-/.test(name));
  if (!entry.ok) {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    for (const name of found) {
      const kept = path.join(ARTIFACTS, `${target}-${name}`);
      fs.copyFileSync(path.join(artifacts, name), kept);
      if (!entry.crashFile && !name.startsWith('slow-unit')) entry.crashFile = kept;
    }
    const keptLog = path.join(ARTIFACTS, `${target}.log`);
    fs.copyFileSync(logFile, keptLog);
    entry.log = keptLog;
  }
  return entry;
}

function runFuzzers({ seconds = 30 } = {}) {
  const duration = Math.max(1, Math.round(Number(seconds)));
  buildFuzzers();
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'comet-fuzz-'));
  try {
    return TARGETS.map((spec) => {
      log(`${spec.target}: ${duration} s`);
      return runOne(spec, duration, scratch);
    });
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

function describeResult(entry) {
  const rate = entry.seconds > 0 ? Math.round(entry.runs / entry.seconds) : 0;
  let line = `${entry.ok ? 'ok  ' : 'FAIL'} ${entry.target}: ${entry.runs} runs in ${entry.seconds} s ` +
    `(${rate}/s), cov ${entry.cov ?? '?'}, ft ${entry.ft ?? '?'}`;
  if (entry.error) line += ` - ${entry.error}`;
  if (entry.crashFile) line += `\n     crashing input: ${path.relative(ROOT, entry.crashFile)}`;
  if (entry.log) line += `\n     output: ${path.relative(ROOT, entry.log)}`;
  return line;
}

module.exports = { runFuzzers, describeResult, FUZZ_BUILD, TARGETS };

if (require.main === module) {
  const seconds = process.argv[2] === undefined ? 30 : Number(process.argv[2]);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    console.error('usage: node test/env/fuzz.js [seconds per target]');
    process.exit(2);
  }
  try {
    const results = runFuzzers({ seconds });
    for (const entry of results) console.log(describeResult(entry));
    process.exitCode = results.every((entry) => entry.ok) ? 0 : 1;
  } catch (error) {
    console.error(`[fuzz] ${error.message}`);
    process.exitCode = 1;
  }
}
