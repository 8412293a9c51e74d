'use strict';
// The connection's life: close() ends the request on the server too, several connections
// run side by side with their own cursors and options, failures are reported and retried,
// timeouts (the server's 408 and the client's own) re-poll silently.
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { fixture, record, waitFor, waitForSubscribers, channel, sleep, assertNoPageErrors, engines } = require('./support.js');
const { freePort } = require('../env/nchan.js');

const env = fixture();
before(env.start);
after(env.stop);

// close() in every engine of COMET_ENGINES: the server sees the subscriber go.
for (const engine of engines()) {
  describe(`${engine}: close`, () => {
    const own = engine === 'chromium' ? env : fixture({ engine });
    if (own !== env) {
      before(own.start);
      after(own.stop);
    }
    closeTests(own);
  });
}

function closeTests(env) {
  it('close() aborts the request in flight so the server sees the subscriber go, and delivers nothing after', async () => {
    const page = await env.harness('3');
    await record(page);
    const name = channel();
    await page.evaluate((url) => { window.connection = $.comet.connect(url, { onError: window.onErrorRecorder }); }, `/sub/${name}`);
    await waitForSubscribers(env, name, 1);
    // 'open' once the server has held the poll for a second (test/browser/state.test.js).
    assert.ok(['connecting', 'open'].includes(await page.evaluate(() => window.connection.state)));
    await page.evaluate(() => { window.connection.close(); window.connection.close(); });
    await waitForSubscribers(env, name, 0);
    await env.publish(name, JSON.stringify({ type: 't', data: 'too late' }));
    await sleep(300);
    const result = await page.evaluate(() => ({
      state: window.connection.state, seen: window.seen, errors: window.errors,
      open: $.comet._openRequests(), connections: $.comet.connections().length,
    }));
    assert.deepEqual(result, { state: 'closed', seen: [], errors: [], open: 0, connections: 0 });
    await assertNoPageErrors(page);
    await page.context().close();
  });

  it('close() from inside a message handler stops the rest of the batch and the polling', async () => {
    const page = await env.harness('3');
    await record(page);
    const name = channel();
    for (let i = 0; i < 3; i++) await env.publish(name, JSON.stringify({ type: 't', data: i }));
    await page.evaluate((url) => {
      window.connection = $.comet.connect(url, { onError: window.onErrorRecorder });
      $(document).bind('t.comet', (event, data) => { if (data === 0) window.connection.close(); });
    }, `/multi/${name}`);
    await waitFor(page, () => window.seen.length >= 1);
    await sleep(300);
    assert.deepEqual(await page.evaluate(() => window.seen.map((m) => m.data)), [0]);
    await waitForSubscribers(env, name, 0);
    await assertNoPageErrors(page);
    await page.context().close();
  });

  it('$.comet.disconnect() closes every connection', async () => {
    const page = await env.harness('3');
    const [a, b] = [channel(), channel()];
    await page.evaluate(([x, y]) => { $.comet.connect(x); $.comet.connect(y); }, [`/sub/${a}`, `/multi/${b}`]);
    await waitForSubscribers(env, a, 1);
    await waitForSubscribers(env, b, 1);
    await page.evaluate(() => $.comet.disconnect());
    await waitForSubscribers(env, a, 0);
    await waitForSubscribers(env, b, 0);
    assert.equal(await page.evaluate(() => $.comet.connections().length), 0);
    await page.context().close();
  });
}

it('runs two connections at once, on one channel or two, each with its own cursor and options', async () => {
  const page = await env.harness('3');
  await record(page);
  const [shared, own] = [channel(), channel()];
  await page.evaluate(([sharedUrl, ownUrl]) => {
    window.byConnection = { a: [], b: [], c: [] };
    const collect = (key) => (xhr, textStatus) => window.byConnection[key].push('error ' + textStatus);
    // Two connections to the very same URL must not wait on each other (the browser's
    // cache lock would hold the second behind the first).
    $.comet.connect(sharedUrl, { onError: collect('a') });
    $.comet.connect(sharedUrl, { onError: collect('b'), dataAttr: null });
    $.comet.connect(ownUrl, { onError: collect('c'), typeAttr: 'kind' });
    $(document).bind('comet.message', (event, data, type) => {
      const key = typeof data === 'number' ? 'a' : (data && data.type === 'shared' ? 'b' : 'c');
      window.byConnection[key].push(type + ':' + JSON.stringify(typeof data === 'object' && data.type === 'shared' ? data.data : data));
    });
  }, [`/sub/${shared}`, `/sub/${own}`]);
  await waitForSubscribers(env, shared, 2);
  await waitForSubscribers(env, own, 1);
  for (let i = 0; i < 5; i++) {
    await env.publish(shared, JSON.stringify({ type: 'shared', data: i }));
    await env.publish(own, JSON.stringify({ kind: 'own', data: `o${i}` }));
  }
  await waitFor(page, () => window.seen.length === 15);
  const result = await page.evaluate(() => window.byConnection);
  assert.deepEqual(result.a, [0, 1, 2, 3, 4].map((i) => `shared:${i}`));
  assert.deepEqual(result.b, [0, 1, 2, 3, 4].map((i) => `shared:${i}`));
  assert.deepEqual(result.c, [0, 1, 2, 3, 4].map((i) => `own:"o${i}"`));
  await assertNoPageErrors(page);
  await page.context().close();
});

