'use strict';
// The demo that `npm start` serves: it connects, shows the state, and a message published
// through its form (or from outside) appears in the live feed.
const { it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const fs = require('node:fs');
const { fixture, waitFor, assertNoPageErrors } = require('./support.js');

const env = fixture();
before(env.start);
after(env.stop);

it('shows live messages published from its form and from outside, and the connection state', async () => {
  await fetch(`${env.server.origin}/pub/demo`, { method: 'DELETE' });
  const page = await env.open('/');
  await waitFor(page, () => document.getElementById('status').textContent === 'connecting' ||
    document.getElementById('status').textContent === 'open');
  await page.fill('#type', 'chat');
  await page.fill('#text', 'typed into the form');
  await page.click('#publish button');
  await waitFor(page, () => document.querySelectorAll('#feed li').length === 1);
  await env.publish('demo', 'plain text from outside', 'text/plain');
  await waitFor(page, () => document.querySelectorAll('#feed li').length === 2);
  const items = await page.$$eval('#feed li', (lis) => lis.map((li) => [li.querySelector('.type').textContent, li.querySelector('.text').textContent]));
  assert.deepEqual(items, [['(no type)', 'plain text from outside'], ['chat', 'typed into the form']]);
  assert.equal(await page.textContent('#status'), 'open');
  assert.equal(await page.textContent('#count'), '2');
  assert.match(await page.textContent('#latency'), /^\d+ ms$/);
  const shots = path.join(__dirname, '..', 'artifacts');
  fs.mkdirSync(shots, { recursive: true });
  await page.setViewportSize({ width: 1100, height: 520 });
  await page.screenshot({ path: path.join(shots, 'demo.png') });
  assertNoPageErrors(page);
  await page.context().close();
});
