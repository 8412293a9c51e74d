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
//   node test/bench/run.js --scale-only  the scale table and the headline drain alone (issue 15)
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
// --scale-only: the scale table and the headline drain alone (issue 15), without the scenarios
// and the cost before them.
const SCALE_ONLY = process.argv.includes('--scale-only');
const option = (name, fallback) => {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  if (!arg) return fallback;
  const value = Number(arg.split('=')[1]);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`${arg}: --${name} takes a whole number of at least 1`);
    process.exit(2);
  }
  return value;
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

// `query`: more of the page's address (the headline drain's &drain=..&count=..).
async function openPage(env, client, query = '') {
  const page = await env.context.newPage();
  page.errors = [];
  page.on('pageerror', (error) => page.errors.push(error.message));
  await page.goto(`${env.server.origin}/bench/bench.html?client=${client}${query}`);
  const readyAt = await page.evaluate(() => window.bench.ready);
  const scriptStart = await page.evaluate(() => window.benchScriptStart);
  page.readyMs = readyAt - scriptStart;
  // On the clock of bench.state()'s times (ms since the epoch), for the headline drain.
  page.scriptStartAt = await page.evaluate(() => performance.timeOrigin + window.benchScriptStart);
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

// Until one of the channels `names` has a subscriber: the page's connections poll again. Which
// of them reach the server is a race (a browser keeps at most six connections to one server,
// and each connection's next poll queues for one), so no one channel is waited for. Otherwise
// it fails naming each channel's subscribers, and `what` says which stage it was.
async function waitForAnySubscriber(env, names, what) {
  let counts = [];
  for (let i = 0; i < 200; i++) {
    counts = (await Promise.all(names.map((name) => env.server.channelInfo(name)))).map((info) => info.subscribers);
    if (counts.some((count) => count >= 1)) return;
    await sleep(10);
  }
  throw new Error(`${what}: no subscriber on any of ${names.length} channels (${names[0]}...; subscribers ${counts.join(',')})`);
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
  await publishBacklog(env, [name], SIZE.backlog, (i) => `{"type":"b","data":{"id":${i}}}`);
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

// Scenario 3: a steady stream; publish-to-handler latency. `connections`: how many posts may
// be in flight at once, each on a keep-alive connection of its own: one publisher that awaits
// every post manages some 3,000 a second here, so the scale table's 5,000 a second needs more.
// A post that has to wait for a free connection is stamped when it goes, so its wait is not
// counted as the page's lag; `publishedPerSecond` says what rate the publisher really kept.
async function steady(env, client, { location = 'sub', rate = SIZE.steadyRate, seconds = SIZE.steadySeconds, connections = 1 } = {}) {
  const page = await openPage(env, client);
  const name = `steady-${channelCount++}`;
  const total = Math.round(rate * seconds);
  await page.evaluate(([url, n]) => window.bench.start(url, n), [`/${location}/${name}`, total]);
  await waitForSubscriber(env, name);
  const pub = publisher(env.server.origin, { connections });
  const pending = new Set();
  const interval = 1000 / rate;
  const begin = nowMs();
  let lastPost = begin;
  for (let i = 0; i < total; i++) {
    const due = begin + i * interval;
    const wait = due - nowMs();
    if (wait > 1) await sleep(wait);
    if (pending.size >= connections) await Promise.race(pending);
    lastPost = nowMs();
    const post = pub.post(name, `{"type":"b","data":{"id":${i},"t":${lastPost}}}`).finally(() => pending.delete(post));
    pending.add(post);
  }
  await Promise.all(pending);
  pub.close();
  await waitForCount(page, total);
  const state = await page.evaluate((n) => window.bench.state(n), total);
  await page.close();
  const result = outcome(state, total, 0);
  // A loss keeps the first missing ids and the connection's state, for the notes under the table.
  return { p50: percentile(state.latencies, 0.5), p99: percentile(state.latencies, 0.99), lost: result.lost, duplicated: result.duplicated,
    missing: result.missing, stateAtEnd: result.stateAtEnd,
    publishedPerSecond: total > 1 ? (total - 1) / ((lastPost - begin) / 1000) : NaN };
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

// --- The scale table (issue 15): how the cost grows with the work --------------------------
// This client, NchanSubscriber and the bare loop, on the multipart location, interleaved
// within each repetition like the scenarios above: each scenario's contenders one after the
// other, in an order that turns each repetition. A backlog is published once and drained by
// every contender in turn (a drain reads a channel, it does not empty it), so they read the
// very same messages, and the run does not pay the publishing three times over.
const SCALE_CONTENDERS = ['comet', 'nchan', 'limit'];
// sizes: [message bytes, count]: about 2 MB for the larger sizes, 16,000 (0.5 MB) of 30 B
// (Nchan keeps 20,000 a channel: test/env/nginx.conf.template), four of 1 MiB, the largest a
// publisher may post there (client_max_body_size is nginx's default, 1m: one byte more is 413).
// rates: messages a second, each for rateSeconds. connections: one page's connections, to as
// many channels, draining connectionMessages in all between them (what grows is the number of
// connections, not the work); the largest number again with `shared: true` (this client).
// memoryConnections: the idle connections whose JS heap is measured (Chromium only).
// headline: the issue's drain, that many messages of about 130 B. drains: how many times each
// contender drains each drain row (the message sizes, the connections, the headline) in one
// repetition, interleaved, the order turning each time (--drains=N): one drain moves by 20-40%
// from page to page (the server's and the network's share, V8's compiles in the background, the
// collector), so those cells are medians of reps x drains pages; the rates and the memory, of
// reps. --tiny only proves that
// every kind of row still runs (npm test runs it in three engines, and a page load is most of
// what each cell costs there): the extremes of each, with little work.
const SCALE = TINY ? {
  sizes: [[30, 500], [1048576, 1]],
  rates: [100, 5000], rateSeconds: 0.3,
  connections: [1, 20], connectionMessages: 60,
  memoryConnections: 20,
  headline: 500,
  drains: 1,
} : {
  sizes: [[30, 16000], [1024, 2000], [65536, 32], [1048576, 4]],
  rates: [100, 1000, 5000], rateSeconds: 3,
  connections: [1, 6, 20], connectionMessages: 6000,
  memoryConnections: 20,
  headline: 10000,
  drains: option('drains', 5),
};
const rotate = (list, rep) => list.slice(rep % list.length).concat(list.slice(0, rep % list.length));
// Every page that drains a shared backlog polls a URL of its own (?page=N, which Nchan
// ignores): the browser's HTTP cache is shared by the pages, and Firefox revalidates a URL
// that an earlier page polled with that response's Etag and Last-Modified, which Nchan reads
// as a cursor after the last message. A loop whose first poll sends no cursor of its own (the
// bare loop, after NchanSubscriber) would then wait for messages that came before it.
let drainPages = 0;
const drainUrl = (name) => `/multi/${name}?page=${drainPages++}`;

// A message of exactly `bytes` bytes, {"type":"s","data":"<padding>"}: the padding starts with
// the message's id and a colon (the pages record that id, so losses and duplicates are seen).
function sizedMessage(id, bytes) {
  const head = `{"type":"s","data":"${id}:`;
  const message = `${head}${'x'.repeat(bytes - head.length - 2)}"}`;
  if (message.length !== bytes) throw new Error(`a message of ${bytes} bytes cannot hold id ${id}`);
  return message;
}

// Publishes `count` messages, make(id), to the channels `names` in turn (message i to channel
// i mod n). Returns their total size in bytes.
async function publishBacklog(env, names, count, make) {
  const pub = publisher(env.server.origin);
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const message = make(i);
    bytes += Buffer.byteLength(message);
    await pub.post(names[i % names.length], message);
  }
  pub.close();
  return bytes;
}

// A page connects to the multipart location of every channel of `names` (one connection
// each), where `count` messages wait in all; from bench.start to the last handler. A page
// holds at most six HTTP/1.1 connections to one server (every engine here): the seventh
// connection's poll waits for one of them to be free, and that wait is part of the figure.
async function drain(env, client, names, count, options = undefined) {
  const page = await openPage(env, client);
  const urls = names.map(drainUrl);
  await page.evaluate(([list, n, settings]) => window.bench.start(list, n, settings), [urls, count, options]);
  await waitForCount(page, count);
  const state = await page.evaluate((n) => window.bench.state(n), count);
  await page.close();
  return outcome(state, count, state.doneAt - state.startedAt);
}

// The issue's headline: a multipart backlog of `count` messages of about 130 B, drained by a
// page that connects from its own script (bench.html?drain=), timed from the script tag of the
// contender (window.benchScriptStart: loading and starting the client count) to the last
// handler. Beside it, as in the backlog rows: when the last response was wholly in the page,
// and what the client took after that.
async function headlineDrain(env, client, name, count) {
  const url = drainUrl(name);
  const page = await openPage(env, client, `&drain=${encodeURIComponent(url)}&count=${count}`);
  await waitForCount(page, count);
  const state = await page.evaluate((n) => window.bench.state(n), count);
  const responseEnd = await page.evaluate((path) => window.bench.responseEnd(path), url);
  await page.close();
  const result = outcome(state, count, state.doneAt - page.scriptStartAt);
  result.readyMs = page.readyMs;
  result.responseInPageMs = responseEnd ? responseEnd - page.scriptStartAt : NaN;
  result.clientMs = responseEnd && !result.lost ? state.doneAt - responseEnd : NaN;
  return result;
}

// The JS heap (after a forced GC; Chromium's DevTools protocol) that each open connection
// costs. Each channel has one message waiting, so a connection counted has done a whole
// exchange and is polling again, idle. The first connection pays for what a page sets up once
// (handlers, the client's own state, the code V8 compiles for it): the heap with none, then
// with one. The cost per connection is measured on a second round: `n` connections are opened
// and closed first, so that the code V8 compiles only once a function has run often enough (a
// heap snapshot put 3.5 KB of the 5.5 KB per connection in such code) counts in neither round,
// then `n` more are opened, and the heap's growth over them is divided by `n`. (Closing the
// first round also frees the browser's six connections to the server, which its idle polls
// would otherwise hold.) This client's wasm heap in use is measured the same way.
async function connectionMemory(env, client) {
  const n = SCALE.memoryConnections;
  const names = Array.from({ length: 2 * n + 1 }, () => `memory-${channelCount++}`);
  await publishBacklog(env, names, 2 * n + 1, (i) => `{"type":"b","data":{"id":${i}}}`);
  const page = await openPage(env, client);
  const cdp = await env.context.newCDPSession(page);
  const heap = async () => {
    await cdp.send('HeapProfiler.collectGarbage');
    const js = (await cdp.send('Runtime.getHeapUsage')).usedSize;
    const wasm = client === 'comet' ? (await page.evaluate(() => $.comet._heapStats())).used : NaN;
    return { js, wasm };
  };
  const open = async (list, total) => {
    await page.evaluate(([urls, count]) => window.bench.start(urls, count), [list.map((name) => `/multi/${name}`), total]);
    await waitForCount(page, total);
    // Polling again: at most six polls are at the server at once (the rest wait in the browser).
    const received = await page.evaluate(() => window.bench.count());
    await waitForAnySubscriber(env, list, `${client}, memory: ${list.length} connections, ${received} of ${total} messages`);
  };
  const none = await heap();
  await open(names.slice(0, 1), 1);
  const one = await heap();
  await open(names.slice(1, n + 1), n + 1);
  await page.evaluate(() => window.bench.stopAll());
  const before = await heap();
  await open(names.slice(n + 1), 2 * n + 1);
  const after = await heap();
  // A stage that stalled (waitForCount gave up) leaves the count short, so it shows here.
  const lost = 2 * n + 1 - await page.evaluate(() => window.bench.count());
  await page.close();
  const perConnectionJs = (after.js - before.js) / n;
  const perConnectionWasm = (after.wasm - before.wasm) / n;
  return {
    firstJs: one.js - none.js, perConnectionJs, firstWasm: one.wasm - none.wasm, perConnectionWasm,
    // All a connection keeps: the others keep nothing in a wasm heap.
    perConnectionAll: perConnectionJs + (client === 'comet' ? perConnectionWasm : 0), lost,
  };
}

// One repetition of the scale table and the headline drain; `record(key, client, value)`.
async function scaleRepetition(env, rep, record) {
  const order = rotate(SCALE_CONTENDERS, rep);
  const began = Date.now();
  // With the seconds since this repetition's scale part began: --tiny must stay short.
  const say = (what) => process.stdout.write(`[bench] repetition ${rep + 1}/${SIZE.reps}: scale, ${what} (at ${((Date.now() - began) / 1000).toFixed(1)} s)\n`);
  say('message sizes');
  for (const [bytes, count] of SCALE.sizes) {
    const name = `size-${channelCount++}`;
    const total = await publishBacklog(env, [name], count, (i) => sizedMessage(i, bytes));
    for (let k = 0; k < SCALE.drains; k++) {
      for (const client of rotate(order, k)) {
        const result = await drain(env, client, [name], count);
        result.mbPerSecond = total / 1e6 / (result.ms / 1000);
        record(`scale size ${bytes}`, client, result);
      }
    }
  }
  say('publish rates');
  for (const rate of SCALE.rates) {
    for (const client of order) {
      record(`scale rate ${rate}`, client, await steady(env, client, { location: 'multi', rate, seconds: SCALE.rateSeconds, connections: 4 }));
    }
  }
  say('connections per page');
  for (const n of SCALE.connections) {
    const names = Array.from({ length: n }, () => `conns-${channelCount++}`);
    await publishBacklog(env, names, SCALE.connectionMessages, (i) => `{"type":"b","data":{"id":${i}}}`);
    for (let k = 0; k < SCALE.drains; k++) {
      for (const client of rotate(order, k)) {
        record(`scale connections ${n}`, client, await drain(env, client, names, SCALE.connectionMessages));
      }
      if (n === Math.max(...SCALE.connections)) {
        record(`scale connections ${n} shared`, 'comet', await drain(env, 'comet', names, SCALE.connectionMessages, { shared: true }));
      }
    }
  }
  if (ENGINE === 'chromium') {
    say('memory per connection');
    for (const client of order) record('scale memory', client, await connectionMemory(env, client));
  }
  say(`headline drain of ${SCALE.headline}`);
  const name = `headline-${channelCount++}`;
  // About 130 B: the id and a field of 100 characters.
  const text = 'abcdefghij'.repeat(10);
  const bytes = await publishBacklog(env, [name], SCALE.headline, (i) => `{"type":"b","data":{"id":${i},"s":"${text}"}}`);
  for (let k = 0; k < SCALE.drains; k++) {
    for (const client of rotate(order, k)) {
      const result = await headlineDrain(env, client, name, SCALE.headline);
      result.messageBytes = bytes / SCALE.headline;
      record('headline', client, result);
    }
    const floorPage = await openPage(env, 'comet');
    const floorMs = await floorPage.evaluate(([n, padding]) => window.bench.floor(n, padding), [SCALE.headline, text]);
    await floorPage.close();
    record('headline floor', 'comet', { ms: floorMs });
  }
  say('done');
}

function pad(text, width) {
  text = String(text);
  return text.length >= width ? `${text} ` : text + ' '.repeat(width - text.length);
}
const fmt = (ms) => (Number.isFinite(ms) ? `${ms.toFixed(1)} ms` : 'n/a');
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}x` : 'n/a');
const quotient = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN);
// A target line: [name, measured, goal, verdict]; `ok` null for a line that only informs.
const targetRow = (name, value, goal, ok) => [name, value, goal, ok === null ? '' : ok ? 'met' : 'MISSED'];
function pushTargets(lines, targets) {
  lines.push(`${pad('target', 34)}${pad('measured', 62)}${pad('goal', 24)}`);
  for (const [name, value, goal, ok] of targets) lines.push(`${pad(name, 34)}${pad(value, 62)}${pad(goal, 24)}${ok}`);
}

// The table of the scenarios above, into `lines`; their medians into `summary`. Returns the
// targets' rows.
function mainTable(results, lines, summary) {
  lines.push(`${pad('scenario', 20)}${CONTENDERS.map((c) => pad(c, 26)).join('')}`);
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
  const r = {
    plainVsLimit: quotient(s['burst plain'].comet.ms, s['burst plain'].limit.ms),
    classicVsComet: quotient(s['burst plain'].classic.ms, s['burst plain'].comet.ms),
    burstMulti: quotient(s['burst multipart'].comet.ms, s['burst multipart'].nchan.ms),
    backlogMulti: quotient(s['backlog multipart'].comet.ms, s['backlog multipart'].nchan.ms),
    p99: s.steady.comet.p99 - s.steady.limit.p99,
  };
  const targets = [
    targetRow('plain burst vs limit', ratio(s['burst plain'].comet.ms, s['burst plain'].limit.ms), '<= 1.05x', r.plainVsLimit <= 1.05),
    targetRow('plain burst: classic / comet', ratio(s['burst plain'].classic.ms, s['burst plain'].comet.ms), '>= 1.5x', r.classicVsComet >= 1.5),
    targetRow('multipart burst vs nchan', ratio(s['burst multipart'].comet.ms, s['burst multipart'].nchan.ms), '<= 1.0x', r.burstMulti <= 1.0),
    targetRow('  lag at the end vs nchan', ratio(lag('comet'), lag('nchan')), '(publisher-independent)', null),
    targetRow('multipart backlog vs nchan', ratio(s['backlog multipart'].comet.ms, s['backlog multipart'].nchan.ms), '<= 0.8x', r.backlogMulti <= 0.8),
    targetRow('  response in page vs nchan', ratio(floor, s['backlog multipart'].nchan.ms), '(no client is faster)', null),
    targetRow('  client after it vs nchan', ratio(afterResponse('comet'), afterResponse('nchan')), '(decode + dispatch)', null),
    targetRow('steady p99 - limit p99', `${r.p99.toFixed(2)} ms`, '<= 1 ms', r.p99 <= 1),
    targetRow('dist gzip bytes', String(bytes.comet), '<= 24576', bytes.comet <= 24576),
    targetRow('ready median', fmt(ready.comet), '< 15 ms', ready.comet < 15),
    targetRow(`memory over ${memory[memory.length - 1].messages} msgs`,
      `${ENGINE === 'chromium' ? `JS ${memory.map((m) => kb(m.js)).join('/')} KB` : `JS not measured in ${ENGINE}`}; wasm ${memory.map((m) => kb(m.wasmMemory)).join('/')} KB, ` +
      `in use ${memory.map((m) => m.wasmUsed).join('/')} B`, 'flat', flat),
  ];
  pushTargets(lines, targets);
  return targets;
}

// The scale table and the headline drain, into `lines`; their medians into summary.scale and
// summary.headline. Cells are medians over all their runs (SCALE.drains); a cell whose runs lost or
// duplicated messages says so. The ratio columns divide this client's figure by the other's:
// for MB/s above 1x is faster, for every figure in ms, KB or B below 1x is.
function scaleTable(results, lines, summary) {
  const runsOf = (key, client) => (results.runs[key] || {})[client] || [];
  const mid = (key, client, field) => median(runsOf(key, client).map((r) => r[field]));
  const faults = (key, client) => {
    const runs = runsOf(key, client);
    const lost = Math.max(0, ...runs.map((r) => r.lost || 0));
    const dup = Math.max(0, ...runs.map((r) => r.duplicated || 0));
    return lost || dup ? ` LOST ${lost} DUP ${dup}` : '';
  };
  const scale = {};
  summary.scale = scale;
  const others = SCALE_CONTENDERS.filter((c) => c !== 'comet');
  lines.push(`scale (multipart): the drain rows and the headline are medians of ${SIZE.reps * SCALE.drains} pages ` +
    `(${SCALE.drains} per repetition), the rates and the memory of ${SIZE.reps}`);
  lines.push(`${pad('', 34)}` +
    `${SCALE_CONTENDERS.map((c) => pad(c, 24)).join('')}${others.map((c) => pad(`comet/${c}`, 16)).join('')}`);
  // One row: `values[client]` (a number, NaN for none), shown by `show`, ratios of `values`.
  const row = (label, key, values, show, notes = {}) => {
    scale[key] = values;
    const cells = SCALE_CONTENDERS.map((c) => pad(`${show(values[c])}${notes[c] || ''}`, 24));
    const ratios = others.map((c) => pad(ratio(values.comet, values[c]), 16));
    lines.push(`${pad(label, 34)}${cells.join('')}${ratios.join('')}`);
  };
  const byClient = (fn) => Object.fromEntries(SCALE_CONTENDERS.map((c) => [c, fn(c)]));
  const notesOf = (key) => byClient((c) => faults(key, c));
  const mbps = (v) => (Number.isFinite(v) ? `${v.toFixed(2)} MB/s` : 'n/a');
  const us = (v) => (Number.isFinite(v) ? `${(v * 1000).toFixed(1)} us/msg` : 'n/a');
  const kib = (v) => (Number.isFinite(v) ? `${(v / 1024).toFixed(2)} KB` : 'n/a');
  const size = (bytes) => (bytes >= 1048576 ? `${bytes / 1048576} MiB` : bytes >= 1024 ? `${bytes / 1024} KB` : `${bytes} B`);

  for (const [bytes, count] of SCALE.sizes) {
    const key = `scale size ${bytes}`;
    row(`size ${size(bytes)} x ${count}, drain`, key, byClient((c) => mid(key, c, 'mbPerSecond')), mbps, notesOf(key));
  }
  for (const rate of SCALE.rates) {
    const key = `scale rate ${rate}`;
    const p50 = byClient((c) => mid(key, c, 'p50'));
    const p99 = byClient((c) => mid(key, c, 'p99'));
    // Both percentiles in one cell, and both ratios in one.
    scale[key] = { p50, p99, publishedPerSecond: byClient((c) => mid(key, c, 'publishedPerSecond')) };
    const notes = notesOf(key);
    const cells = SCALE_CONTENDERS.map((c) => pad(`${p50[c].toFixed(2)} / ${p99[c].toFixed(2)} ms${notes[c]}`, 24));
    const ratios = others.map((c) => pad(`${ratio(p50.comet, p50[c])}/${ratio(p99.comet, p99[c])}`, 16));
    lines.push(`${pad(`rate ${rate}/s x ${SCALE.rateSeconds} s, lag p50/p99`, 34)}${cells.join('')}${ratios.join('')}`);
    lines.push(`${pad('  published at', 34)}${SCALE_CONTENDERS.map((c) => pad(`${Math.round(scale[key].publishedPerSecond[c])}/s`, 24)).join('')}`);
  }
  for (const n of SCALE.connections) {
    const key = `scale connections ${n}`;
    row(`${n} connection${n > 1 ? 's' : ''}, drain per msg`, key,
      byClient((c) => mid(key, c, 'ms') / SCALE.connectionMessages), us, notesOf(key));
  }
  const sharedKey = `scale connections ${Math.max(...SCALE.connections)} shared`;
  row(`${Math.max(...SCALE.connections)} connections, shared: true`, sharedKey,
    byClient((c) => (c === 'comet' ? mid(sharedKey, c, 'ms') / SCALE.connectionMessages : NaN)), us, notesOf(sharedKey));
  // Memory: Chromium only (n/a elsewhere).
  const memoryNotes = byClient((c) => (Math.max(0, ...runsOf('scale memory', c).map((r) => r.lost)) ? ' LOST' : ''));
  row(`JS heap per idle connection`, 'scale memory per connection', byClient((c) => mid('scale memory', c, 'perConnectionJs')), kib, memoryNotes);
  row(`  the first connection`, 'scale memory first', byClient((c) => mid('scale memory', c, 'firstJs')), kib);
  row(`  wasm in use per connection`, 'scale wasm per connection', byClient((c) => mid('scale memory', c, 'perConnectionWasm')),
    (v) => (Number.isFinite(v) ? `${Math.round(v)} B` : 'n/a'));
  // What a connection costs in all: this client keeps most of a connection's state in the wasm
  // heap, which the JS heap does not count; the others keep all of it in the JS heap.
  row(`  JS heap and wasm in use`, 'scale memory all per connection', byClient((c) => mid('scale memory', c, 'perConnectionAll')), kib);

  // The headline: one block of its own.
  const key = 'headline';
  const headline = {
    ms: byClient((c) => mid(key, c, 'ms')),
    readyMs: byClient((c) => mid(key, c, 'readyMs')),
    responseInPageMs: byClient((c) => mid(key, c, 'responseInPageMs')),
    clientMs: byClient((c) => mid(key, c, 'clientMs')),
    messageBytes: mid(key, 'comet', 'messageBytes'),
  };
  summary.headline = headline;
  lines.push('');
  lines.push(`${pad(`headline: multipart backlog drain, ${SCALE.headline} msgs of ${Math.round(headline.messageBytes)} B`, 62)}`);
  lines.push(`${pad('  from the first script', 34)}${SCALE_CONTENDERS.map((c) => pad(c, 24)).join('')}${others.map((c) => pad(`comet/${c}`, 16)).join('')}`);
  const notes = notesOf(key);
  for (const [label, field] of [['  to the last handler', 'ms'], ['  ready (script to ready)', 'readyMs'],
    ['  response in page', 'responseInPageMs'], ['  client after it', 'clientMs']]) {
    const values = headline[field];
    lines.push(`${pad(label, 34)}${SCALE_CONTENDERS.map((c) => pad(`${fmt(values[c])}${field === 'ms' ? notes[c] : ''}`, 24)).join('')}` +
      `${others.map((c) => pad(ratio(values.comet, values[c]), 16)).join('')}`);
  }
  // The floor (bench.floor in contenders.js): what stays of the client share for any client
  // that fires the original's events; its ratios are to the others' client share.
  headline.floorMs = mid('headline floor', 'comet', 'ms');
  lines.push(`${pad('  floor: JSON.parse + events', 34)}${SCALE_CONTENDERS.map((c) => pad(c === 'comet' ? fmt(headline.floorMs) : 'n/a', 24)).join('')}` +
    `${others.map((c) => pad(ratio(headline.floorMs, headline.clientMs[c]), 16)).join('')}`);

  // Issue 15's targets that this table measures: the headline against NchanSubscriber, and no
  // row more than 10% behind it (MB/s: below 1/1.1 of its figure; ms, us and KB: above 1.1x).
  const behind = [];
  const check = (label, values, higherIsBetter = false) => {
    const q = quotient(values.comet, values.nchan);
    if (Number.isFinite(q) && (higherIsBetter ? q < 1 / 1.1 : q > 1.1)) behind.push(`${label} ${q.toFixed(2)}x`);
  };
  for (const [bytes] of SCALE.sizes) check(size(bytes), scale[`scale size ${bytes}`], true);
  for (const rate of SCALE.rates) {
    check(`${rate}/s p50`, scale[`scale rate ${rate}`].p50);
    check(`${rate}/s p99`, scale[`scale rate ${rate}`].p99);
  }
  for (const n of SCALE.connections) check(`${n} conn.`, scale[`scale connections ${n}`]);
  check('memory', scale['scale memory all per connection']);
  // A ratio that could not be measured (a contender lost messages) is shown, not judged.
  const within = (q, goal) => (Number.isFinite(q) ? q <= goal : null);
  const drain = quotient(headline.ms.comet, headline.ms.nchan);
  const share = quotient(headline.clientMs.comet, headline.clientMs.nchan);
  const targets = [
    targetRow('headline drain vs nchan', ratio(headline.ms.comet, headline.ms.nchan), '<= 1.0x', within(drain, 1.0)),
    targetRow('  client share vs nchan', `${ratio(headline.clientMs.comet, headline.clientMs.nchan)} (the floor: ` +
      `${ratio(headline.floorMs, headline.clientMs.nchan)})`, '<= 0.8x', within(share, 0.8)),
    targetRow('scale rows >10% behind nchan', behind.length ? behind.join(', ') : 'none', 'none', behind.length === 0),
  ];
  lines.push('');
  pushTargets(lines, targets);
  return targets;
}

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
  const results = { engine, size: SIZE, scale: SCALE, scaleOnly: SCALE_ONLY, runs: {} };
  const record = (key, client, value) => {
    results.runs[key] = results.runs[key] || {};
    (results.runs[key][client] = results.runs[key][client] || []).push(value);
  };
  try {
    await warmUp(env);
    for (let rep = 0; rep < SIZE.reps; rep++) {
      // Interleaved, in a different order each repetition.
      const order = rotate(CONTENDERS, rep);
      for (const client of SCALE_ONLY ? [] : order) {
        process.stdout.write(`[bench] repetition ${rep + 1}/${SIZE.reps}: ${client}\n`);
        record('burst plain', client, await burst(env, client, 'sub'));
        record('burst multipart', client, await burst(env, client, 'multi'));
        record('backlog plain', client, await backlog(env, client, 'sub'));
        record('backlog multipart', client, await backlog(env, client, 'multi'));
        record('steady', client, await steady(env, client));
      }
      if (!SCALE_ONLY) {
        process.stdout.write(`[bench] repetition ${rep + 1}/${SIZE.reps}: comet cross-origin\n`);
        for (const [label, location, auth] of CROSS_ORIGIN) {
          for (const [cursor, options] of Object.entries(CURSORS)) {
            record(`cross-origin ${label}`, cursor, await crossOrigin(env, location, auth ? { ...options, headers: bearer } : options));
          }
        }
      }
      await scaleRepetition(env, rep, record);
    }
    if (!SCALE_ONLY) results.cost = await cost(env);
  } finally {
    await env.browser.close();
    await env.server.stop();
    await authorizer.stop();
  }

  const lines = [];
  const summary = {};
  let targets = [];
  if (!SCALE_ONLY) targets = mainTable(results, lines, summary);
  lines.push('');
  targets = targets.concat(scaleTable(results, lines, summary));
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
  // A --scale-only run has an artifact of its own: it does not overwrite a whole run's.
  const out = path.join(ROOT, 'test', 'artifacts', `${TINY ? 'bench-tiny' : 'bench'}${SCALE_ONLY ? '-scale' : ''}${suffix}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(results, null, 2));
  console.log(`\nwritten ${path.relative(ROOT, out)}`);
}

main().catch((error) => {
  console.error(error.stack || error.message);
  process.exit(1);
});
