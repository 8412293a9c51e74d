'use strict';
// The demo that `npm start` serves (web/demo-server.js in front of nginx + Nchan): it connects,
// shows the state, a message published through its form (or from outside) appears in the live
// feed, and after "misbehave" the badge, the countdown and the feed show the recovery (each of
// the four faults listed as the error it is), with nothing published meanwhile lost. A huge
// one-word message and a nested value are shown sensibly, and loading the page fails no
// request. In each engine of COMET_ENGINES; screenshots go to test/artifacts/ (Chromium's
// under the names below, another engine's with its name appended).
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const fs = require('node:fs');
const { launchBrowser, waitFor, assertNoPageErrors, engines, needs } = require('./support.js');
const { spawn } = require('node:child_process');
const { startDemo } = require('../../web/demo-server.js');
const { freePort } = require('../env/nchan.js');

const SHOTS = path.join(__dirname, '..', 'artifacts');
let demo;
// Every request the demo server answered with 400 or more, or dropped unanswered, as the
// server saw it: { at (when it came), what }. The same in every engine (WebKit's driver shows a
// test no requests); where the browser shows them too, its failures are added (open() below).
const refused = [];
before(async () => {
  demo = await startDemo();
  demo.server.on('request', (req, res) => {
    const at = Date.now();
    res.on('close', () => {
      if (!res.writableFinished) refused.push({ at, what: `${req.method} ${req.url}: closed before it was answered` });
      else if (res.statusCode >= 400) refused.push({ at, what: `${req.method} ${req.url}: ${res.statusCode}` });
    });
  });
  fs.mkdirSync(SHOTS, { recursive: true });
});
after(async () => {
  if (demo) await demo.stop();
});

const text = (page, selector) => page.textContent(selector);
// The demo's channel, emptied: every test starts from a quiet demo.
const quiet = async () => assert.equal((await fetch(`${demo.origin}/pub/demo`, { method: 'DELETE' })).status < 500, true);

