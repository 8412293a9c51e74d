'use strict';
// `npm run bench`: this client against NchanSubscriber, the original plugin's $.ajax loop
// ("classic") and a bare XHR loop ("limit"), in one headless browser (Chromium, or the engine
// --engine= names) against real nginx + Nchan on 127.0.0.1. Contenders are interleaved within each repetition; the table shows
// medians and ratios (and, for this client, the preflights a page on another origin costs),
// and the JSON goes to test/artifacts/bench.json.
//
//   npm run bench                 the full run
//   node test/bench/run.js --tiny  a seconds-long smoke run (npm test uses it; no timing asserted)
//   npm run bench -- --engine=firefox   in Firefox ESR or WebKitGTK (webkit; default chromium); the table says which
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');
const { setup, ROOT } = require('../../tools/setup.js');
const { startNchan } = require('../env/nchan.js');
const { launchBrowser } = require('../browser/support.js');
const { keepAlivePublisher: publisher } = require('../env/publisher.js');
const { startAuthorizer } = require('../env/authorizer.js');

const TINY = process.argv.includes('--tiny');
const option = (name, fallback) => {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return arg ? Number(arg.split('=')[1]) : fallback;
};
// --messages=N and --reps=N shrink the full run (the plain scenarios cost one XHR round trip
// per message, several milliseconds each in headless Chromium).
const SIZE = TINY ? { burst: 200, backlog: 200, steadyRate: 100, steadySeconds: 1, memory: 2000, crossOrigin: 50, reps: 1 }
  : { burst: option('messages', 10000), backlog: option('messages', 10000), steadyRate: 200, steadySeconds: 10,
      memory: 100000, crossOrigin: 200, reps: option('reps', 3) };
const CONTENDERS = ['comet', 'nchan', 'classic', 'limit'];
// The engines the bench can drive. The JS heap is measured in Chromium only (its DevTools
// protocol); WebKit goes through classic WebDriver (test/browser/webkit.js), whose every
// evaluate is a round trip, so what the bench times is timed inside the page.
const BENCH_ENGINES = ['chromium', 'firefox', 'webkit'];
const ENGINE = (process.argv.find((a) => a.startsWith('--engine=')) || '--engine=chromium').slice('--engine='.length);
if (!BENCH_ENGINES.includes(ENGINE)) {
  console.error(`--engine=${ENGINE}: the bench runs in ${BENCH_ENGINES.join(' or ')}`);
  process.exit(2);
}
let channelCount = 0;

