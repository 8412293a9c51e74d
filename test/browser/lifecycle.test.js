'use strict';
// The page's life: offline stops polling (and says so), online resumes at once; a page that
// navigates away closes its poll so it can enter the back/forward cache, and resumes from its
// cursor when it comes back. Lifecycle events and connection.state tell the page throughout.
const { it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { chromium } = require('playwright-core');
const { startNchan } = require('../env/nchan.js');
const { record, waitFor, waitForSubscribers, channel, sleep, assertNoPageErrors, CHROMIUM_ARGS } = require('./support.js');

const env = {};
before(async () => {
  env.server = await startNchan();
  env.channelInfo = (name) => env.server.channelInfo(name);
  // Playwright turns the back/forward cache off by default; this test needs the real one.
  env.browser = await chromium.launch({
    executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, ignoreDefaultArgs: ['--disable-back-forward-cache'],
  });
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

it('stops polling while offline without reporting errors, and polls at once when back online', async () => {
  const page = await openHarness();
  const name = channel();
  let requests = 0;
  page.on('request', (request) => { if (request.url().includes(name)) requests++; });
  await page.evaluate((url) => {
    window.connection = $.comet.connect(url, { onError: window.onErrorRecorder, retryDelay: 5000, maxRetryDelay: 10000 });
  }, `/sub/${name}`);
  await waitForSubscribers(env, name, 1);
  await page.context().setOffline(true);
  await waitFor(page, () => window.connection.state === 'offline');
  await waitForSubscribers(env, name, 0);  // the poll in flight was aborted, not left hanging
  const requestsWhenOffline = requests;
  await env.server.publish(name, JSON.stringify({ type: 'while', data: 1 }));
  await env.server.publish(name, JSON.stringify({ type: 'while', data: 2 }));
  await sleep(700);
  assert.equal(requests, requestsWhenOffline, 'no request while offline');
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

it('closes its poll on pagehide so the page enters the back/forward cache, and resumes from its cursor on return', async () => {
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
  await env.server.publish(name, JSON.stringify({ type: 'b', data: 'while away 1' }));
  await env.server.publish(name, JSON.stringify({ type: 'b', data: 'while away 2' }));
  await page.goBack({ waitUntil: 'commit' });
  await waitFor(page, () => window.shows && window.shows.length === 1 && window.seen.length === 3);
  const result = await page.evaluate(() => ({
    shows: window.shows, seen: window.seen.map((m) => m.data), states: window.states, errors: window.errors,
  }));
  assert.deepEqual(result.shows, [true], 'restored from the back/forward cache, not reloaded');
  assert.deepEqual(result.seen, ['before', 'while away 1', 'while away 2']);
  assert.ok(result.states.includes('suspended'), JSON.stringify(result.states));
  assert.deepEqual(result.errors, []);
  await waitForSubscribers(env, name, 1);
  await assertNoPageErrors(page);
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
