'use strict';
// resume: 'session' | 'persist'. The cursor after the last batch delivered is kept in
// sessionStorage or localStorage; after a reload (or, with 'persist', in a new tab) the
// connection continues from there: while the server still buffers the messages in between,
// nothing is lost and nothing arrives twice.
// In every engine. The polls' cursors are read from the server's side (its request log: WebKit's
// driver shows a test no requests).
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { fixture, waitForSubscribers, channel, sleep, assertNoPageErrors, engines } = require('./support.js');

for (const engine of engines()) {
  describe(`${engine}: resume`, () => {
    const env = fixture({ engine });
    before(env.start);
    after(env.stop);

    // A tab that records its uncaught errors. What its handlers deliver is recorded by the page
    // itself, synchronously, in localStorage (as an application would keep what it has seen): a
    // call out to the test could still be in flight when the page unloads, and be lost although
    // the message was delivered.
    async function openRecordedTab(context) {
      const page = await context.newPage();
      page.errors = [];
      page.on('pageerror', (error) => page.errors.push(error.message));
      return page;
    }

    // The polls of `url` the server has finished, in the order they came.
    const polls = (url) => env.server.polls((logged) => logged.startsWith(`${url}?`) || logged === url);

    // Loads the harness in `page` and connects; the record is kept under the channel's URL.
    async function connect(page, url, options) {
      if (!page.url().startsWith(env.server.origin)) await page.goto(`${env.server.origin}/test/harness.html?jq=3`);
      await page.evaluate(([url, options]) => {
        $(document).bind('comet.message', (event, data) => {
          const key = 'received ' + url;
          localStorage.setItem(key, JSON.stringify(JSON.parse(localStorage.getItem(key) || '[]').concat([data])));
        });
        window.connection = $.comet.connect(url, options);
      }, [url, options]);
    }

    async function received(context, url) {
      const page = context.pages().find((p) => !p.isClosed()) || await context.newPage();
      if (!page.url().startsWith(env.server.origin)) await page.goto(`${env.server.origin}/test/harness.html?jq=3`);
      return page.evaluate((url) => JSON.parse(localStorage.getItem('received ' + url) || '[]'), url);
    }

    async function waitForReceived(context, url, count) {
      for (let k = 0; k < 250 && (await received(context, url)).length < count; k++) await sleep(20);
      await sleep(200);
      return received(context, url);
    }

    const range = (from, to) => Array.from({ length: to - from }, (_, i) => from + i);

    for (const resume of ['session', 'persist']) {
      it(`resume: '${resume}' continues after a reload mid-stream from the last message delivered, none lost or doubled`, async (t) => {
        const context = await env.browser.newContext();
        const name = channel(`resume-${resume}`);
        const url = `/sub/${name}`;
        const page = await openRecordedTab(context);
        await connect(page, url, { resume });
        await waitForSubscribers(env, name, 1);
        for (const i of range(0, 20)) await env.publish(name, JSON.stringify({ type: 'n', data: i }));
        const before = (await waitForReceived(context, url, 20)).length;
        // Reload, and publish while the page is gone: the server buffers, the cursor bridges.
        const reloaded = page.reload();
        for (const i of range(20, 30)) await env.publish(name, JSON.stringify({ type: 'n', data: i }));
        await reloaded;
        const reloadedAt = Date.now();
        await connect(page, url, { resume });
        for (const i of range(30, 40)) await env.publish(name, JSON.stringify({ type: 'n', data: i }));
        assert.deepEqual(await waitForReceived(context, url, 40), range(0, 40), 'every message once, in order, across the reload');
        // The first poll that came after the reload (nginx's clock and ours are the machine's; its
        // times are whole milliseconds).
        const resumed = polls(url).find((poll) => poll.arrived >= reloadedAt - 1);
        assert.ok(resumed && resumed.ifNoneMatch, `the first poll after the reload carries the cursor: ${JSON.stringify(resumed)}`);
        assert.ok(!resumed.url.includes('_='), 'and so needs no cache buster');
        t.diagnostic(`40 of 40 once, in order; the reload came after ${before} (and maybe a few of 20-29, still in the old page); ` +
          `the first poll after it carried If-None-Match ${resumed.ifNoneMatch}`);
        await assertNoPageErrors(page);

        if (resume === 'persist') {
          // A new tab of the same origin picks up where the last one stopped.
          await page.close();
          for (const i of range(40, 45)) await env.publish(name, JSON.stringify({ type: 'n', data: i }));
          const second = await openRecordedTab(context);
          await connect(second, url, { resume });
          assert.deepEqual(await waitForReceived(context, url, 45), range(0, 45), 'a new tab continues the stream');
        }
        await context.close();
      });
    }

    it("'session' is per tab: a new tab starts as a new subscriber", async () => {
      const context = await env.browser.newContext();
      const name = channel('session-tab');
      for (const i of range(0, 3)) await env.publish(name, JSON.stringify({ type: 'n', data: i }));
      const firstPage = await openRecordedTab(context);
      await connect(firstPage, `/sub/${name}`, { resume: 'session' });
      assert.deepEqual(await waitForReceived(context, `/sub/${name}`, 3), [0, 1, 2]);
      const secondPage = await openRecordedTab(context);
      await connect(secondPage, `/sub/${name}`, { resume: 'session' });
      // Nchan hands a new subscriber the oldest message it buffers, and it goes on from there:
      // the record (shared by both tabs) holds everything twice.
      assert.deepEqual(await waitForReceived(context, `/sub/${name}`, 6), [0, 1, 2, 0, 1, 2]);
      await context.close();
    });

    it('keeps polling when storage cannot be used, and only the reload does not resume', async () => {
      const context = await env.browser.newContext();
      const name = channel('no-storage');
      const page = await openRecordedTab(context);
      // sessionStorage throws on every use, from before the library loads.
      await page.goto(`${env.server.origin}/test/harness.html?jq=3&nosessionstorage=1`);
      assert.equal(await page.evaluate(() => { try { return typeof sessionStorage; } catch (error) { return error.name; } }), 'SecurityError');
      await connect(page, `/sub/${name}`, { resume: 'session' });
      await waitForSubscribers(env, name, 1);
      await env.publish(name, JSON.stringify({ type: 'n', data: 'still' }));
      assert.deepEqual(await waitForReceived(context, `/sub/${name}`, 1), ['still']);
      await assertNoPageErrors(page);
      await context.close();
    });

    it('does not resume from a saved cursor that is not a whole message id: it starts as a new subscriber', async () => {
      const context = await env.browser.newContext();
      const name = channel('broken-cursor');
      const page = await openRecordedTab(context);
      await page.goto(`${env.server.origin}/test/harness.html?jq=3`);
      for (const i of range(0, 3)) await env.publish(name, JSON.stringify({ type: 'n', data: i }));
      // What an older version could have saved from a header block cut short.
      await page.evaluate((url) => {
        const key = 'jquery.comet cursor GET ' + new URL(url, location.href).href;
        sessionStorage.setItem(key, JSON.stringify({ lastModified: 'Tue, 01 Dec 2026 21:4', etag: '1' }));
      }, `/sub/${name}`);
      await connect(page, `/sub/${name}`, { resume: 'session' });
      assert.deepEqual(await waitForReceived(context, `/sub/${name}`, 3), [0, 1, 2], 'from the oldest buffered message');
      const [first] = polls(`/sub/${name}`);
      assert.equal(first.ifNoneMatch, '', 'the first poll carries no cursor');
      assert.ok(first.url.includes('_='), 'and a cache buster');
      await assertNoPageErrors(page);
      await context.close();
    });

    it('refuses a resume option it does not know, naming it', async () => {
      const context = await env.browser.newContext();
      const page = await context.newPage();
      await page.goto(`${env.server.origin}/test/harness.html?jq=3`);
      const outcome = await page.evaluate(() => {
        try {
          $.comet.connect('/sub/x', { resume: 'local' });
          return 'no error';
        } catch (error) {
          return `${error.name}: ${error.message}`;
        }
      });
      assert.match(outcome, /^TypeError: .*"resume" must be "session", "persist" or null/);
      await context.close();
    });
  });
}
