'use strict';
// What users do to a server, with the default options: nginx reloaded mid-stream (SIGHUP, as
// `nginx -s reload` sends), stopped gracefully (SIGQUIT, as `systemctl restart` sends) or fast
// (SIGTERM) and started again, and Nchan's Redis coming up after nginx. Nchan answers the
// waiting poll with 410 while nginx reloads or stops, then the port refuses, or 503 while Redis
// is not there. Each test measures how long after the server is back the page is polling again
// (the server holds its poll), and checks every message once, in order.
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { fixture, waitFor, subscribers, channel, sleep, assertNoPageErrors, engines, dropFirefoxCorsErrors } = require('./support.js');
const { startNchan, freePort } = require('../env/nchan.js');
const { startRedis } = require('../env/redis.js');

for (const engine of engines()) {
  describe(`${engine}: what users do to a server`, () => {
    const env = fixture({ engine });
    before(() => env.start());
    after(() => env.stop());

    // Resolves with the time at which `test(count)` first held, asking every 10 ms.
    async function when(server, name, test, timeoutMs = 20000) {
      const started = Date.now();
      for (;;) {
        const count = await subscribers(server, name);
        if (test(count)) return Date.now();
        if (Date.now() - started > timeoutMs) throw new Error(`${server.origin}: subscribers ${count} after ${timeoutMs} ms`);
        await sleep(10);
      }
    }

    // A page polling `server` for channel `name` with the default options; it records the data of
    // every message and the status of every failure.
    async function subscribe(server, name) {
      const page = await env.harness('3');
      await page.evaluate((url) => {
        window.got = [];
        window.statuses = [];
        $(document).bind('n.comet', (event, data) => window.got.push(data));
        $(document).bind('comet.error', (event, info) => window.statuses.push(info.status));
        window.connection = $.comet.connect(url);
      }, `${server.origin}/sub/${name}`);
      return page;
    }

    async function publishRange(server, name, from, to) {
      for (let i = from; i < to; i++) await server.publish(name, JSON.stringify({ type: 'n', data: i }));
    }

    const range = (from, to) => Array.from({ length: to - from }, (_, i) => from + i);

    // Nchan's in-memory store does not survive a reload or a restart, and its message ids are
    // (second, n-th message in that second): one published within the second of the last message
    // before it gets an id the page has already passed, and the page rightly waits past it. A
    // real deploy takes longer than that; the tests publish in a later second (and on Redis, where
    // the ids go on, at once).
    async function nextSecond(since) {
      while (Math.floor(Date.now() / 1000) <= since) await sleep(10);
    }

    // `act` does it to the server and returns when the server is back. Where the subscriber count
    // cannot tell the page is back (on Redis, a reloaded worker's subscribers stay counted), the
    // messages are published at once and the time is not measured.
    async function deploy(t, { what, redis, act }) {
      let server = await startNchan(redis ? { redis: redis.url } : {});
      const name = channel('deploy');
      const page = await subscribe(server, name);
      try {
        await when(server, name, (count) => count === 1);
        await publishRange(server, name, 0, 10);
        const lastSecond = Math.floor(Date.now() / 1000);
        await waitFor(page, () => window.got.length === 10);
        const { server: after, serverBack, acted } = await act(server, name, page);
        server = after;
        const pageBack = redis ? null : await when(server, name, (count) => count >= 1);
        if (!redis) await nextSecond(lastSecond);
        await publishRange(server, name, 10, 20);
        await waitFor(page, () => window.got.length >= 20, undefined, 10000);
        await sleep(100);  // a duplicate would come with the next answer
        const result = await page.evaluate(() => ({ got: window.got, statuses: window.statuses, state: window.connection.state }));
        const back = redis ? null : pageBack - serverBack;
        t.diagnostic(`${engine}: ${what}: the server was back ${serverBack - acted} ms after the signal` +
          `${redis ? '' : `; the page was polling again ${back} ms after that`}; failures reported: ` +
          `${result.statuses.join(', ')}; ${result.got.length} of 20 messages, in order`);
        assert.deepEqual(result.got, range(0, 20), 'every message once, in order');
        assert.equal(result.state, 'open');
        // A retry that finds the port refused (between a stop and the start) is status 0 to the
        // page, and in Firefox also a console error of its own: not the page's.
        dropFirefoxCorsErrors(page, engine, `${server.origin}/sub/${name}`);
        await assertNoPageErrors(page);
        return { back, statuses: result.statuses };
      } finally {
        await page.context().close();
        await server.stop();
      }
    }

    it('a reload mid-stream (SIGHUP): 410, the page polls the new workers at once, nothing lost or doubled', async (t) => {
      const { back, statuses } = await deploy(t, {
        what: 'reload',
        act: async (server, name) => {
          const acted = Date.now();
          const reloaded = server.reload();
          // The old worker answers the page's poll with 410; a new one then answers new connections.
          const serverBack = await when(server, name, (count) => count === 0);
          await reloaded;  // nothing is published before the old workers are gone
          return { server, serverBack, acted };
        },
      });
      assert.deepEqual(statuses, [410]);
      // After one failure the backoff waits at most retryDelay (1000 ms).
      assert.ok(back <= 1300, `the page polled again ${back} ms after the reload`);
    });

    for (const signal of ['SIGQUIT', 'SIGTERM']) {
      it(`a ${signal === 'SIGQUIT' ? 'graceful' : 'fast'} stop (${signal}) and start mid-stream: the page is back within ` +
        'about two seconds, nothing lost or doubled', async (t) => {
        const { back, statuses } = await deploy(t, {
          what: `stop (${signal}) and start`,
          act: async (server) => {
            const { port } = server;
            const acted = Date.now();
            await server.stop(signal);
            const restarted = await startNchan({ port });
            return { server: restarted, serverBack: Date.now(), acted };
          },
        });
        assert.ok(statuses.length >= 1 && statuses.every((status) => status === 410 || status === 0), `${statuses}`);
        // After n failures in a row the next poll comes at most min(30 s, 1 s * 2^(n-1)) later.
        const ceiling = Math.min(30000, 1000 * 2 ** (statuses.length - 1));
        assert.ok(back <= ceiling + 300, `the page polled again ${back} ms after the server was back (${statuses.length} ` +
          `failures: the backoff allows ${ceiling} ms)`);
      });
    }

    it('a reload on Redis, messages published at once: nothing lost or doubled', async (t) => {
      const redis = await startRedis();
      try {
        const { statuses } = await deploy(t, {
          what: 'reload on Redis',
          redis,
          act: async (server, name, page) => {
            const acted = Date.now();
            const reloaded = server.reload();
            // The old worker answers the page's poll with 410; the new workers answer 503 until
            // their own connection to Redis is up.
            await waitFor(page, () => window.statuses.length >= 1);
            await reloaded;
            await server.ready();
            return { server, serverBack: Date.now(), acted };
          },
        });
        assert.ok(statuses.every((status) => status === 410 || status === 503), `${statuses}`);
      } finally {
        await redis.stop();
      }
    });

    it('Redis coming up after nginx: 503 until it is there, then every message once, in order', async (t) => {
      const port = await freePort();
      const server = await startNchan({ redis: `redis://127.0.0.1:${port}`, waitForStore: false });
      const name = channel('late');
      let redis = null;
      const page = await subscribe(server, name);
      try {
        await waitFor(page, () => window.statuses.length >= 2, undefined, 10000);
        const started = Date.now();
        redis = await startRedis({ port });
        await server.ready();
        const serverBack = Date.now();
        const pageBack = await when(server, name, (count) => count >= 1);
        await publishRange(server, name, 0, 10);
        await waitFor(page, () => window.got.length >= 10);
        await sleep(100);
        const result = await page.evaluate(() => ({ got: window.got, statuses: window.statuses }));
        t.diagnostic(`${engine}: Nchan answered 503 ${result.statuses.length} times; ready ${serverBack - started} ms after Redis ` +
          `started; the page was polling ${pageBack - serverBack} ms after that`);
        assert.deepEqual(result.got, range(0, 10));
        assert.ok(result.statuses.every((status) => status === 503), `${result.statuses}`);
        const ceiling = Math.min(30000, 1000 * 2 ** (result.statuses.length - 1));
        assert.ok(pageBack - serverBack <= ceiling + 300);
        await assertNoPageErrors(page);
      } finally {
        await page.context().close();
        await server.stop();
        if (redis) await redis.stop();
      }
    });
  });
}