it('reports an HTTP failure to onError and comet.error, retries on the slow path and recovers', async () => {
  const page = await env.harness('3');
  await record(page);
  const name = channel();
  // This location refuses subscribers (403) until the channel exists.
  await page.evaluate((url) => {
    window.connection = $.comet.connect(url, { onError: window.onErrorRecorder, retryDelay: 100, maxRetryDelay: 300 });
  }, `/sub-strict/${name}`);
  await waitFor(page, () => window.errors.length >= 2);
  const early = await page.evaluate(() => ({ errors: window.errors, cometErrors: window.cometErrors, state: window.connection.state }));
  assert.equal(early.errors[0].status, 403);
  assert.equal(early.errors[0].textStatus, 'error');
  assert.equal(early.errors[0].thrown, 'Forbidden');
  // 403 cannot heal by asking again soon: the slow path, between maxRetryDelay / 2 and maxRetryDelay.
  const { retryIn, message } = early.cometErrors[0];
  assert.ok(retryIn >= 150 && retryIn <= 300, `retryIn ${retryIn}`);
  assert.match(message, new RegExp(`GET http://127\\.0\\.0\\.1:\\d+/sub-strict/${name} failed with HTTP 403 Forbidden; retrying in ${retryIn} ms`));
  await env.publish(name, JSON.stringify({ type: 'x', data: 'created' }));
  await waitFor(page, () => window.seen.length === 1);
  assert.deepEqual(await page.evaluate(() => window.seen), [{ data: 'created', type: 'x' }]);
  assert.equal(await page.evaluate(() => window.connection.state), 'open');
  await assertNoPageErrors(page);
  await page.context().close();
});

it('reports a refused connection with status 0 and keeps retrying', async () => {
  const page = await env.harness('3');
  await record(page);
  const port = await freePort();
  await page.evaluate((url) => { $.comet.connect(url, { onError: window.onErrorRecorder, retryDelay: 50, maxRetryDelay: 200 }); }, `http://127.0.0.1:${port}/nothing`);
  await waitFor(page, () => window.errors.length >= 3);
  const errors = await page.evaluate(() => window.errors);
  assert.ok(errors.every((e) => e.status === 0 && e.textStatus === 'error'), JSON.stringify(errors));
  await page.context().close();
});

it('re-polls at once, silently, after the server\'s 408 and after its own timeout', async () => {
  const page = await env.harness('3');
  await record(page);
  const [serverSide, clientSide] = [channel(), channel()];
  const requests = { [serverSide]: 0, [clientSide]: 0 };
  page.on('request', (request) => {
    for (const name of Object.keys(requests)) if (request.url().includes(name)) requests[name]++;
  });
  await page.evaluate(([a, b]) => {
    $.comet.connect(a, { onError: window.onErrorRecorder });                 // Nchan answers 408 after 1 s
    $.comet.connect(b, { onError: window.onErrorRecorder, timeout: 400 });   // the client gives up after 400 ms
  }, [`/sub-408/${serverSide}`, `/sub/${clientSide}`]);
  // Chromium itself resends a request answered 408 on a reused keep-alive connection, so one
  // poll of ours may last two of the server's timeouts: count polls over several seconds.
  await sleep(4500);
  assert.ok(requests[serverSide] >= 2, `408s re-polled: ${requests[serverSide]} requests`);
  assert.ok(requests[clientSide] >= 8, `timeouts re-polled: ${requests[clientSide]} requests`);
  await waitForSubscribers(env, clientSide, 1);  // the aborted polls are gone from the server
  await env.publish(serverSide, JSON.stringify({ type: 's', data: 1 }));
  await env.publish(clientSide, JSON.stringify({ type: 'c', data: 2 }));
  await waitFor(page, () => window.seen.length === 2);
  assert.deepEqual((await page.evaluate(() => window.seen.map((m) => m.type))).sort(), ['c', 's']);
  assert.deepEqual(await page.evaluate(() => window.errors), []);
  await assertNoPageErrors(page);
  await page.context().close();
});

// The module is inflated and compiled in the script's own microtasks (the compile itself
// synchronous), so it is ready before the page's next script runs; where
// a browser refuses that, it compiles asynchronously and connect() waits in a queue.
for (const [title, query, startsAtOnce] of [
  ['starts connect() made right after the script tag at once: the module is ready by then', '', true],
  ['queues connect() made before the module is ready (asynchronous compile) and starts it later', '&async=1', false],
]) {
  it(title, async () => {
    const page = await env.open(`/test/early.html?jq=1${query}`);
    assert.equal(await page.evaluate(() => window.startedAtConnect), startsAtOnce);
    const name = await page.evaluate(() => window.earlyChannel);
    await waitForSubscribers(env, name, 1);
    await env.publish(name, JSON.stringify({ type: 'early', data: 'first' }));
    await waitFor(page, () => window.early.length === 1);
    assert.deepEqual(await page.evaluate(() => window.early), ['first']);
    await assertNoPageErrors(page);
    await page.context().close();
  });
}

it('replaces the old plugin\'s $.comet, and a second copy of the script leaves the first in place', async () => {
  const page = await env.open('/test/replace.html');
  assert.equal(await page.evaluate(() => window.firstComet === $.comet && $.comet._wasmClient === true), true);
  const name = channel();
  await page.evaluate((url) => {
    window.got = [];
    $(document).bind('hello.comet', (event, data) => window.got.push(data));
    $.comet.connect(url);
  }, `/sub/${name}`);
  await waitForSubscribers(env, name, 1);
  await env.publish(name, JSON.stringify({ type: 'hello', data: 'replaced' }));
  await waitFor(page, () => window.got.length === 1);
  assert.deepEqual(await page.evaluate(() => ({ got: window.got, old: window.oldPluginCalled || false })),
    { got: ['replaced'], old: false });
  await assertNoPageErrors(page);
  await page.context().close();
});
