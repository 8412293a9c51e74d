'use strict';
// Every byte: a real Nchan response, cut at every byte offset of its status line, header block
// and body, in every engine. Browsers hand a page a "200" whose header block was cut (the lines
// so far, the last one cut short, an empty body); the client must deliver nothing of it and
// keep its cursor, then take the whole answer on the next poll: every message once, in order.
//
// The page polls through test/env/cut-proxy.js, which holds each poll, lets the test publish
// what the poll will get, forwards it to nginx + Nchan and gives the page the first N bytes of
// the answer before closing the connection (an orderly FIN, the case browsers take for a whole
// header block; or a reset). After each cut the test checks the next poll: it must ask from the
// same cursor, and the page must not have delivered anything from the cut answer.
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { fixture, channel, engines, assertNoPageErrors } = require('./support.js');
const { startCutProxy } = require('../env/cut-proxy.js');
const { keepAlivePublisher } = require('../env/publisher.js');

const VARIANTS = [
  // One message: a plain response (what every /sub location answers).
  { location: 'sub', batch: 1, how: 'fin' },
  // A batch of three waiting messages: one multipart/mixed response.
  { location: 'multi', batch: 3, how: 'fin' },
  // A reset instead of an orderly close, for one of them.
  { location: 'sub', batch: 1, how: 'rst' },
];

const sameCursor = (a, b) => a.lastModified === b.lastModified && a.etag === b.etag;

async function sweep(env, { location, batch, how }) {
  const name = channel('cut');
  const proxy = await startCutProxy({ targetPort: env.server.port, match: (path) => path === `/${location}/${name}` });
  const publisher = keepAlivePublisher(env.server.origin);
  let page = null;
  try {
    page = await env.harness('3', proxy.origin);
    await page.evaluate((url) => {
      window.got = [];
      window.failures = [];
      $(document).bind('comet.message', (event, data) => window.got.push(data));
      $(document).bind('comet.error', (event, info) => window.failures.push(info.status));
      // Small delays so the sweep runs quickly; every cut is retried after 1-10 ms.
      window.connection = $.comet.connect(url, { retryDelay: 10, maxRetryDelay: 40 });
    }, `/${location}/${name}`);

    // What the page delivered must be `expected`: compared from where the last check ended.
    let checked = 0;
    const expectDelivered = async (expected, what) => {
      const seen = await page.evaluate((from) => ({ length: window.got.length, tail: window.got.slice(from) }), checked);
      assert.deepEqual(seen.tail, expected.slice(checked), what);
      assert.equal(seen.length, expected.length, what);
      checked = expected.length;
    };
    let expected = [];
    let cursor = { lastModified: '', etag: '' };  // the first poll carries none
    let sequence = 0;
    const stats = { offsets: 0, total: 0, cuts: 0, retries: 0 };
    for (let at = 0; ; at++) {
      const poll = await proxy.nextPoll();
      // A poll leaves the page after its predecessor was delivered: all of it, once, in order.
      await expectDelivered(expected, `before the poll for offset ${at}`);
      assert.ok(sameCursor(poll.cursor, cursor), `offset ${at}: the poll asks from ${JSON.stringify(poll.cursor)}, ` +
        `the stream stands at ${JSON.stringify(cursor)}`);
      const messages = [];
      for (let i = 0; i < batch; i++) messages.push({ type: 'seq', data: { n: sequence++, text: `message ${sequence}` } });
      for (const message of messages) await publisher.post(name, JSON.stringify(message));
      const answer = await poll.forward({ cutAt: at, how });
      stats.offsets++;
      stats.total = answer.total;
      expected = expected.concat(messages.map((message) => message.data));
      if (!answer.cut) {
        cursor = answer.cursor;
        break;  // the offset reached the whole answer's length: every byte has been a cut
      }
      stats.cuts++;
      // The answer was cut after `at` of its `answer.total` bytes: the next poll must ask from
      // the same cursor, with nothing of the cut answer delivered.
      const retry = await proxy.nextPoll();
      stats.retries++;
      await expectDelivered(expected.slice(0, expected.length - batch),
        `offset ${at} of ${answer.total}: delivered something of a cut answer`);
      assert.ok(sameCursor(retry.cursor, cursor), `offset ${at} of ${answer.total}: the cursor moved to ` +
        `${JSON.stringify(retry.cursor)} from ${JSON.stringify(cursor)}`);
      const whole = await retry.forward();
      assert.equal(whole.cut, false);
      assert.equal(whole.status, 200);
      cursor = whole.cursor;
    }
    // The last answer went through whole: it is delivered, and the page polls on from there.
    const last = await proxy.nextPoll();
    await expectDelivered(expected, 'after the sweep');
    assert.ok(sameCursor(last.cursor, cursor));
    const failures = await page.evaluate(() => window.failures);
    assert.ok(failures.every((status) => status === 0), `failures other than status 0: ${failures}`);
    await assertNoPageErrors(page);
    return { ...stats, messages: expected.length, reported: failures.length, proxy: proxy.stats() };
  } finally {
    publisher.close();
    if (page) await page.context().close();
    await proxy.stop();
  }
}

for (const engine of engines()) {
  describe(`${engine}: a real Nchan answer cut at every byte`, () => {
    const env = fixture({ engine });
    before(() => env.start());
    after(() => env.stop());

    for (const variant of VARIANTS) {
      const what = `${variant.batch === 1 ? 'one message' : `a batch of ${variant.batch}`} from /${variant.location}`;
      it(`${what}, ${variant.how === 'fin' ? 'closed' : 'reset'} after each byte: nothing partial, the cursor stays, ` +
        'every message once', async (t) => {
        const result = await sweep(env, variant);
        t.diagnostic(`${engine} ${what} (${variant.how}): ${result.offsets} offsets 0..${result.total} of a ` +
          `${result.total}-byte answer; ${result.cuts} cuts, ${result.reported} reported as status 0, the rest ` +
          `resent by the browser itself before the page saw them (a reused connection that failed before its ` +
          `header block was whole); ` +
          `${result.messages} messages delivered once, in order`);
      });
    }
  });
}