const median = (values) => {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const percentile = (values, p) => {
  const sorted = values.slice().sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : NaN;
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const nowMs = () => performance.timeOrigin + performance.now();

async function openPage(env, client) {
  const page = await env.context.newPage();
  page.errors = [];
  page.on('pageerror', (error) => page.errors.push(error.message));
  await page.goto(`${env.server.origin}/bench/bench.html?client=${client}`);
  const readyAt = await page.evaluate(() => window.bench.ready);
  const scriptStart = await page.evaluate(() => window.benchScriptStart);
  page.readyMs = readyAt - scriptStart;
  return page;
}

// Waits until the page holds `count` messages, or until nothing new has arrived for `stallMs`
// (a contender that lost messages stops there; one that is merely slow keeps going: a plain
// scenario of 10,000 messages takes about a minute, one XHR round trip per message).
async function waitForCount(page, count, stallMs = 10000) {
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const received = await page.evaluate(() => window.bench.count());
    if (received >= count) return true;
    if (received !== last) {
      last = received;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > stallMs) {
      return false;
    }
    await sleep(received > 0 ? 25 : 50);
  }
}

async function waitForSubscriber(env, name) {
  for (let i = 0; i < 200; i++) {
    const info = await env.server.channelInfo(name);
    if (info.subscribers >= 1) return;
    await sleep(10);
  }
  throw new Error(`no subscriber on ${name}`);
}

function outcome(state, count, elapsed) {
  const lost = Math.max(0, count - (state.received - state.duplicates));
  const result = { ms: lost === 0 ? elapsed : NaN, lost, duplicated: state.duplicates };
  if (lost) {
    result.missing = state.missing;
    result.stateAtEnd = state.cometState;
  }
  return result;
}

// Scenario 1: the page listens; N messages are published as fast as one keep-alive publisher can.
async function burst(env, client, location) {
  const page = await openPage(env, client);
  const name = `burst-${channelCount++}`;
  await page.evaluate(([url, n]) => window.bench.start(url, n), [`/${location}/${name}`, SIZE.burst]);
  await waitForSubscriber(env, name);
  const pub = publisher(env.server.origin);
  const started = nowMs();
  for (let i = 0; i < SIZE.burst; i++) await pub.post(name, `{"type":"b","data":{"id":${i}}}`);
  const published = nowMs();
  pub.close();
  await waitForCount(page, SIZE.burst);
  const state = await page.evaluate((n) => window.bench.state(n), SIZE.burst);
  await page.close();
  const result = outcome(state, SIZE.burst, state.doneAt - started);
  // How far behind the publisher the page was when it stopped: on a multipart location the
  // publisher sets the pace, and how fast it gets to publish varies from run to run.
  result.lagMs = result.lost ? NaN : state.doneAt - published;
  return result;
}

// Scenario 2: N messages already buffered when the page connects; time to drain them.
async function backlog(env, client, location) {
  const name = `backlog-${channelCount++}`;
  const pub = publisher(env.server.origin);
  for (let i = 0; i < SIZE.backlog; i++) await pub.post(name, `{"type":"b","data":{"id":${i}}}`);
  pub.close();
  const page = await openPage(env, client);
  await page.evaluate(([url, n]) => window.bench.start(url, n), [`/${location}/${name}`, SIZE.backlog]);
  await waitForCount(page, SIZE.backlog);
  const state = await page.evaluate((n) => window.bench.state(n), SIZE.backlog);
  // A multipart backlog comes in one or a few responses: also note when the last was wholly
  // in the page, which no client can beat. (Plain backlogs make more requests than the
  // browser's Resource Timing buffer keeps.)
  const responseEnd = location === 'multi' ? await page.evaluate((path) => window.bench.responseEnd(path), `/${location}/${name}`) : 0;
  await page.close();
  const result = outcome(state, SIZE.backlog, state.doneAt - state.startedAt);
  if (responseEnd) result.responseInPageMs = responseEnd - state.startedAt;
  return result;
}

// Scenario 3: a steady stream; publish-to-handler latency.
async function steady(env, client) {
  const page = await openPage(env, client);
  const name = `steady-${channelCount++}`;
  const total = SIZE.steadyRate * SIZE.steadySeconds;
  await page.evaluate(([url, n]) => window.bench.start(url, n), [`/sub/${name}`, total]);
  await waitForSubscriber(env, name);
  const pub = publisher(env.server.origin);
  const interval = 1000 / SIZE.steadyRate;
  const begin = nowMs();
  for (let i = 0; i < total; i++) {
    const due = begin + i * interval;
    const wait = due - nowMs();
    if (wait > 1) await sleep(wait);
    await pub.post(name, `{"type":"b","data":{"id":${i},"t":${nowMs()}}}`);
  }
  pub.close();
  await waitForCount(page, total);
  const state = await page.evaluate(() => window.bench.state());
  await page.close();
  const result = outcome(state, total, 0);
  return { p50: percentile(state.latencies, 0.5), p99: percentile(state.latencies, 0.99), lost: result.lost, duplicated: result.duplicated };
}

// Scenario 5 (this client only): the page on one origin, Nchan on another (the second port of
// test/env/nginx.conf.template). N messages as fast as one publisher can, the cursor in
// headers (If-None-Match, If-Modified-Since: not CORS-safelisted, so preflighted) or in the
// query (cursorInQuery); the preflights are the OPTIONS lines in that server's access log.
// Where the browser may keep preflight answers (Max-Age 600), where it may not (Max-Age 0),
// and with an Authorization header of the page's own (which is preflighted either way).
const CROSS_ORIGIN = [
  ['Max-Age 600', 'sub', false],
  ['Max-Age 0', 'sub-nocache', false],
  ['with Authorization', 'auth', true],
];
const CURSORS = { 'cursor in headers': {}, cursorInQuery: { cursorInQuery: true } };
async function crossOrigin(env, location, options) {
  const page = await openPage(env, 'comet');
  const name = `cross-${channelCount++}`;
  await page.evaluate(([url, n, settings]) => window.bench.start(url, n, settings),
    [`${env.server.corsOrigin}/${location}/${name}`, SIZE.crossOrigin, options]);
  await waitForSubscriber(env, name);
  const pub = publisher(env.server.origin);
  const started = nowMs();
  for (let i = 0; i < SIZE.crossOrigin; i++) await pub.post(name, `{"type":"b","data":{"id":${i}}}`);
  pub.close();
  await waitForCount(page, SIZE.crossOrigin);
  // The poll after the last message waits: its preflight, if any, is in the log.
  await waitForSubscriber(env, name);
  const state = await page.evaluate((n) => window.bench.state(n), SIZE.crossOrigin);
  await page.close();
  const lines = env.server.accessLog().filter((line) => line.split(' ')[1] === `/${location}/${name}`);
  const result = outcome(state, SIZE.crossOrigin, state.doneAt - started);
  result.preflights = lines.filter((line) => line.startsWith('OPTIONS ')).length;
  result.polls = lines.filter((line) => line.startsWith('GET ') && line.endsWith(' 200')).length + 1;
  return result;
}

function gzipSize(file) {
  return zlib.gzipSync(fs.readFileSync(file), { level: 9 }).length;
}

// Scenario 4: what the page pays: bytes, start-up, memory after a long stream (this client).
async function cost(env) {
  const bytes = {
    comet: gzipSize(path.join(ROOT, 'dist', 'jquery.comet.js')),
    nchan: gzipSize(path.join(ROOT, 'node_modules', 'nchan', 'NchanSubscriber.js')),
    classic: 583,  // the original jquery.comet.js, as measured in the Emscripten notes
    limit: 0,
  };
  const ready = {};
  for (const client of CONTENDERS) {
    const samples = [];
    for (let i = 0; i < (TINY ? 2 : 9); i++) {
      const page = await openPage(env, client);
      samples.push(page.readyMs);
      await page.close();
    }
    ready[client] = median(samples);
  }
  // Memory of this client after a long stream, measured after a forced GC.
  const page = await openPage(env, 'comet');
  const name = `memory-${channelCount++}`;
  // The JS heap after a forced GC needs Chromium's DevTools protocol; elsewhere only the
  // wasm heap is measured.
  const cdp = ENGINE === 'chromium' ? await env.context.newCDPSession(page) : null;
  const heap = async () => {
    let js = NaN;
    if (cdp) {
      await cdp.send('HeapProfiler.collectGarbage');
      js = (await cdp.send('Runtime.getHeapUsage')).usedSize;
    }
    const wasm = await page.evaluate(() => $.comet._heapStats());
    return { js, wasmMemory: wasm.memoryBytes, wasmUsed: wasm.used };
  };
  await page.evaluate(([url, n]) => window.bench.start(url, n), [`/multi/${name}`, SIZE.memory]);
  await waitForSubscriber(env, name);
  const pub = publisher(env.server.origin);
  const warm = Math.min(1000, SIZE.memory / 10);
  for (let i = 0; i < warm; i++) await pub.post(name, `{"type":"b","data":{"id":${i}}}`);
  await waitForCount(page, warm);
  // Keep only a count from here on, so the recorder's own array does not count as growth.
  await page.evaluate(() => window.bench.countOnly());
  const samples = [{ messages: warm, ...await heap() }];
  // Four more samples, a quarter of the stream apart: flat means no growth after warm-up.
  for (let quarter = 1; quarter <= 4; quarter++) {
    const until = warm + Math.round((SIZE.memory - warm) * quarter / 4);
    for (let i = samples[samples.length - 1].messages; i < until; i++) await pub.post(name, `{"type":"b","data":{"id":${i}}}`);
    await waitForCount(page, until);
    await sleep(100);
    samples.push({ messages: await page.evaluate(() => window.bench.count()), ...await heap() });
  }
  pub.close();
  await page.close();
  return { bytes, ready, memory: samples };
}

// One short burst per contender before anything is measured, so that no contender pays for
// the browser's own first requests (its network service, connection pool and caches warming).
async function warmUp(env) {
  for (const client of CONTENDERS) {
    const page = await openPage(env, client);
    const name = `warm-${channelCount++}`;
    await page.evaluate(([url, n]) => window.bench.start(url, n), [`/sub/${name}`, 20]);
    await waitForSubscriber(env, name);
    const pub = publisher(env.server.origin);
    for (let i = 0; i < 20; i++) await pub.post(name, `{"type":"b","data":{"id":${i}}}`);
    pub.close();
    await waitForCount(page, 20, 2000);
    await page.close();
  }
}

function pad(text, width) {
  text = String(text);
  return text.length >= width ? `${text} ` : text + ' '.repeat(width - text.length);
}
const fmt = (ms) => (Number.isFinite(ms) ? `${ms.toFixed(1)} ms` : 'n/a');
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}x` : 'n/a');

async function main() {
  // Ctrl-C or a kill ends the run through process.exit, whose 'exit' handlers stop nginx and
  // the browsers: they run in process groups of their own, which the signal does not reach.
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(128 + os.constants.signals[signal]));
  setup();
  const env = {};
  const authorizer = await startAuthorizer();
  const bearer = { Authorization: `Bearer ${authorizer.token('bench')}` };
  env.server = await startNchan({ authorizer, requestLog: false });
  env.browser = await launchBrowser(ENGINE);
  const engine = `${ENGINE} ${env.browser.version()}`;
  process.stdout.write(`[bench] engine: ${engine}\n`);
  env.context = await env.browser.newContext();
  const results = { engine, size: SIZE, runs: {} };
  const record = (key, client, value) => {
    results.runs[key] = results.runs[key] || {};
    (results.runs[key][client] = results.runs[key][client] || []).push(value);
  };
  try {
    await warmUp(env);
    for (let rep = 0; rep < SIZE.reps; rep++) {
      // Interleaved, in a different order each repetition.
      const order = CONTENDERS.slice(rep % CONTENDERS.length).concat(CONTENDERS.slice(0, rep % CONTENDERS.length));
      for (const client of order) {
        process.stdout.write(`[bench] repetition ${rep + 1}/${SIZE.reps}: ${client}\n`);
        record('burst plain', client, await burst(env, client, 'sub'));
        record('burst multipart', client, await burst(env, client, 'multi'));
        record('backlog plain', client, await backlog(env, client, 'sub'));
        record('backlog multipart', client, await backlog(env, client, 'multi'));
        record('steady', client, await steady(env, client));
      }
      process.stdout.write(`[bench] repetition ${rep + 1}/${SIZE.reps}: comet cross-origin\n`);
      for (const [label, location, auth] of CROSS_ORIGIN) {
        for (const [cursor, options] of Object.entries(CURSORS)) {
          record(`cross-origin ${label}`, cursor, await crossOrigin(env, location, auth ? { ...options, headers: bearer } : options));
        }
      }
    }
    results.cost = await cost(env);
  } finally {
    await env.browser.close();
    await env.server.stop();
    await authorizer.stop();
  }

  // The table.
  const lines = [];
  lines.push(`${pad('scenario', 20)}${CONTENDERS.map((c) => pad(c, 26)).join('')}`);
  const summary = {};
  // Beside two scenarios, more rows: for the multipart burst, how far behind the publisher
  // each page was at the end; for the multipart backlog, when its last response was wholly in
  // the page (the server's and the network's share, which bounds what any client can do) and
  // what the client took after that (decoding and dispatching).
  const lag = (client) => median(results.runs['burst multipart'][client].map((r) => r.lagMs));
  const inPage = (client) => median(results.runs['backlog multipart'][client].map((r) => r.responseInPageMs));
  const afterResponse = (client) => median(results.runs['backlog multipart'][client].map((r) => r.ms - r.responseInPageMs));
  const extraRows = {
    'burst multipart': [['  lag at the end', lag]],
    'backlog multipart': [['  response in page', inPage], ['  client after it', afterResponse]],
  };
  for (const key of ['burst plain', 'burst multipart', 'backlog plain', 'backlog multipart']) {
    summary[key] = {};
    const cells = CONTENDERS.map((client) => {
      const runs = results.runs[key][client];
      const ms = median(runs.map((r) => r.ms));
      const lost = Math.max(...runs.map((r) => r.lost));
      const dup = Math.max(...runs.map((r) => r.duplicated));
      summary[key][client] = { ms, lost, duplicated: dup };
      return `${fmt(ms)}${lost || dup ? ` LOST ${lost} DUP ${dup}` : ''}`;
    });
    lines.push(`${pad(key, 20)}${cells.map((c) => pad(c, 26)).join('')}`);
    for (const [label, value] of extraRows[key] || []) {
      lines.push(`${pad(label, 20)}${CONTENDERS.map((c) => pad(fmt(value(c)), 26)).join('')}`);
    }
  }
  // When the multipart backlog's last response was wholly in the page: the server's and the
  // network's share, which bounds what any client can do.

  summary.steady = {};
  lines.push(`${pad('steady p50 / p99', 20)}${CONTENDERS.map((client) => {
    const runs = results.runs.steady[client];
    const p50 = median(runs.map((r) => r.p50));
    const p99 = median(runs.map((r) => r.p99));
    const lost = Math.max(...runs.map((r) => r.lost));
    summary.steady[client] = { p50, p99, lost };
    return pad(`${p50.toFixed(2)} / ${p99.toFixed(2)} ms${lost ? ` LOST ${lost}` : ''}`, 26);
  }).join('')}`);
  const { bytes, ready, memory } = results.cost;
  lines.push(`${pad('gzip bytes', 20)}${CONTENDERS.map((c) => pad(bytes[c], 26)).join('')}`);
  lines.push(`${pad('ready (median)', 20)}${CONTENDERS.map((c) => pad(fmt(ready[c]), 26)).join('')}`);
  lines.push('');
  // Cross-origin (this client): preflights per variant, with the polls and the time the
  // messages took (medians over the repetitions).
  summary.crossOrigin = {};
  lines.push(`${pad(`cross-origin preflights, ${SIZE.crossOrigin} msgs`, 38)}${Object.keys(CURSORS).map((c) => pad(c, 36)).join('')}`);
  for (const [label] of CROSS_ORIGIN) {
    const key = `cross-origin ${label}`;
    summary.crossOrigin[label] = {};
    const cells = Object.keys(CURSORS).map((cursor) => {
      const runs = results.runs[key][cursor];
      const cell = { preflights: median(runs.map((r) => r.preflights)), polls: median(runs.map((r) => r.polls)),
        ms: median(runs.map((r) => r.ms)), lost: Math.max(...runs.map((r) => r.lost)) };
      summary.crossOrigin[label][cursor] = cell;
      return `${cell.preflights} in ${cell.polls} polls, ${fmt(cell.ms)}${cell.lost ? ` LOST ${cell.lost}` : ''}`;
    });
    lines.push(`${pad(`  ${label}`, 38)}${cells.map((c) => pad(c, 36)).join('')}`);
  }
  lines.push('');
  const s = summary;
  const quotient = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN);
  const verdict = (ok) => (ok === null ? '' : ok ? 'met' : 'MISSED');
  const floor = median(CONTENDERS.map(inPage));
  // Memory: the JS heap after a forced GC and the wasm heap in use, at five points of the
  // stream. Flat: after the warm-up the JS heap stays within 5%, and the wasm heap in use
  // within 256 bytes throughout. (The wasm memory itself grows to fit the largest response
  // and cannot shrink; it is shown, not judged.)
  const kb = (bytes) => (Number.isFinite(bytes) ? (bytes / 1024).toFixed(0) : 'n/a');
  const spread = (values) => Math.max(...values) - Math.min(...values);
  const jsAfterWarmUp = memory.slice(1).map((m) => m.js);
  const jsFlat = ENGINE !== 'chromium' || spread(jsAfterWarmUp) <= 0.05 * Math.min(...jsAfterWarmUp);
  const flat = jsFlat && spread(memory.map((m) => m.wasmUsed)) <= 256;
  const row = (name, value, goal, ok) => [name, value, goal, verdict(ok)];
  const r = {
    plainVsLimit: quotient(s['burst plain'].comet.ms, s['burst plain'].limit.ms),
    classicVsComet: quotient(s['burst plain'].classic.ms, s['burst plain'].comet.ms),
    burstMulti: quotient(s['burst multipart'].comet.ms, s['burst multipart'].nchan.ms),
    backlogMulti: quotient(s['backlog multipart'].comet.ms, s['backlog multipart'].nchan.ms),
    p99: s.steady.comet.p99 - s.steady.limit.p99,
  };
  const targets = [
    row('plain burst vs limit', ratio(s['burst plain'].comet.ms, s['burst plain'].limit.ms), '<= 1.05x', r.plainVsLimit <= 1.05),
    row('plain burst: classic / comet', ratio(s['burst plain'].classic.ms, s['burst plain'].comet.ms), '>= 1.5x', r.classicVsComet >= 1.5),
    row('multipart burst vs nchan', ratio(s['burst multipart'].comet.ms, s['burst multipart'].nchan.ms), '<= 1.0x', r.burstMulti <= 1.0),
    row('  lag at the end vs nchan', ratio(lag('comet'), lag('nchan')), '(publisher-independent)', null),
    row('multipart backlog vs nchan', ratio(s['backlog multipart'].comet.ms, s['backlog multipart'].nchan.ms), '<= 0.8x', r.backlogMulti <= 0.8),
    row('  response in page vs nchan', ratio(floor, s['backlog multipart'].nchan.ms), '(no client is faster)', null),
    row('  client after it vs nchan', ratio(afterResponse('comet'), afterResponse('nchan')), '(decode + dispatch)', null),
    row('steady p99 - limit p99', `${r.p99.toFixed(2)} ms`, '<= 1 ms', r.p99 <= 1),
    row('dist gzip bytes', String(bytes.comet), '<= 24576', bytes.comet <= 24576),
    row('ready median', fmt(ready.comet), '< 25 ms', ready.comet < 25),
    row(`memory over ${memory[memory.length - 1].messages} msgs`,
      `${ENGINE === 'chromium' ? `JS ${memory.map((m) => kb(m.js)).join('/')} KB` : `JS not measured in ${ENGINE}`}; wasm ${memory.map((m) => kb(m.wasmMemory)).join('/')} KB, ` +
      `in use ${memory.map((m) => m.wasmUsed).join('/')} B`, 'flat', flat),
  ];
  lines.push(`${pad('target', 34)}${pad('measured', 62)}${pad('goal', 24)}`);
  for (const [name, value, goal, ok] of targets) lines.push(`${pad(name, 34)}${pad(value, 62)}${pad(goal, 24)}${ok}`);
  for (const [key, byClient] of Object.entries(results.runs)) {
    for (const [client, runs] of Object.entries(byClient)) {
      runs.forEach((run, i) => {
        if (run.lost && run.missing) {
          lines.push(`note: ${key}, ${client}, repetition ${i + 1}: lost ${run.lost}; first missing ids ${run.missing.join(' ')}` +
            (run.stateAtEnd ? `; connection state ${run.stateAtEnd}` : ''));
        }
      });
    }
  }
  console.log(`\nengine: ${engine}\n${lines.join('\n')}`);
  results.summary = summary;
  results.targets = targets.map(([name, value, goal, ok]) => ({ name, value, goal, verdict: ok }));
  const suffix = ENGINE === 'chromium' ? '' : `-${ENGINE}`;
  const out = path.join(ROOT, 'test', 'artifacts', `${TINY ? 'bench-tiny' : 'bench'}${suffix}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(results, null, 2));
  console.log(`\nwritten ${path.relative(ROOT, out)}`);
}

main().catch((error) => {
  console.error(error.stack || error.message);
  process.exit(1);
});
