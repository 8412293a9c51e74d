'use strict';
// What connection.state and comet.open say about a long poll: 'open' once the server has
// accepted a poll (answered one, or held one for a second without failing), so a quiet
// channel looks open, not stuck; 'connecting' while no poll has been seen to be accepted, so
// a server that refuses never looks open.
const { it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { fixture, record, waitFor, waitForSubscribers, channel, sleep, assertNoPageErrors, engines, dropFirefoxCorsErrors } = require('./support.js');
const { freePort } = require('../env/nchan.js');

for (const engine of engines()) {
  const env = fixture({ engine });
  before(env.start);
  after(env.stop);

  // A harness page that records every state change with its time since connect, and every
  // comet.open.
  async function watch(url, options = {}) {
    const page = await env.harness('3');
    await record(page);
    await page.evaluate(([target, settings]) => {
      window.changes = [];
      window.opens = 0;
      $(document).bind('comet.state', (event, info) => window.changes.push([info.to, Math.round(performance.now() - window.t0)]));
      $(document).bind('comet.open', () => { window.opens++; });
      window.t0 = performance.now();
      window.connection = $.comet.connect(target, { onError: window.onErrorRecorder, ...settings });
    }, [url, options]);
    return { page };
  }

  it(`[${engine}] a quiet channel is open after a second and stays open for 10 s on one held poll`, async (t) => {
    const name = channel('quiet');
    const { page } = await watch(`/sub/${name}`);
    await waitForSubscribers(env, name, 1);
    await waitFor(page, () => window.connection.state === 'open', undefined, 5000);
    // Over ten seconds nothing arrives; the state must not go back or flicker.
    await sleep(10000);
    const quiet = await page.evaluate(() => ({ changes: window.changes, opens: window.opens, state: window.connection.state, errors: window.errors }));
    assert.deepEqual(quiet.changes.map(([to]) => to), ['connecting', 'open'], JSON.stringify(quiet.changes));
    const openedAt = quiet.changes[1][1];
    assert.ok(openedAt >= 990 && openedAt < 4000, `open after ${openedAt} ms`);
    assert.equal(quiet.opens, 1);
    assert.equal(quiet.state, 'open');
    assert.deepEqual(quiet.errors, []);

    // The first message changes nothing about the state.
    await env.publish(name, JSON.stringify({ type: 'late', data: 1 }));
    await waitFor(page, () => window.seen.length === 1);
    // The server held the first poll all along: one request, answered by that message (the
    // server logs a request when it ends; the next poll is waiting).
    const polls = env.server.polls(`/sub/${name}`);
    assert.equal(polls.length, 1, JSON.stringify(polls));
    assert.equal(polls[0].status, 200);
    assert.ok(polls[0].took >= 10000, `held ${polls[0].took} ms`);
    const after = await page.evaluate(() => ({ changes: window.changes.length, opens: window.opens, state: window.connection.state }));
    assert.deepEqual(after, { changes: 2, opens: 1, state: 'open' });
    await assertNoPageErrors(page);
    await page.context().close();
  });

  it(`[${engine}] a server that refuses never looks open: connecting and waiting, no comet.open`, async () => {
    const port = await freePort();
    const { page } = await watch(`http://127.0.0.1:${port}/sub/refused`, { retryDelay: 100, maxRetryDelay: 300 });
    await waitFor(page, () => window.errors.length >= 6, undefined, 10000);
    const result = await page.evaluate(() => ({ changes: window.changes.map(([to]) => to), opens: window.opens, state: window.connection.state }));
    assert.equal(result.opens, 0);
    assert.ok(!result.changes.includes('open'), JSON.stringify(result.changes));
    assert.deepEqual([...new Set(result.changes)].sort(), ['connecting', 'waiting']);
    assert.ok(['connecting', 'waiting'].includes(result.state));
    // Firefox reports each refused cross-origin request as a page error of its own.
    dropFirefoxCorsErrors(page, engine, `http://127.0.0.1:${port}/sub/refused`);
    await assertNoPageErrors(page);
    await page.context().close();
  });

  it(`[${engine}] after a failure it is connecting again until the server holds the retry`, async () => {
    const name = channel('heal');
    const { page } = await watch(`/sub/${name}`, { retryDelay: 200, maxRetryDelay: 400 });
    await waitFor(page, () => window.connection.state === 'open', undefined, 5000);
    // Nchan answers a deleted channel's subscribers with 410 Gone: one failure, then the
    // retry is held again.
    await fetch(`${env.server.origin}/pub/${name}`, { method: 'DELETE' });
    await waitFor(page, () => window.errors.length === 1);
    await waitFor(page, () => window.changes.length >= 5 && window.connection.state === 'open', undefined, 5000);
    const result = await page.evaluate(() => ({ changes: window.changes, opens: window.opens, errors: window.errors.map((e) => e.status) }));
    assert.deepEqual(result.changes.map(([to]) => to), ['connecting', 'open', 'waiting', 'connecting', 'open'], JSON.stringify(result.changes));
    const [, , , [, retriedAt], [, reopenedAt]] = result.changes;
    assert.ok(reopenedAt - retriedAt >= 990, `open ${reopenedAt - retriedAt} ms after the retry`);
    assert.equal(result.opens, 2);
    assert.deepEqual(result.errors, [410]);
    await assertNoPageErrors(page);
    await page.context().close();
  });

  it(`[${engine}] a follower tab shows the leader's open state on a quiet channel`, async () => {
    const name = channel('quietshared');
    const leader = await watch(`/sub/${name}`, { shared: true });
    await waitFor(leader.page, () => window.connection.state === 'open', undefined, 5000);
    const context = leader.page.context();
    const follower = await context.newPage();
    follower.errors = [];
    follower.on('pageerror', (error) => follower.errors.push(error.message));
    await follower.goto(`${env.server.origin}/test/harness.html?jq=3`);
    await follower.evaluate(() => $.comet.ready);
    await follower.evaluate((url) => {
      window.opens = 0;
      $(document).bind('comet.open', () => { window.opens++; });
      window.connection = $.comet.connect(url, { shared: true });
    }, `/sub/${name}`);
    await waitFor(follower, () => window.connection.shared === 'follower' && window.connection.state === 'open', undefined, 5000);
    assert.equal(await follower.evaluate(() => window.opens), 1);
    assert.equal(await leader.page.evaluate(() => window.connection.shared), 'leader');
    await assertNoPageErrors(follower);
    await assertNoPageErrors(leader.page);
    await context.close();
  });
}
