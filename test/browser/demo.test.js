'use strict';
// The demo that `npm start` serves (web/demo-server.js in front of nginx + Nchan): it connects,
// shows the state, a message published through its form (or from outside) appears in the live
// feed, and after "misbehave" the badge, the countdown and the feed show the recovery, with
// nothing published meanwhile lost. Screenshots go to test/artifacts/.
const { it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const fs = require('node:fs');
const { launchBrowser, waitFor, assertNoPageErrors } = require('./support.js');
const { spawn } = require('node:child_process');
const { startDemo } = require('../../web/demo-server.js');
const { freePort } = require('../env/nchan.js');

const SHOTS = path.join(__dirname, '..', 'artifacts');
let demo;
let browser;
before(async () => {
  [demo, browser] = await Promise.all([startDemo(), launchBrowser()]);
  fs.mkdirSync(SHOTS, { recursive: true });
});
after(async () => {
  await Promise.all([browser && browser.close(), demo && demo.stop()]);
});

const text = (page, selector) => page.textContent(selector);

it('shows live messages, the state and the retry countdown, and recovers from a misbehaving server', async () => {
  await fetch(`${demo.origin}/pub/demo`, { method: 'DELETE' });
  const context = await browser.newContext({ viewport: { width: 1100, height: 940 } });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (error) => page.errors.push(error.message));
  await page.goto(`${demo.origin}/`);
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

  // Trouble: the polls fail for 8 s; the badge says so and counts down to the next try.
  await page.click('#misbehave');
  await waitFor(page, () => document.getElementById('status').textContent === 'waiting', undefined, 10000);
  await waitFor(page, () => /^retry in \d+\.\d s$/.test(document.getElementById('retry').textContent));
  await page.screenshot({ path: path.join(SHOTS, 'demo-misbehaving.png') });
  await demo.nchan.publish('demo', JSON.stringify({ type: 'chat', data: { text: 'published while it misbehaved' } }));
  assert.ok(Number(await text(page, '#errors')) >= 1);

  // Recovery: open again, and the message published meanwhile arrives: at most the 8 s of
  // trouble plus the demo's 10 s backoff cap after it.
  await waitFor(page, () => [...document.querySelectorAll('#feed .text')].some((el) => el.textContent === 'published while it misbehaved'),
    undefined, 30000);
  await waitFor(page, () => document.getElementById('status').textContent === 'open');
  assert.equal(await text(page, '#retry'), '');

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
  await page.screenshot({ path: path.join(SHOTS, 'demo.png') });
  assertNoPageErrors(page);

  // A second tab follows the first one's poll: the server keeps one subscriber, both show
  // the next message, and each says which tab polls.
  assert.equal(await text(page, '#role'), 'this tab polls for all tabs');
  const second = await context.newPage();
  second.errors = [];
  second.on('pageerror', (error) => second.errors.push(error.message));
  await second.goto(`${demo.origin}/`);
  await waitFor(second, () => document.getElementById('role').textContent === 'another tab polls for this one');
  await demo.nchan.publish('demo', JSON.stringify({ type: 'chat', data: { text: 'to both tabs' } }));
  for (const tab of [page, second]) {
    await waitFor(tab, () => [...document.querySelectorAll('#feed .text')].some((el) => el.textContent === 'to both tabs'));
  }
  assert.equal((await demo.nchan.channelInfo('demo')).subscribers, 1);
  assertNoPageErrors(second);
  await context.close();
});

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
