'use strict';
// shared: true. Eight tabs of one origin connect to one channel: one of them polls, the
// server sees one subscriber, and every tab receives every message once, identical repeats
// included. When the polling tab closes, another takes over from the last message id the tabs
// saw. Where Web Locks or BroadcastChannel are missing, every tab polls for itself.
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { fixture, waitFor, waitForSubscribers, channel, sleep, assertNoPageErrors, engines, needs } = require('./support.js');

const TABS = 8;

for (const engine of engines()) {
  describe(engine, () => {
    const env = fixture({ engine });
    before(env.start);
    after(env.stop);
    sharedTests(env, engine);
  });
}

function sharedTests(env, engine) {
  // Opens `count` tabs in one browser context, each recording every message it delivers;
  // `query` is added to the harness page's (?nobroadcast=1: without BroadcastChannel).
  async function openTabs(context, count, url, options, query = '') {
    const pages = [];
    for (let i = 0; i < count; i++) {
      const page = await context.newPage();
      page.errors = [];
      page.on('pageerror', (error) => page.errors.push(error.message));
      await page.goto(`${env.server.origin}/test/harness.html?jq=3${query}`);
      await page.evaluate(([url, options]) => {
        window.got = [];
        window.errorsSeen = [];
        $(document).bind('comet.message', (event, data) => window.got.push(data));
        $(document).bind('comet.error', (event, info) => window.errorsSeen.push(info.message));
        window.connection = $.comet.connect(url, options);
      }, [url, options]);
      pages.push(page);
    }
    return pages;
  }

  const roles = (pages) => Promise.all(pages.map((page) => page.evaluate(() => window.connection.shared)));

  // Every tab got exactly `expected`, in order: nothing lost, nothing twice.
  async function assertEveryTabGot(pages, expected) {
    for (const page of pages) {
      const got = await page.evaluate(() => window.got);
      assert.deepEqual(got, expected, `tab ${pages.indexOf(page)}: lost or duplicated messages`);
    }
  }

  // The leader's end: its tab closes, or its renderer crashes (Chromium's Page.crash).
  const endings = {
    closes: (page) => page.close(),
    crashes: async (page) => {
      const crashed = new Promise((resolve) => page.once('crash', resolve));
      const cdp = await page.context().newCDPSession(page);
      cdp.send('Page.crash').catch(() => {});  // the answer never comes: the renderer is gone
      await crashed;
    },
  };

  for (const [how, end] of Object.entries(endings)) {
    const skip = how === 'crashes' && needs(engine, 'crash');
    it(`polls once for eight tabs; when the polling tab ${how} mid-stream another takes over, nothing lost or doubled`, { skip }, async (t) => {
      const context = await env.browser.newContext();
      const name = channel('shared');
      const pages = await openTabs(context, TABS, `/sub/${name}`, { shared: true });
      for (const page of pages) await waitFor(page, () => ['leader', 'follower'].includes(window.connection.shared));
      let leaders = [];
      for (let i = 0; i < 50 && leaders.length !== 1; i++) {
        await sleep(20);
        leaders = (await roles(pages)).map((role, i) => (role === 'leader' ? i : -1)).filter((i) => i >= 0);
      }
      assert.equal(leaders.length, 1, 'one tab leads');
      await waitForSubscribers(env, name, 1);

      // 0..59 with three identical messages in the middle, published 15 ms apart; the leader
      // closes after the 30th.
      const messages = [];
      for (let i = 0; i < 60; i++) messages.push(i === 20 || i === 21 || i === 22 ? 'same' : i);
      let closedAt = 0;
      let takenOverAt = 0;
      const leader = pages[leaders[0]];
      const watchTakeover = (async () => {
        while (!closedAt) await sleep(5);
        for (;;) {
          const info = await env.channelInfo(name);
          if (info.subscribers === 1) break;
          await sleep(10);
        }
        takenOverAt = Date.now();
      })();
      for (let i = 0; i < messages.length; i++) {
        await env.publish(name, JSON.stringify({ type: 'n', data: messages[i] }));
        const info = i % 10 === 5 ? await env.channelInfo(name) : null;
        if (info) assert.ok(info.subscribers <= 1, `the server saw ${info.subscribers} subscribers`);
        if (i === 30) {
          await end(leader);
          closedAt = Date.now();
        }
        await sleep(15);
      }
      await watchTakeover;
      const rest = pages.filter((page) => page !== leader);
      for (const page of rest) await waitFor(page, (n) => window.got.length >= n, messages.length, 10000);
      await sleep(200);
      await assertEveryTabGot(rest, messages);
      const after = await roles(rest);
      assert.equal(after.filter((role) => role === 'leader').length, 1, 'one new leader');
      assert.equal((await env.channelInfo(name)).subscribers, 1, 'still one subscriber');
      t.diagnostic(`${rest.length} tabs got all ${messages.length} messages once; the server had a subscriber again ` +
        `${takenOverAt - closedAt} ms after the leader ${how === 'closes' ? 'closed' : 'crashed'}`);
      assert.ok(takenOverAt - closedAt < 1500, `took over after ${takenOverAt - closedAt} ms`);
      for (const page of rest) await assertNoPageErrors(page);
      await context.close();
    });
  }

  it('a follower takes no cursor from another tab that is not a whole message id', async (t) => {
    const context = await env.browser.newContext();
    const name = channel('relay');
    const url = `/sub/${name}`;
    const [first, second] = await openTabs(context, 2, url, { shared: true });
    await waitFor(first, () => window.connection.shared === 'leader');
    await waitForSubscribers(env, name, 1);
    for (const i of [0, 1, 2]) await env.publish(name, JSON.stringify({ type: 'n', data: i }));
    await waitFor(second, () => window.got.length === 3);
    // A tab of another version posts a batch whose cursor was cut short.
    await second.evaluate((url) => {
      const name = 'jquery.comet ' + JSON.stringify([[new URL(url, location.href).href], 'GET', 'type', 'data']);
      const channel = new BroadcastChannel(name);
      // It starts where this tab stands (a batch from elsewhere would be taken for a late copy).
      channel.postMessage({ kind: 'batch', previous: window.connection._cursor,
        cursor: { lastModified: 'Tue, 01 Dec 2026 21:4', etag: '' }, types: ['n'], datas: ['relayed'] });
      channel.close();
    }, url);
    await waitFor(second, () => window.got.length === 4);
    const closedAt = Date.now();
    await first.close();
    await waitFor(second, () => window.connection.shared === 'leader');
    await waitForSubscribers(env, name, 1);
    await env.publish(name, JSON.stringify({ type: 'n', data: 3 }));
    await waitFor(second, () => window.got.length === 5);
    // It polls on from the last whole id it had (the third message's), not from the relayed one.
    assert.deepEqual(await second.evaluate(() => window.got), [0, 1, 2, 'relayed', 3]);
    // Its first poll's cursor, as the server saw it, is the third message's id.
    const polls = env.server.polls(url).filter((poll) => poll.arrived >= closedAt);
    assert.equal(polls[0].ifNoneMatch, '2', JSON.stringify(polls));
    await assertNoPageErrors(second);
    await context.close();
  });

  // A tab that stops leading and leads again starts a second poll on the same connection: the
  // connection hands its settings to each poll and takes them back for the next one (the
  // core's Poller::release_config), so the second poll must have them whole (its URL: a poll
  // without one would never reach the channel) and start from the tab's cursor.
  it('a tab that stops leading and leads again polls on with its settings, from the last message it delivered', async () => {
    const context = await env.browser.newContext();
    const name = channel('relead');
    const url = `/sub/${name}`;
    const [tab] = await openTabs(context, 1, url, { shared: true });
    await waitFor(tab, () => window.connection.shared === 'leader');
    await waitForSubscribers(env, name, 1);
    await env.publish(name, JSON.stringify({ type: 'n', data: 0 }));
    await waitFor(tab, () => window.got.length === 1);
    const hiddenAt = Date.now();
    // As a page entering the back/forward cache: the leader stops its poll and hands the lock
    // back; it asks for it again at once, gets it (no other tab holds it), and leads again.
    await tab.evaluate(() => dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true })));
    // Published while it is between polls: the next poll asks from the first message's id.
    await env.publish(name, JSON.stringify({ type: 'n', data: 1 }));
    await waitFor(tab, () => window.got.length === 2);
    assert.deepEqual(await tab.evaluate(() => window.got), [0, 1]);
    assert.equal(await tab.evaluate(() => window.connection.shared), 'leader');
    // The second poll went to the channel's URL with the first message's id.
    const answered = env.server.polls(url).filter((poll) => poll.arrived >= hiddenAt && poll.status === 200);
    assert.equal(answered.length, 1, JSON.stringify(answered));
    assert.equal(answered[0].ifNoneMatch, '0', JSON.stringify(answered));
    await assertNoPageErrors(tab);
    await context.close();
  });

  it("mirrors the leader's state and errors in every tab, and a closed follower leaves the others alone", async () => {
    const context = await env.browser.newContext();
    const pages = await openTabs(context, 3, '/no-such-location', { shared: true, retryDelay: 200, maxRetryDelay: 400 });
    for (const page of pages) {
      await waitFor(page, () => window.errorsSeen.length >= 1 && window.connection.state === 'waiting', undefined, 5000);
    }
    const messages = await Promise.all(pages.map((page) => page.evaluate(() => window.errorsSeen[0])));
    for (const message of messages) assert.match(message, /failed with HTTP 404 Not Found; retrying in \d+ ms/);
    const [role0] = await roles(pages);
    const follower = role0 === 'leader' ? pages[1] : pages[0];
    await follower.evaluate(() => window.connection.close());
    assert.equal(await follower.evaluate(() => window.connection.state), 'closed');
    for (const page of pages.filter((p) => p !== follower)) {
      assert.notEqual(await page.evaluate(() => window.connection.state), 'closed');
    }
    await context.close();
  });

  it('falls back to a poll per tab where Web Locks or BroadcastChannel are missing', async () => {
    const context = await env.browser.newContext();
    const name = channel('noshare');
    const pages = await openTabs(context, 3, `/sub/${name}`, { shared: true }, '&nobroadcast=1');
    await waitForSubscribers(env, name, 3);
    assert.deepEqual(await roles(pages), [false, false, false]);
    await env.publish(name, JSON.stringify({ type: 'n', data: 'each' }));
    for (const page of pages) await waitFor(page, () => window.got.length === 1);
    await assertEveryTabGot(pages, ['each']);
    await context.close();
  });

  it('keeps tabs with other options apart: each set of options shares its own poll', async () => {
    const context = await env.browser.newContext();
    const name = channel('apart');
    const plain = await openTabs(context, 2, `/sub/${name}`, { shared: true });
    const whole = await openTabs(context, 2, `/sub/${name}`, { shared: true, dataAttr: null });
    await waitForSubscribers(env, name, 2);
    await env.publish(name, JSON.stringify({ type: 'n', data: 7 }));
    for (const page of plain.concat(whole)) await waitFor(page, () => window.got.length === 1);
    await assertEveryTabGot(plain, [7]);
    await assertEveryTabGot(whole, [{ type: 'n', data: 7 }]);
    await context.close();
  });
}
