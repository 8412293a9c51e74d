'use strict';
// No leaks: connect/close cycles and a long stream of messages leave the wasm heap, the XHRs
// Emscripten keeps, and the server's subscriber count where they started.
const { it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { keepAlivePublisher } = require('../env/publisher.js');
const { fixture, waitFor, waitForSubscribers, channel, sleep, assertNoPageErrors } = require('./support.js');

const env = fixture();
before(env.start);
after(env.stop);

const CYCLES = 1000;
const MESSAGES = 100000;

it(`${CYCLES} connect/close cycles leave the heap, the XHRs and the server's subscribers flat`, async (t) => {
  const page = await env.harness('3');
  const name = channel();
  const cycle = (count) => page.evaluate(async ([url, n]) => {
    for (let i = 0; i < n; i++) {
      const connection = $.comet.connect(url);
      if (i % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 2));
      connection.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 50));  // let deferred deletes run
    return { heap: $.comet._heapStats(), open: $.comet._openRequests(), connections: $.comet.connections().length };
  }, [`/sub/${name}`, count]);
  const warm = await cycle(50);
  const done = await cycle(CYCLES);
  t.diagnostic(`heap used before ${warm.heap.used} B, after ${done.heap.used} B; wasm memory ${warm.heap.memoryBytes} -> ${done.heap.memoryBytes} B; live XHRs ${done.heap.liveXhrs}`);
  assert.equal(done.heap.used, warm.heap.used, 'wasm heap in use after the cycles');
  assert.equal(done.heap.memoryBytes, warm.heap.memoryBytes, 'wasm memory did not grow');
  assert.equal(done.heap.liveXhrs, 0);
  assert.equal(done.open, 0);
  assert.equal(done.connections, 0);
  await waitForSubscribers(env, name, 0);
  await assertNoPageErrors(page);
  await page.context().close();
});

// Publishes messages first..first+count-1 over a few keep-alive connections.
async function publishMany(origin, name, count, concurrency = 4, first = 0) {
  const pub = keepAlivePublisher(origin, { connections: concurrency });
  let next = first;
  const end = first + count;
  const worker = async () => {
    while (next < end) {
      const id = next++;
      await pub.post(name, `{"type":"tick","data":${id}}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  pub.close();
}

it(`${MESSAGES} messages leave the heap flat and arrive exactly once`, async (t) => {
  const page = await env.harness('3');
  const name = channel();
  await page.evaluate((url) => {
    window.got = new Uint8Array(200000);
    window.total = 0;
    window.duplicates = 0;
    $(document).bind('tick.comet', (event, id) => {
      if (window.got[id]) window.duplicates++;
      window.got[id] = 1;
      window.total++;
    });
    window.connection = $.comet.connect(url, { onError: (xhr, status, error) => { window.lastError = String(error); } });
  }, `/multi/${name}`);
  await waitForSubscribers(env, name, 1);
  // Warm up, then measure while idle (no response in flight) before and after the stream.
  const WARM = 1000;
  await publishMany(env.server.origin, name, WARM);
  await waitFor(page, (n) => window.total >= n, WARM, 30000);
  await sleep(200);
  await page.evaluate(() => { window.heapAtWarm = $.comet._heapStats(); });
  const started = Date.now();
  await publishMany(env.server.origin, name, MESSAGES - WARM, 4, WARM);
  await waitFor(page, (n) => window.total >= n, MESSAGES, 120000);
  await sleep(200);
  const result = await page.evaluate(() => {
    let missing = 0;
    for (let i = 0; i < 100000; i++) if (!window.got[i]) missing++;
    return { total: window.total, duplicates: window.duplicates, missing, warm: window.heapAtWarm, end: $.comet._heapStats(),
      lastError: window.lastError || null };
  });
  t.diagnostic(`${result.total} messages in ${Date.now() - started} ms; missing ${result.missing}, duplicated ${result.duplicates}; ` +
    `heap used when idle after 1000: ${result.warm.used} B, after ${MESSAGES}: ${result.end.used} B; wasm memory ${result.warm.memoryBytes} -> ${result.end.memoryBytes} B; live XHRs ${result.end.liveXhrs}`);
  assert.equal(result.missing, 0);
  assert.equal(result.duplicates, 0);
  assert.equal(result.lastError, null);
  assert.ok(result.end.used <= result.warm.used + 4096, `heap in use grew from ${result.warm.used} to ${result.end.used}`);
  assert.ok(result.end.liveXhrs <= 1, `live XHRs ${result.end.liveXhrs}`);
  await assertNoPageErrors(page);
  await page.context().close();
});
