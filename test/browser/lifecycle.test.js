'use strict';
// The page's life: offline stops polling (and says so), online resumes at once; a page that
// navigates away closes its poll so it can enter the back/forward cache, and resumes from its
// cursor when it comes back. Lifecycle events and connection.state tell the page throughout.
// In every engine (WebKit's driver cannot take a page offline: that part is skipped there).
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { chromium } = require('playwright-core');
const { startNchan } = require('../env/nchan.js');
const { record, recordSends, waitFor, waitForSubscribers, channel, sleep, assertNoPageErrors, CHROMIUM_ARGS, engines, launchBrowser,
  needs, part } = require('./support.js');

for (const engine of engines()) {
  describe(`${engine}: the page's life`, () => {
    const env = {};
    before(async () => {
      env.server = await startNchan();
      env.channelInfo = (name) => env.server.channelInfo(name);
      // Playwright turns Chromium's back/forward cache off by default; this test needs the real one.
      env.browser = engine === 'chromium' ? await chromium.launch({
        executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, ignoreDefaultArgs: ['--disable-back-forward-cache'],
      }) : await launchBrowser(engine);
    });
    after(async () => {
      await env.browser.close();
      await env.server.stop();
    });

    async function openHarness() {
      const context = await env.browser.newContext();
      const page = await context.newPage();
      page.errors = [];
      page.on('pageerror', (error) => page.errors.push(error.message));
      await page.goto(`${env.server.origin}/test/harness.html?jq=3`);
      await page.evaluate(() => $.comet.ready);
      await record(page);
      await page.evaluate(() => {
        window.states = [];
        window.lifecycle = [];
        $(document).bind('comet.state', (event, info) => window.states.push(info.to));
        $(document).bind('comet.open comet.close', (event) => window.lifecycle.push(event.type + '.' + event.namespace));
      });
      return page;
    }

    it('stops polling while offline without reporting errors, and polls at once when back online', { skip: needs(engine, 'offline') }, async () => {
      const page = await openHarness();
      const name = channel();
      // Every poll the page sends (the library's XHRs), counted in the page.
      await recordSends(page);
      const requests = () => page.evaluate(() => window.sentAt.length);
      await page.evaluate((url) => {
        window.connection = $.comet.connect(url, { onError: window.onErrorRecorder, retryDelay: 5000, maxRetryDelay: 10000 });
      }, `/sub/${name}`);
      await waitForSubscribers(env, name, 1);
      await page.context().setOffline(true);
      await waitFor(page, () => window.connection.state === 'offline');
      await waitForSubscribers(env, name, 0);  // the poll in flight was aborted, not left hanging
      const requestsWhenOffline = await requests();
      await env.server.publish(name, JSON.stringify({ type: 'while', data: 1 }));
      await env.server.publish(name, JSON.stringify({ type: 'while', data: 2 }));
      await sleep(700);
      assert.equal(await requests(), requestsWhenOffline, 'no request while offline');
      const backOnline = Date.now();
      await page.context().setOffline(false);
      await waitFor(page, () => window.seen.length === 2);
      // At once, not after the 5 s retryDelay.
      assert.ok(Date.now() - backOnline < 2500, `resumed after ${Date.now() - backOnline} ms`);
      const result = await page.evaluate(() => ({ seen: window.seen.map((m) => m.data), errors: window.errors, states: window.states }));
      assert.deepEqual(result.seen, [1, 2]);
      assert.deepEqual(result.errors, []);
      // 'open' may come before 'offline' (the first poll held for a second), never between.
      const offline = result.states.indexOf('offline');
      assert.ok(['connecting', 'connecting,open'].includes(result.states.slice(0, offline).join()), JSON.stringify(result.states));
      assert.deepEqual(result.states.slice(offline, offline + 3), ['offline', 'connecting', 'open']);
      await assertNoPageErrors(page);
      await page.context().close();
    });

    it('closes its poll on pagehide so the page enters the back/forward cache, and resumes from its cursor on return', async (t) => {
      const page = await openHarness();
      const name = channel();
      await page.evaluate((url) => {
        window.shows = [];
        addEventListener('pageshow', (event) => window.shows.push(event.persisted));
        window.connection = $.comet.connect(url, { onError: window.onErrorRecorder });
      }, `/sub/${name}`);
      await env.server.publish(name, JSON.stringify({ type: 'b', data: 'before' }));
      await waitFor(page, () => window.seen.length === 1);
      await waitForSubscribers(env, name, 1);
      await page.goto(`${env.server.origin}/test/early.html`);
      await waitForSubscribers(env, name, 0);
      await part(t, 'comes back from the back/forward cache and goes on from its cursor, having reported nothing', needs(engine, 'bfcache'), async () => {
        await env.server.publish(name, JSON.stringify({ type: 'b', data: 'while away 1' }));
        await env.server.publish(name, JSON.stringify({ type: 'b', data: 'while away 2' }));
        await page.goBack({ waitUntil: 'commit' });
        await waitFor(page, () => window.shows && window.shows.length === 1 && window.seen.length === 3);
        const result = await page.evaluate(() => ({
          shows: window.shows, seen: window.seen.map((m) => m.data), states: window.states, errors: window.errors,
        }));
        assert.deepEqual(result.shows, [true], 'restored from the back/forward cache, not reloaded');
        assert.deepEqual(result.seen, ['before', 'while away 1', 'while away 2']);
        // WebKit cancels the poll 5-20 ms before pagehide: that is the page going, not a failure.
        assert.deepEqual(result.states, ['connecting', 'open', 'suspended', 'connecting', 'open']);
        assert.deepEqual(result.errors, []);
        await waitForSubscribers(env, name, 1);
        await assertNoPageErrors(page);
      });
      await page.context().close();
    });

    it('fires comet.open once the server accepts the poll and comet.close after close(), and connection.state follows', async () => {
      const page = await openHarness();
      const name = channel();
      await page.evaluate((url) => { window.connection = $.comet.connect(url); }, `/sub/${name}`);
      await env.server.publish(name, JSON.stringify({ type: 'x', data: 1 }));
      await waitFor(page, () => window.seen.length === 1);
      await env.server.publish(name, JSON.stringify({ type: 'x', data: 2 }));
      await waitFor(page, () => window.seen.length === 2);
      await page.evaluate(() => window.connection.close());
      const result = await page.evaluate(() => ({ lifecycle: window.lifecycle, states: window.states, state: window.connection.state }));
      assert.deepEqual(result.lifecycle, ['comet.open', 'comet.close']);
      assert.deepEqual(result.states, ['connecting', 'open', 'closed']);
      assert.equal(result.state, 'closed');
      await assertNoPageErrors(page);
      await page.context().close();
    });
  });
}