for (const engine of engines()) {
  describe(engine, () => {
    let browser;
    before(async () => { browser = await launchBrowser(engine); });
    after(async () => { if (browser) await browser.close(); });
    const shot = (name) => path.join(SHOTS, engine === 'chromium' ? `${name}.png` : `${name}-${engine}.png`);

    // A page of the demo that records its uncaught errors, and every request that failed or
    // was answered with 400 or more since it opened: page.failed, from the server's side (the
    // requests that came after the page opened) and, where the engine shows them, the browser's.
    async function open(context) {
      const page = await context.newPage();
      page.errors = [];
      const failed = [];
      const opened = Date.now();
      Object.defineProperty(page, 'failed', {
        get: () => [...refused.filter((entry) => entry.at >= opened).map((entry) => entry.what), ...failed],
      });
      page.on('pageerror', (error) => page.errors.push(error.message));
      if (!needs(engine, 'requests')) {
        page.on('requestfailed', (request) => failed.push(`${request.url()}: ${request.failure() && request.failure().errorText}`));
        page.on('response', (response) => { if (response.status() >= 400) failed.push(`${response.url()}: ${response.status()}`); });
      }
      await page.goto(`${demo.origin}/`);
      return page;
    }

    it('loads without a failed request, with its icon, and shows a quiet channel', async () => {
      await quiet();
      const context = await browser.newContext({ viewport: { width: 1100, height: 700 } });
      const page = await open(context);
      // A quiet channel: the poll is held, and after 1 s held the connection counts as open.
      await waitFor(page, () => document.getElementById('status').textContent === 'open');
      // The icon the page links to is there (a browser asks for /favicon.ico when none is linked).
      const icon = await page.evaluate(async () => {
        const link = document.querySelector('link[rel=icon]');
        if (!link) return null;
        const answer = await fetch(link.href);
        return { status: answer.status, type: answer.headers.get('Content-Type'), svg: /<svg[\s>]/.test(await answer.text()) };
      });
      assert.deepEqual(icon, { status: 200, type: 'image/svg+xml', svg: true });
      await waitFor(page, () => document.readyState === 'complete');
      assert.equal(await page.$$eval('#feed li', (lis) => lis.length), 0);
      assert.match(await page.$eval('#feed', (feed) => getComputedStyle(feed, '::before').content), /^"No messages yet: /);
      assert.equal(await text(page, '#count'), '0');
      assert.equal(await text(page, '#errors'), '0');
      await page.screenshot({ path: shot('demo-idle') });
      assert.deepEqual(page.failed, [], 'no request failed and none was answered with 400 or more');
      await assertNoPageErrors(page);
      await context.close();
    });

    it('shows live messages, the state and the retry countdown, and recovers from a misbehaving server', async () => {
      await quiet();
      const context = await browser.newContext({ viewport: { width: 1100, height: 940 } });
      const page = await open(context);
      await waitFor(page, () => document.getElementById('status').textContent === 'connecting' ||
        document.getElementById('status').textContent === 'open');

      await page.fill('#type', 'chat');
      await page.fill('#text', 'typed into the form');
      await page.click('#publish button[type=submit]');
      await waitFor(page, () => document.querySelectorAll('#feed li').length === 1);
      await demo.nchan.publish('demo', 'plain text from outside', 'text/plain');
      await waitFor(page, () => document.querySelectorAll('#feed li').length === 2);
      const items = await page.$$eval('#feed li', (lis) => lis.map((li) => [li.querySelector('.type').textContent, li.querySelector('.text').textContent]));
      assert.deepEqual(items, [['(no type)', 'plain text from outside'], ['chat', 'typed into the form']]);
      assert.equal(await text(page, '#status'), 'open');
      assert.equal(await text(page, '#count'), '2');
      assert.match(await text(page, '#latency'), /^\d+ ms$/);
      assert.deepEqual(page.failed, []);

      // Trouble: the polls fail for 8 s; the badge says so and counts down to the next try.
      await page.click('#misbehave');
      await waitFor(page, () => document.getElementById('status').textContent === 'waiting', undefined, 10000);
      await waitFor(page, () => /^retry in \d+\.\d s$/.test(document.getElementById('retry').textContent));
      await page.screenshot({ path: shot('demo-misbehaving') });
      await demo.nchan.publish('demo', JSON.stringify({ type: 'chat', data: { text: 'published while it misbehaved' } }));
      assert.ok(Number(await text(page, '#errors')) >= 1);

      // Recovery: open again, and the message published meanwhile arrives: at most the 8 s of
      // trouble plus the demo's 10 s backoff cap after it.
      await waitFor(page, () => [...document.querySelectorAll('#feed .text')].some((el) => el.textContent === 'published while it misbehaved'),
        undefined, 30000);
      await waitFor(page, () => document.getElementById('status').textContent === 'open');
      assert.equal(await text(page, '#retry'), '');

      // Each fault the button announces happened and is in the feed, in turn: the 429, the
      // answer cut short (status 0: no complete answer), the 503, the 500. (The cut is no bare
      // reset before any answer byte: a browser resends a GET on a reused connection that
      // closes that way, and the page never hears of it.)
      const failures = await page.$$eval('#feed li', (lis) => lis.filter((li) => li.querySelector('.type').textContent === 'error')
        .map((li) => li.querySelector('.text').textContent).reverse());
      assert.equal(failures.length, Number(await text(page, '#errors')), 'one feed line per error');
      for (const line of failures) assert.match(line, /^(HTTP \d{3} [A-Za-z ]+|status 0: no complete answer \(refused, reset or cut short\)); retry in \d+\.\d s$/);
      const statuses = failures.map((line) => (line.startsWith('status 0') ? 0 : Number(line.slice(5, 8))));
      const start = statuses.indexOf(429);
      assert.deepEqual(statuses.slice(start, start + 4), [429, 0, 503, 500], `the faults in turn: ${failures.join(' | ')}`);
      assert.match(failures[start], /^HTTP 429 Too Many Requests; retry in 2\.0 s$/, 'Retry-After: 2, waited out exactly');

      // A burst, the per-second counter and the plot.
      await page.click('#burst');
      await waitFor(page, () => Number(document.getElementById('count').textContent) >= 53, undefined, 10000);
      await waitFor(page, () => /^[1-9]\d* msg\/s$/.test(document.getElementById('rate').textContent), undefined, 3000);
      const inked = await page.evaluate(() => {
        const canvas = document.getElementById('plot');
        const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let count = 0;
        for (let i = 3; i < pixels.length; i += 4) if (pixels[i]) count++;
        return count;
      });
      assert.ok(inked > 50, `the plot draws (${inked} pixels)`);
      await page.screenshot({ path: shot('demo') });
      await assertNoPageErrors(page);

      // A second tab follows the first one's poll: the server keeps one subscriber, both show
      // the next message, and each says which tab polls.
      assert.equal(await text(page, '#role'), 'this tab polls for all tabs');
      const second = await open(context);
      await waitFor(second, () => document.getElementById('role').textContent === 'another tab polls for this one');
      await demo.nchan.publish('demo', JSON.stringify({ type: 'chat', data: { text: 'to both tabs' } }));
      for (const tab of [page, second]) {
        await waitFor(tab, () => [...document.querySelectorAll('#feed .text')].some((el) => el.textContent === 'to both tabs'));
      }
      assert.equal((await demo.nchan.channelInfo('demo')).subscribers, 1);
      await assertNoPageErrors(second);
      assert.deepEqual(second.failed, []);
      await context.close();
    });

    it('keeps its width with a 900 KB one-word message, shows it shortened, and shows a nested value as JSON', async () => {
      await quiet();
      // Published before the page loads: what every later visitor gets (Nchan keeps it).
      const word = 'x'.repeat(900000);
      await demo.nchan.publish('demo', JSON.stringify({ type: 'chat', data: { text: word } }));
      await demo.nchan.publish('demo', JSON.stringify({ type: 'chat', data: { text: { a: 1, b: [true, null, 'c'] } } }));
      await demo.nchan.publish('demo', JSON.stringify({ type: 'y'.repeat(5000), data: { text: 'a long type' } }));
      // Tall enough for the feed (70% of it) to show the shortened message's end.
      const context = await browser.newContext({ viewport: { width: 1100, height: 1300 } });
      const page = await open(context);
      await waitFor(page, () => document.querySelectorAll('#feed li').length === 3, undefined, 10000);
      const widths = await page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth, viewport: window.innerWidth,
        feed: document.getElementById('feed').scrollWidth, feedBox: document.getElementById('feed').clientWidth,
      }));
      console.log(`${engine}: scrollWidth ${widths.scrollWidth} px in a ${widths.viewport} px viewport; the feed's ${widths.feed} in ${widths.feedBox}`);
      assert.ok(widths.scrollWidth <= widths.viewport + 1, `the page is no wider than the viewport: ${JSON.stringify(widths)}`);
      assert.ok(widths.feed <= widths.feedBox + 1, `the feed does not scroll sideways: ${JSON.stringify(widths)}`);
      const items = await page.$$eval('#feed li', (lis) => lis.map((li) => [li.querySelector('.type').textContent, li.querySelector('.text').textContent]));
      assert.deepEqual(items.map(([type]) => type), [`${'y'.repeat(40)}\u2026 (5 KB in all)`, 'chat', 'chat']);
      assert.equal(items[0][1], 'a long type');
      assert.equal(items[1][1], '{"a":1,"b":[true,null,"c"]}');
      assert.equal(items[2][1], `${'x'.repeat(2000)}\u2026 (900 KB in all)`);
      await page.screenshot({ path: shot('demo-long-message') });
      await assertNoPageErrors(page);
      assert.deepEqual(page.failed, []);
      await context.close();
      await quiet();
    });
  });
}

it('`npm start`, as the README says, serves the demo and prints its URL', async () => {
  const port = await freePort();
  const child = spawn('npm', ['start'], { cwd: path.join(__dirname, '..', '..'), env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  try {
    const url = await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no demo URL within 60 s: ${out}`)), 60000);
      child.stdout.on('data', (chunk) => {
        out += chunk;
        const match = out.match(/jquery\.comet demo: (http:\/\/127\.0\.0\.1:\d+\/)/);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      child.once('exit', (code) => reject(new Error(`npm start exited (${code}): ${out}`)));
    });
    assert.equal(url, `http://127.0.0.1:${port}/`);
    const page = await fetch(url);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>jquery\.comet demo<\/title>/);
  } finally {
    process.kill(-child.pid, 'SIGTERM');
    await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve)));
  }
});
