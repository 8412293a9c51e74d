'use strict';
// Scale-out: two nginx + Nchan instances keep their channels in one Redis (a real store, not
// ours), so a message id from one is valid on the other. A connection given both URLs polls
// the first; when that instance dies mid-stream it moves to the second and resumes from its
// cursor there: every message arrives once, in order.
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { fixture, waitFor, waitForSubscribers, channel, sleep, assertNoPageErrors, engines } = require('./support.js');
const { startNchan } = require('../env/nchan.js');
const { startRedis } = require('../env/redis.js');

for (const engine of engines()) {
  describe(`${engine}: several instances`, () => {
    const env = fixture({ engine });
    let redis;
    before(async () => {
      await env.start();
      redis = await startRedis();
    });
    after(async () => {
      await env.stop();
      await redis.stop();
    });

    const range = (from, to) => Array.from({ length: to - from }, (_, i) => from + i);

    it('two instances on one Redis: a message published on one reaches a subscriber of the other', async () => {
      const [a, b] = await Promise.all([startNchan({ redis: redis.url }), startNchan({ redis: redis.url })]);
      try {
        const name = channel('redis');
        const poll = fetch(`${b.origin}/sub/${name}`);
        await waitForSubscribers(b, name, 1);
        await a.publish(name, '{"type":"n","data":"across"}');
        const answer = await poll;
        assert.equal(await answer.text(), '{"type":"n","data":"across"}');
        // The id from B is valid on A: it asks for the next message there.
        const next = fetch(`${a.origin}/sub/${name}`, {
          headers: { 'If-None-Match': answer.headers.get('etag'), 'If-Modified-Since': answer.headers.get('last-modified') },
        });
        await waitForSubscribers(a, name, 1);
        await b.publish(name, '{"type":"n","data":"back"}');
        assert.equal(await (await next).text(), '{"type":"n","data":"back"}');
      } finally {
        await Promise.all([a.stop(), b.stop()]);
      }
    });

    it('fails over to the next instance when the one in use dies mid-stream, every message once and in order', async (t) => {
      const [a, b] = await Promise.all([startNchan({ redis: redis.url }), startNchan({ redis: redis.url })]);
      try {
        const name = channel('failover');
        const page = await env.open('/test/harness.html?jq=3');
        await page.evaluate((urls) => {
          window.got = [];
          window.urlsSeen = [];
          window.errorsSeen = [];
          $(document).bind('comet.message', (event, data) => window.got.push(data));
          $(document).bind('comet.error', (event, info) => window.errorsSeen.push(info.message));
          $(document).bind('comet.state', (event, info) => window.urlsSeen.push(info.url));
          window.connection = $.comet.connect(urls, { retryDelay: 200, maxRetryDelay: 1000 });
        }, [`${a.origin}/sub/${name}`, `${b.origin}/sub/${name}`]);
        await waitFor(page, () => window.connection.state !== 'closed');
        await waitForSubscribers(a, name, 1);
        assert.equal(await page.evaluate(() => window.connection.url), `${a.origin}/sub/${name}`);

        for (const i of range(0, 20)) {
          await (i % 2 ? a : b).publish(name, JSON.stringify({ type: 'n', data: i }));
          await sleep(10);
        }
        await waitFor(page, () => window.got.length === 20);
        await a.stop();
        for (const i of range(20, 40)) {
          await b.publish(name, JSON.stringify({ type: 'n', data: i }));
          await sleep(10);
        }
        await waitFor(page, () => window.got.length >= 40, undefined, 10000);
        await sleep(200);
        const result = await page.evaluate(() => ({ got: window.got, url: window.connection.url, state: window.connection.state,
          errors: window.errorsSeen }));
        assert.deepEqual(result.got, range(0, 40), 'every message once, in order');
        assert.equal(result.url, `${b.origin}/sub/${name}`);
        assert.equal(result.state, 'open');
        assert.ok(result.errors.length >= 1 && result.errors.every((m) => m.includes(`at ${b.origin}/sub/${name}`)),
          `the failure said where it goes next: ${JSON.stringify(result.errors)}`);
        t.diagnostic(`${engine}: ${result.errors.length} failure(s) reported on the way from A to B; 40 of 40 messages, in order`);
        await assertNoPageErrors(page);
        await page.context().close();
      } finally {
        await Promise.all([a.stop(), b.stop()]);
      }
    });

    it('takes an array of URLs as the URL, and refuses an empty one', async () => {
      const page = await env.harness('3');
      const result = await page.evaluate(() => {
        const connection = $.comet.connect(['/sub/a', '/sub/b']);
        const urls = connection.urls;
        connection.close();
        let empty;
        try {
          $.comet.connect([]);
        } catch (error) {
          empty = `${error.name}: ${error.message}`;
        }
        return { urls, url: connection.url, empty };
      });
      assert.deepEqual(result.urls.map((u) => new URL(u).pathname), ['/sub/a', '/sub/b']);
      assert.equal(new URL(result.url).pathname, '/sub/a');
      assert.match(result.empty, /^TypeError: .*at least one URL/);
      await page.context().close();
    });
  });
}
