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
        // One timeline of what the page saw, in window.seen (waitFor shows it when it times
        // out): [ms, 'message', data], [ms, 'error', message], [ms, 'state', to, url].
        await page.evaluate((urls) => {
          const t0 = performance.now();
          const note = (...entry) => window.seen.push([Math.round(performance.now() - t0), ...entry]);
          window.seen = [];
          $(document).bind('comet.message', (event, data) => note('message', data));
          $(document).bind('comet.error', (event, info) => note('error', info.message));
          $(document).bind('comet.state', (event, info) => note('state', info.to, info.url));
          window.connection = $.comet.connect(urls, { retryDelay: 200, maxRetryDelay: 1000 });
        }, [`${a.origin}/sub/${name}`, `${b.origin}/sub/${name}`]);
        await waitFor(page, () => window.connection.state !== 'closed');
        await waitForSubscribers(a, name, 1);
        assert.equal(await page.evaluate(() => window.connection.url), `${a.origin}/sub/${name}`);
        // A counts its subscriber in Redis before its own SUBSCRIBE to the channel there is
        // confirmed (Nchan's rdsstore.c registers at once, subscribes asynchronously): what B
        // publishes reaches A for certain once one message from B has. That one is not counted.
        await b.publish(name, JSON.stringify({ type: 'n', data: 'ready' }));
        await waitFor(page, () => window.seen.some((entry) => entry[2] === 'ready'));
        await page.evaluate(() => { window.seen = window.seen.filter((entry) => entry[1] !== 'message'); });

        for (const i of range(0, 20)) {
          await (i % 2 ? a : b).publish(name, JSON.stringify({ type: 'n', data: i }));
          await sleep(10);
        }
        await waitFor(page, (n) => window.seen.filter((entry) => entry[1] === 'message').length >= n, 20);
        const stopping = Date.now();
        await a.stop();
        const stopMs = Date.now() - stopping;
        for (const i of range(20, 40)) {
          await b.publish(name, JSON.stringify({ type: 'n', data: i }));
          await sleep(10);
        }
        await waitFor(page, (n) => window.seen.filter((entry) => entry[1] === 'message').length >= n, 40, 10000);
        await sleep(200);
        const result = await page.evaluate(() => ({ seen: window.seen, url: window.connection.url, state: window.connection.state }));
        const got = result.seen.filter((entry) => entry[1] === 'message').map((entry) => entry[2]);
        const errors = result.seen.filter((entry) => entry[1] === 'error').map((entry) => entry[2]);
        // Everything the page and B saw, for a failure's message: A stopped in stopMs.
        const story = `A stopped in ${stopMs} ms; the page saw ${JSON.stringify(result.seen)}; B answered ` +
          JSON.stringify(b.polls(name).map((poll) => [poll.status, poll.ifModifiedSince, poll.ifNoneMatch, poll.took]));
        assert.deepEqual(got, range(0, 40), `every message once, in order: ${story}`);
        assert.equal(result.url, `${b.origin}/sub/${name}`, story);
        assert.equal(result.state, 'open', story);
        assert.ok(errors.length >= 1 && errors.every((m) => m.includes(`at ${b.origin}/sub/${name}`)),
          `the failure said where it goes next: ${story}`);
        t.diagnostic(`${engine}: ${errors.length} failure(s) reported on the way from A to B; 40 of 40 messages, in order`);
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
