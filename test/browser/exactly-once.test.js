'use strict';
// Exactly once, in order, whatever the network does: thousands of messages published at ~150/s
// to real nginx + Nchan while a proxy between it and the page cuts at random. Each long poll the
// server still holds is cut at a random moment with some probability, and each answer with
// another is cut at a random byte of its status line, header block or body, by an orderly close
// (which browsers take for the end of a header block) or a reset. In every engine, every
// message must arrive once, in order.
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { fixture, waitFor, channel, engines, sleep, assertNoPageErrors } = require('./support.js');
const { startCutProxy } = require('../env/cut-proxy.js');
const { keepAlivePublisher } = require('../env/publisher.js');

const MESSAGES = 3000;
const PER_SECOND = 150;
const CUTTING = { truncate: 0.3, hang: 0.5, hangMs: [0, 15] };

async function soak(env, location, seed) {
  const name = channel('soak');
  const proxy = await startCutProxy({ targetPort: env.server.port, match: (path) => path === `/${location}/${name}` });
  const publisher = keepAlivePublisher(env.server.origin);
  let page = null;
  try {
    page = await env.harness('3', proxy.origin);
    proxy.setRandom({ ...CUTTING, seed });
    await page.evaluate((url) => {
      window.ids = [];
      window.failures = 0;
      $(document).bind('seq.comet', (event, id) => window.ids.push(id));
      $.comet.connect(url, { retryDelay: 10, maxRetryDelay: 50, onError: () => { window.failures++; } });
    }, `/${location}/${name}`);
    const started = Date.now();
    for (let i = 0; i < MESSAGES; i++) {
      await publisher.post(name, `{"type":"seq","data":${i}}`);
      // Paced: message i goes out no earlier than i / PER_SECOND seconds after the first.
      const due = started + ((i + 1) * 1000) / PER_SECOND;
      if (due > Date.now()) await sleep(due - Date.now());
    }
    const publishedIn = Date.now() - started;
    await waitFor(page, (n) => window.ids.length >= n, MESSAGES, 60000);
    proxy.setRandom(false);
    // Anything still on its way (a late duplicate) would arrive with the next poll: wait for it.
    await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 200)));
    const { ids, failures } = await page.evaluate(() => ({ ids: window.ids, failures: window.failures }));
    const seen = new Set(ids);
    let lost = 0;
    for (let i = 0; i < MESSAGES; i++) if (!seen.has(i)) lost++;
    const stats = proxy.stats();
    await assertNoPageErrors(page);
    return {
      lost, duplicated: ids.length - seen.size, inOrder: ids.every((id, i) => i === 0 || id > ids[i - 1]),
      delivered: ids.length, failures, publishedIn, ...stats,
    };
  } finally {
    publisher.close();
    if (page) await page.context().close();
    await proxy.stop();
  }
}

for (const engine of engines()) {
  describe(`${engine}: cut at random`, () => {
    const env = fixture({ engine });
    before(() => env.start());
    after(() => env.stop());

    for (const [index, location] of ['sub', 'multi'].entries()) {
      it(`delivers ${MESSAGES} messages at ~${PER_SECOND}/s exactly once and in order while polls are cut at ` +
        `random moments and answers at random bytes (/${location})`, async (t) => {
        const result = await soak(env, location, 20261201 + index);
        const cuts = result.truncated + result.hung;
        t.diagnostic(`${engine} /${location}: ${MESSAGES} published in ${result.publishedIn} ms, ` +
          `${result.delivered} delivered: lost ${result.lost}, duplicated ${result.duplicated}, in order ` +
          `${result.inOrder}; ${result.polls} polls, ${cuts} cut (${result.truncated} answers at a random byte, ` +
          `${result.hung} held polls; ${result.bytesCut.fin} by FIN, ${result.bytesCut.rst} by reset), ` +
          `${result.failures} failures reported`);
        // About 30 % of the answers are cut (more with the held polls); how many polls there are
        // depends on the machine's speed (a slower one takes bigger batches from /multi).
        assert.ok(cuts >= 100 && cuts >= 0.2 * result.polls, `only ${cuts} cuts in ${result.polls} polls`);
        assert.equal(result.lost, 0, 'lost');
        assert.equal(result.duplicated, 0, 'duplicated');
        assert.ok(result.inOrder, 'in order');
      });
    }
  });
}
