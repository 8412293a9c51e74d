'use strict';
// Exactly once, in order: 2,000 messages published while a proxy between the page and real
// nginx + Nchan cuts connections at random. Every message must arrive once, in order.
const { it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { fixture, waitFor, channel, assertNoPageErrors } = require('./support.js');
const { startChaosProxy } = require('../env/chaos-proxy.js');
const { keepAlivePublisher } = require('../env/publisher.js');

const MESSAGES = 2000;
const env = fixture();
let proxy;
before(async () => {
  await env.start();
  proxy = await startChaosProxy({ targetPort: env.server.port, seed: 20261124 });
});
after(async () => {
  await proxy.stop();
  await env.stop();
});

for (const location of ['sub', 'multi']) {
  it(`delivers ${MESSAGES} messages exactly once and in order while connections are cut at random (${location})`, async (t) => {
    // The page comes through the proxy too, so its polls are same-origin and go through it.
    const context = await env.browser.newContext();
    const page = await context.newPage();
    page.errors = [];
    page.on('pageerror', (error) => page.errors.push(error.message));
    await page.goto(`${proxy.origin}/test/harness.html?jq=3`);
    await page.evaluate(() => $.comet.ready);
    const name = channel();
    await page.evaluate((url) => {
      window.ids = [];
      window.failures = 0;
      $(document).bind('seq.comet', (event, id) => window.ids.push(id));
      $.comet.connect(url, { retryDelay: 20, maxRetryDelay: 200, onError: () => { window.failures++; } });
    }, `/${location}/${name}`);
    const cutsBefore = proxy.stats().cuts;
    proxy.setCutting({ probability: 0.35, minMs: 5, maxMs: 120 });
    const pub = keepAlivePublisher(env.server.origin);
    try {
      for (let i = 0; i < MESSAGES; i++) {
        await pub.post(name, `{"type":"seq","data":${i}}`);
        // Paced so that the stream lasts seconds, long enough for many cuts.
        if (i % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await waitFor(page, (n) => window.ids.length >= n, MESSAGES, 90000);
    } finally {
      proxy.setCutting(false);
      pub.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    const { ids, failures } = await page.evaluate(() => ({ ids: window.ids, failures: window.failures }));
    const seen = new Set(ids);
    let lost = 0;
    for (let i = 0; i < MESSAGES; i++) if (!seen.has(i)) lost++;
    const duplicated = ids.length - seen.size;
    const inOrder = ids.every((id, i) => i === 0 || id > ids[i - 1]);
    const cuts = proxy.stats().cuts - cutsBefore;
    t.diagnostic(`${location}: ${MESSAGES} published, ${ids.length} delivered, lost ${lost}, duplicated ${duplicated}, ` +
      `in order ${inOrder}; ${cuts} connections cut, ${failures} failures reported`);
    assert.ok(cuts >= 10, `the proxy cut only ${cuts} connections`);
    assert.equal(lost, 0);
    assert.equal(duplicated, 0);
    assert.ok(inOrder);
    assertNoPageErrors(page);
    await context.close();
  });
}
