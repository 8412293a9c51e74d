'use strict';
// Self-tests of the fault-injection tools (test/env/fault-server.js, test/env/chaos-proxy.js,
// test/env/cut-proxy.js) with plain Node clients, no browser: every scripted step does what it
// says, the log and CORS are right, the chaos proxy is transparent until told to cut, and the
// cut proxy gives a client exactly the bytes it is told to.
const { it, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const net = require('node:net');
const { startFaultServer, httpDate, DEFAULT_BOUNDARY } = require('../env/fault-server.js');
const { startChaosProxy, mulberry32 } = require('../env/chaos-proxy.js');
const { startCutProxy } = require('../env/cut-proxy.js');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let server;

before(async () => { server = await startFaultServer(); });
after(() => server.stop());
beforeEach(() => server.reset());

// A GET that records everything: status, headers, body pieces with their arrival times, and
// how it ended ('end', or the error code). `abortAfterMs` (a number, or a function returning a
// promise) ends it from our side; `count` keeps only the byte count, not the body.
function get(url, { headers = {}, method = 'GET', agent = false, abortAfterMs, idleMs, count = false } = {}) {
  return new Promise((resolve) => {
    const started = Date.now();
    const result = { status: null, headers: null, pieces: [], times: [], ended: null, complete: false, reused: false, bytes: 0 };
    let timer = null;
    const done = (how) => {
      if (result.ended) return;
      result.ended = how;
      clearTimeout(timer);
      result.body = Buffer.concat(result.pieces);
      request.destroy();
      resolve(result);
    };
    const request = http.request(url, { method, headers, agent }, (response) => {
      result.status = response.statusCode;
      result.headers = response.headers;
      result.headersAt = Date.now() - started;
      result.reused = request.reusedSocket;
      response.on('data', (chunk) => {
        result.bytes += chunk.length;
        if (count) return;
        result.pieces.push(chunk);
        result.times.push(Date.now() - started);
      });
      response.on('end', () => { result.complete = response.complete; done('end'); });
      response.on('error', (error) => done(error.code || error.message));
      response.on('aborted', () => done('aborted'));
      if (idleMs) timer = setTimeout(() => done('idle'), idleMs);
    });
    request.on('error', (error) => done(error.code || error.message));
    if (typeof abortAfterMs === 'function') abortAfterMs().then(() => done('aborted-by-us'));
    else if (abortAfterMs !== undefined) setTimeout(() => done('aborted-by-us'), abortAfterMs);
    request.end();
  });
}

async function waitUntil(fn, timeout = 2000) {
  const started = Date.now();
  while (!(await fn())) {
    if (Date.now() - started > timeout) throw new Error(`timed out waiting for ${fn}`);
    await sleep(10);
  }
}

const url = (name, query = '') => `${server.origin}/poll/${name}${query}`;

it('answers a normal step with cursor headers, CORS and keep-alive', async () => {
  server.script('n', [
    { status: 200, body: 'hello', headers: { 'Content-Type': 'text/plain' }, id: [1700000000, 3] },
    { message: { type: 't', data: [1, 2] }, id: [1700000001, 0] },
    { status: 204 },
  ]);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const origin = 'http://page.example:8080';
  const first = await get(url('n', '?x=1'), { agent, headers: { Origin: origin, 'If-None-Match': '2' } });
  assert.equal(first.status, 200);
  assert.equal(first.body.toString(), 'hello');
  assert.equal(first.headers['content-type'], 'text/plain');
  assert.equal(first.headers['last-modified'], 'Tue, 14 Nov 2023 22:13:20 GMT');
  assert.equal(first.headers['last-modified'], httpDate(1700000000));
  assert.equal(first.headers.etag, '3');
  assert.equal(first.headers['access-control-allow-origin'], origin);
  assert.equal(first.headers['access-control-allow-credentials'], 'true');
  assert.equal(first.headers['access-control-allow-methods'], 'GET, POST, OPTIONS');
  assert.equal(first.headers['access-control-expose-headers'], 'Last-Modified, Etag, Content-Type, Retry-After, Date, Transfer-Encoding');
  assert.ok(first.headers.date);
  const second = await get(url('n'), { agent });
  assert.equal(second.reused, true, 'keep-alive: the second poll reuses the connection');
  assert.equal(second.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(second.body), { type: 't', data: [1, 2] });
  assert.equal(second.headers.etag, '0');
  assert.equal(second.headers['access-control-allow-origin'], '*', 'no Origin: wildcard');
  const third = await get(url('n'), { agent });
  assert.equal(third.status, 204);
  assert.equal(third.reused, true);
  agent.destroy();

  const log = server.log('n');
  assert.deepEqual(log.map((entry) => entry.step), [0, 1, 2]);
  assert.equal(log[0].url, '/poll/n?x=1');
  assert.equal(log[0].headers['if-none-match'], '2');
  assert.equal(log[0].headers.origin, origin);
  assert.equal(log[0].closedByClient, false);
  assert.ok(log[0].at >= 0 && log[0].at <= log[1].at);
  assert.deepEqual(log.map((entry) => entry.reused), [false, true, true]);
  assert.equal(new Set(log.map((entry) => entry.connection)).size, 1);
});

it('keepAlive: false closes the connection after every response, preflights included', async () => {
  const own = await startFaultServer({ keepAlive: false });
  try {
    own.script('k', [{ body: 'a' }, { body: 'b' }]);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const preflight = await get(`${own.origin}/poll/k`, { agent, method: 'OPTIONS' });
    assert.equal(preflight.headers.connection, 'close');
    const a = await get(`${own.origin}/poll/k`, { agent });
    const b = await get(`${own.origin}/poll/k`, { agent });
    agent.destroy();
    assert.deepEqual([a.body.toString(), b.body.toString(), a.reused, b.reused], ['a', 'b', false, false]);
    assert.deepEqual(own.log('k').map((entry) => entry.reused), [false, false]);
  } finally {
    await own.stop();
  }
});

it('answers the CORS preflight with 204 and does not count it as a poll', async () => {
  const preflight = await get(url('p'), {
    method: 'OPTIONS',
    headers: { Origin: 'http://a.test', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'if-none-match, if-modified-since' },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers['access-control-allow-origin'], 'http://a.test');
  assert.equal(preflight.headers['access-control-allow-headers'], 'if-none-match, if-modified-since');
  assert.equal(preflight.headers['access-control-allow-methods'], 'GET, POST, OPTIONS');
  assert.equal(preflight.headers['access-control-allow-credentials'], 'true');
  assert.deepEqual(server.log('p'), []);
});

it('adds Retry-After (seconds or a date), and errors carry CORS too', async () => {
  server.script('r', [{ status: 503, retryAfter: 2 }, { status: 429, retryAfter: 'Wed, 21 Oct 2037 07:28:00 GMT', body: 'slow down' }]);
  const a = await get(url('r'), { headers: { Origin: 'http://a.test' } });
  assert.equal(a.status, 503);
  assert.equal(a.headers['retry-after'], '2');
  assert.equal(a.headers['access-control-allow-origin'], 'http://a.test');
  const b = await get(url('r'));
  assert.equal(b.status, 429);
  assert.equal(b.headers['retry-after'], 'Wed, 21 Oct 2037 07:28:00 GMT');
  assert.equal(b.body.toString(), 'slow down');
  const missing = await get(`${server.origin}/nothing`, { headers: { Origin: 'http://a.test' } });
  assert.equal(missing.status, 404);
  assert.equal(missing.headers['access-control-allow-origin'], 'http://a.test');
});

it('holds a poll when the script is empty and logs that the client went away', async () => {
  const held = await get(url('h'), { abortAfterMs: () => waitUntil(() => server.log('h').length === 1).then(() => sleep(100)) });
  assert.equal(held.ended, 'aborted-by-us');
  assert.equal(held.status, null, 'nothing was answered');
  await waitUntil(() => server.log('h')[0] && server.log('h')[0].closedByClient);
  assert.equal(server.log('h')[0].step, -1);
});

it('multipart: Nchan-shaped body that splits into its parts; brokenAt truncates it', async () => {
  server.script('m', [
    { multipart: [{ contentType: 'application/json', body: '{"a":1}' }, { body: 'plain' }, { contentType: 'text/plain', body: 'x\r\ny' }], id: [1700000002, 7] },
    { multipart: [{ body: 'one' }, { body: 'two' }], id: [1700000003, 1], boundary: 'BBB', brokenAt: 20 },
  ]);
  const whole = await get(url('m'));
  assert.equal(whole.headers['content-type'], `multipart/mixed; boundary=${DEFAULT_BOUNDARY}`);
  assert.equal(whole.headers.etag, '7');
  assert.equal(whole.headers['last-modified'], httpDate(1700000002));
  const text = whole.body.toString();
  const B = DEFAULT_BOUNDARY;
  assert.equal(text, `--${B}\r\nContent-Type: application/json\r\n\r\n{"a":1}\r\n--${B}\r\n\r\nplain\r\n`
    + `--${B}\r\nContent-Type: text/plain\r\n\r\nx\r\ny\r\n--${B}--\r\n`);
  const parts = text.split(`--${B}`).slice(1, -1).map((part) => {
    const split = part.indexOf('\r\n\r\n');
    return { head: part.slice(2, split), body: part.slice(split + 4, -2) };
  });
  assert.deepEqual(parts, [
    { head: 'Content-Type: application/json', body: '{"a":1}' },
    { head: '', body: 'plain' },
    { head: 'Content-Type: text/plain', body: 'x\r\ny' },
  ]);
  const broken = await get(url('m'));
  assert.equal(broken.ended, 'end');
  assert.equal(broken.complete, true, 'complete as far as HTTP goes');
  assert.equal(broken.headers['content-length'], '20');
  assert.equal(broken.body.toString(), '--BBB\r\n\r\none\r\n--BBB\r');
});

it('reset before headers gives the client a socket error', async () => {
  server.script('rb', [{ reset: 'before-headers' }, { reset: 'before-headers' }]);
  const result = await get(url('rb'));
  assert.equal(result.status, null);
  assert.equal(result.ended, 'ECONNRESET');
  await assert.rejects(fetch(url('rb')), (error) => error.cause && error.cause.code === 'ECONNRESET');
  await sleep(20);
  assert.deepEqual(server.log('rb').map((entry) => [entry.step, entry.closedByClient]), [[0, false], [1, false]]);
});

it('reset during the body gives headers, half the body, then a reset', async () => {
  const body = 'x'.repeat(1000);
  server.script('rd', [{ reset: 'during-body', status: 200, headers: { 'Content-Type': 'text/plain' }, body }]);
  const result = await get(url('rd'));
  assert.equal(result.status, 200);
  assert.equal(result.headers['content-length'], '1000');
  assert.equal(result.body.length, 500);
  assert.notEqual(result.ended, 'end');
  assert.equal(result.complete, false);
});

it('stall after headers: headers, then nothing; stall before headers: nothing at all', async () => {
  server.script('sa', [{ stall: 'after-headers', status: 200 }]);
  const after = await get(url('sa'), { idleMs: 300 });
  assert.equal(after.status, 200);
  assert.equal(after.headers['content-length'], '100');
  assert.equal(after.body.length, 0);
  assert.equal(after.ended, 'idle');
  server.script('sb', [{ stall: 'before-headers' }]);
  const before = await get(url('sb'), { abortAfterMs: () => waitUntil(() => server.log('sb').length === 1).then(() => sleep(300)) });
  assert.equal(before.status, null);
  assert.equal(before.ended, 'aborted-by-us');
  await waitUntil(() => server.log('sa')[0].closedByClient && server.log('sb')[0].closedByClient);
  assert.equal(server.log('sb')[0].step, 0);
});

it('drip sends the body in timed pieces with chunked encoding', async () => {
  server.script('d', [{ drip: ['{"a"', ':1', '}'], intervalMs: 60, headers: { 'Content-Type': 'application/json' }, id: [1700000000, 0] }]);
  const result = await get(url('d'));
  assert.equal(result.headers['transfer-encoding'], 'chunked');
  assert.equal(result.headers.etag, '0');
  assert.equal(result.body.toString(), '{"a":1}');
  // Pieces 60 ms apart arrive as separate reads (unless this process is stalled for that long).
  assert.ok(result.pieces.length >= 2, `in pieces: ${result.pieces.length}`);
  assert.ok(result.times[result.times.length - 1] - result.times[0] >= 60, `pieces spread out: ${result.times}`);
});

it('truncate declares more than it sends and closes', async () => {
  server.script('t', [{ truncate: '{"type":"t","da', declaredLength: 40 }]);
  const result = await get(url('t'));
  assert.equal(result.status, 200);
  assert.equal(result.headers['content-length'], '40');
  assert.equal(result.body.toString(), '{"type":"t","da');
  assert.equal(result.complete, false);
  assert.notEqual(result.ended, 'end');
});

it('bytes streams n bytes, and stops when the client goes away', async () => {
  const n = 20 * 1024 * 1024 + 5;
  server.script('b', [{ bytes: n, contentType: 'text/plain' }, { bytes: 200 * 1024 * 1024 }]);
  const whole = await get(url('b'), { count: true });
  assert.equal(whole.headers['content-type'], 'text/plain');
  assert.equal(whole.headers['content-length'], String(n));
  assert.equal(whole.ended, 'end');
  assert.equal(whole.bytes, n);
  const partial = await get(url('b'), { count: true, abortAfterMs: () => waitUntil(() => server.log('b').length === 2).then(() => sleep(30)) });
  assert.equal(partial.ended, 'aborted-by-us');
  assert.ok(partial.bytes < 200 * 1024 * 1024);
  await waitUntil(() => server.log('b')[1].closedByClient);
});

it('delayMs answers a step later, like a long poll that gets a message', async () => {
  server.script('dl', [{ message: 1, id: [1700000000, 0], delayMs: 150 }]);
  const started = Date.now();
  const result = await get(url('dl'));
  assert.ok(Date.now() - started >= 140);
  assert.equal(result.body.toString(), '1');
});

it('can be scripted, read and reset over HTTP', async () => {
  const post = await fetch(`${server.origin}/_script/web`, { method: 'POST', body: JSON.stringify([{ message: 'hi', id: [1, 0] }]) });
  assert.deepEqual(await post.json(), { ok: true, steps: 1 });
  const bad = await fetch(`${server.origin}/_script/web`, { method: 'POST', body: JSON.stringify([{ reset: 'sometimes' }]) });
  assert.equal(bad.status, 400);
  assert.throws(() => server.script('x', [{ stall: 'forever' }]), /stall/);
  assert.equal(await (await fetch(url('web'))).text(), '"hi"');
  const log = await (await fetch(`${server.origin}/_log/web`)).json();
  assert.equal(log.length, 1);
  assert.equal(log[0].step, 0);
  assert.equal(log[0].url, '/poll/web');
  await fetch(`${server.origin}/_reset`, { method: 'POST' });
  assert.deepEqual(server.log('web'), []);
});

it('stop() closes held polls and resolves', async () => {
  const own = await startFaultServer();
  const held = get(`${own.origin}/poll/x`);
  await waitUntil(() => own.log('x').length === 1);
  await own.stop();
  const result = await held;
  assert.notEqual(result.ended, 'end');
  assert.equal(own.log('x')[0].closedByClient, false, 'closed by the server, not the client');
});

it('the proxy is a transparent pipe while cutting is off', async () => {
  const proxy = await startChaosProxy({ targetPort: server.port, seed: 7 });
  try {
    server.script('px', [{ message: { n: 1 }, id: [1700000000, 1] }, { bytes: 1024 * 1024 }]);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const a = await get(`${proxy.origin}/poll/px`, { agent });
    assert.deepEqual(JSON.parse(a.body), { n: 1 });
    assert.equal(a.headers.etag, '1');
    const b = await get(`${proxy.origin}/poll/px`, { agent });
    assert.equal(b.reused, true);
    assert.equal(b.body.length, 1024 * 1024);
    agent.destroy();
    const stats = proxy.stats();
    assert.equal(stats.connections, 1);
    assert.equal(stats.cuts, 0);
    assert.ok(stats.bytesUp > 0);
    assert.ok(stats.bytesDown > 1024 * 1024);
  } finally {
    await proxy.stop();
  }
});

it('the proxy cuts open connections when told, and stops when told', async () => {
  const proxy = await startChaosProxy({ targetPort: server.port, seed: 42 });
  try {
    const polls = [1, 2, 3].map(() => get(`${proxy.origin}/poll/cut`));
    await waitUntil(() => server.log('cut').length === 3);
    proxy.setCutting({ probability: 0.5, minMs: 20, maxMs: 80 });
    const results = await Promise.all(polls);
    assert.deepEqual(results.map((r) => r.ended), ['ECONNRESET', 'ECONNRESET', 'ECONNRESET']);
    assert.equal(proxy.stats().cuts, 3);
    await waitUntil(() => server.log('cut').every((entry) => entry.closedByClient));

    const late = await get(`${proxy.origin}/poll/cut`);
    assert.equal(late.ended, 'ECONNRESET', 'new connections are cut too');
    assert.equal(proxy.stats().cuts, 4);

    proxy.setCutting(false);
    const calm = await get(`${proxy.origin}/poll/calm`, { abortAfterMs: 300 });
    assert.equal(calm.ended, 'aborted-by-us', 'not cut while cutting is off');
    assert.equal(proxy.stats().cuts, 4);
    assert.equal(proxy.stats().connections, 5);
  } finally {
    await proxy.stop();
  }
});

it('the proxy passes a half-close on, and cutting is reproducible from the seed', async () => {
  const proxy = await startChaosProxy({ targetPort: server.port, seed: 3 });
  try {
    server.script('hc', [{ message: 'bye', id: [1, 0] }]);
    const socket = net.connect(proxy.port, '127.0.0.1');
    socket.end('GET /poll/hc HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    let text = '';
    for await (const chunk of socket) text += chunk;
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(text, /\r\n\r\n"bye"$/);
  } finally {
    await proxy.stop();
  }
  const a = mulberry32(99);
  const b = mulberry32(99);
  const draws = [a(), a(), a()];
  assert.deepEqual(draws, [b(), b(), b()]);
  assert.ok(draws.every((x) => x >= 0 && x < 1));
});

// A raw HTTP/1.1 client on one connection: send(request text) and read what arrives, how it ended.
function rawClient(port) {
  const socket = net.connect(port, '127.0.0.1');
  const state = { bytes: Buffer.alloc(0), ended: null };
  socket.on('data', (chunk) => { state.bytes = Buffer.concat([state.bytes, chunk]); });
  const ended = new Promise((resolve) => {
    socket.on('end', () => { state.ended = state.ended || 'fin'; resolve(); });
    socket.on('error', (error) => { state.ended = state.ended || error.code; resolve(); });
    socket.on('close', () => resolve());
  });
  return {
    state, ended, socket,
    get: (path, headers = '') => socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n${headers}\r\n`),
    received: (n) => waitUntil(() => state.bytes.length >= n),
  };
}

it('the cut proxy holds each poll until told, then gives the client exactly the first N bytes and closes', async () => {
  const proxy = await startCutProxy({ targetPort: server.port, match: (path) => path === '/poll/cp' });
  try {
    const steps = [];
    for (let i = 0; i < 8; i++) steps.push({ message: { n: i, text: 'some text' }, id: [1700000000, i] });
    server.script('cp', steps);
    // Whole, to know the answer's bytes; the cursor the poll carried is read off it.
    const first = rawClient(proxy.port);
    first.get('/poll/cp', 'If-None-Match: 7\r\nIf-Modified-Since: Tue, 14 Nov 2023 22:13:20 GMT\r\n');
    const poll = await proxy.nextPoll();
    assert.equal(poll.path, '/poll/cp');
    assert.deepEqual(poll.cursor, { lastModified: 'Tue, 14 Nov 2023 22:13:20 GMT', etag: '7' });
    assert.equal(server.log('cp').length, 0, 'held: not forwarded yet');
    const whole = await poll.forward();
    assert.deepEqual({ cut: whole.cut, status: whole.status, cursor: whole.cursor },
      { cut: false, status: 200, cursor: { lastModified: httpDate(1700000000), etag: '0' } });
    await first.received(whole.total);
    const answer = first.state.bytes;
    assert.equal(answer.length, whole.total);
    assert.match(answer.toString(), /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\n\{"n":0,"text":"some text"\}$/);
    first.socket.destroy();

    // Cut after N bytes (answers 1..7 have the same length: one-digit tags).
    for (const [index, cutAt] of [0, 1, 17, answer.length - 30, answer.length - 1].entries()) {
      const client = rawClient(proxy.port);
      client.get('/poll/cp');
      const result = await (await proxy.nextPoll()).forward({ cutAt, how: 'fin' });
      await client.ended;
      assert.deepEqual({ cut: result.cut, sent: result.sent, total: result.total }, { cut: true, sent: cutAt, total: answer.length });
      assert.equal(client.state.ended, 'fin', `cut at ${cutAt}: an orderly close`);
      const expected = answer.toString().slice(0, cutAt).replace('"n":0', `"n":${index + 1}`).replace('Etag: 0', `Etag: ${index + 1}`);
      assert.equal(client.state.bytes.toString(), expected, `cut at ${cutAt}: exactly the first ${cutAt} bytes`);
    }
    // A reset instead: the client sees the connection reset, after at most N bytes.
    const reset = rawClient(proxy.port);
    reset.get('/poll/cp');
    const result = await (await proxy.nextPoll()).forward({ cutAt: 40, how: 'rst' });
    await reset.ended;
    assert.equal(result.cut, true);
    assert.equal(reset.state.ended, 'ECONNRESET');
    assert.ok(reset.state.bytes.length <= 40);
    assert.deepEqual(proxy.stats().bytesCut, { fin: 5, rst: 1 });
  } finally {
    await proxy.stop();
  }
});

it('the cut proxy passes other requests through, and counts each answer from its own start on a kept-alive connection', async () => {
  const proxy = await startCutProxy({ targetPort: server.port, match: (path) => path === '/poll/ka' });
  try {
    server.script('ka', [{ drip: ['{"a":', '1}'], intervalMs: 10, id: [1700000000, 0] }, { message: 'two', id: [1700000000, 1] }]);
    const client = rawClient(proxy.port);
    // Not a poll: straight through, never held.
    client.get('/poll/other');
    await waitUntil(() => server.log('other').length === 1);
    client.socket.destroy();

    const kept = rawClient(proxy.port);
    kept.get('/poll/ka');
    const chunked = await (await proxy.nextPoll()).forward();
    assert.equal(chunked.cut, false);
    await kept.received(chunked.total);
    assert.match(kept.state.bytes.toString(), /Transfer-Encoding: chunked[\s\S]*\r\n0\r\n\r\n$/);
    const before = kept.state.bytes.length;
    kept.get('/poll/ka');
    const second = await (await proxy.nextPoll()).forward({ cutAt: 12 });
    await kept.ended;
    assert.equal(second.cut, true);
    assert.equal(kept.state.bytes.subarray(before).toString(), 'HTTP/1.1 200');
    assert.deepEqual(server.log('ka').map((entry) => entry.connection), [server.log('ka')[0].connection,
      server.log('ka')[0].connection], 'both polls went over one upstream connection');
  } finally {
    await proxy.stop();
  }
});

it('the cut proxy at random: truncates the share of answers it is told to, reproducibly from the seed', async () => {
  async function run(options, polls) {
    const proxy = await startCutProxy({ targetPort: server.port, match: (path) => path === '/poll/rnd' });
    try {
      proxy.setRandom(options);
      const steps = [];
      for (let i = 0; i < polls; i++) steps.push({ message: { n: i }, id: [1700000000, i] });
      server.script('rnd', steps);
      const cuts = [];
      for (let i = 0; i < polls; i++) {
        const client = rawClient(proxy.port);
        client.get('/poll/rnd');
        await Promise.race([client.ended, waitUntil(() => /\{"n":\d+\}$/.test(client.state.bytes.toString()))]);
        cuts.push(client.state.ended ? client.state.bytes.length : -1);
        client.socket.destroy();
      }
      return { cuts, stats: proxy.stats() };
    } finally {
      await proxy.stop();
    }
  }
  const none = await run({ truncate: 0, hang: 0, seed: 5 }, 5);
  assert.deepEqual(none.cuts, [-1, -1, -1, -1, -1]);
  assert.equal(none.stats.passed, 5);
  const all = await run({ truncate: 1, hang: 0, seed: 5 }, 6);
  assert.ok(all.cuts.every((bytes) => bytes >= 0), JSON.stringify(all.cuts));
  assert.equal(all.stats.truncated, 6);
  const again = await run({ truncate: 1, hang: 0, seed: 5 }, 6);
  assert.deepEqual(again.stats, all.stats, 'the same seed cuts the same way (as many FINs and resets)');
  assert.ok(again.cuts.every((bytes) => bytes >= 0), JSON.stringify(again.cuts));
});
