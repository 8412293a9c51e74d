'use strict';
// The connection policy against a server that misbehaves on purpose (our fault server, cross
// origin) and against real nginx + Nchan stopped and restarted: every failure is reported
// through onError and comet.error, retried as the policy says, and the stream goes on; in every
// engine of COMET_ENGINES.
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { fixture, record, recordSends, waitFor, channel, sleep, assertNoPageErrors, engines, dropFirefoxCorsErrors } = require('./support.js');
const { startFaultServer, multipartBody, DEFAULT_BOUNDARY } = require('../env/fault-server.js');
const { startNchan } = require('../env/nchan.js');

// A page of `env` polling the fault server's /poll/<name>; returns the page.
async function pollFaults(env, faults, name, options = {}) {
  const page = await env.harness('3');
  await record(page);
  // When the page sent each XHR, by its own clock (on a loaded machine the arrival times at the
  // server lag the sends by up to a few hundred milliseconds, and unevenly), and how it ended.
  await recordSends(page);
  await page.evaluate(([url, settings]) => {
    window.connection = $.comet.connect(url, Object.assign({ onError: window.onErrorRecorder }, settings));
  }, [`${faults.origin}/poll/${name}`, { retryDelay: 40, maxRetryDelay: 160, ...options }]);
  return page;
}

const ok = (data, id) => ({ message: { type: 'ok', data }, id });
// The time between one poll and the next, as the page sent them (see pollFaults).
async function sentGaps(page) {
  const sentAt = await page.evaluate(() => window.sentAt);
  return sentAt.slice(1).map((at, i) => Math.round(at - sentAt[i]));
}

for (const engine of engines()) {
  describe(`${engine}: faults`, () => {
    const env = fixture({ engine });
    let faults;
    before(async () => {
      [faults] = await Promise.all([startFaultServer(), env.start()]);
    });
    after(async () => {
      await Promise.all([faults && faults.stop(), env.stop()]);
    });

    describe('connection failures', () => {
      it('survives resets before headers and during the body, reporting status 0 for each one the page sees', async (t) => {
        const name = channel();
        faults.script(name, [{ reset: 'before-headers' }, { reset: 'during-body', body: '{"type":"x","data":"never seen"}' }, ok(1, [1000, 0])]);
        const page = await pollFaults(env, faults, name);
        await waitFor(page, () => window.seen.length === 1 && window.errors.length >= 1);
        // Settled once the poll after the message has reached the server (it is held there).
        for (let i = 0; i < 250 && !faults.log(name).some((entry) => entry.step === -1); i++) await sleep(20);
        const log = faults.log(name);
        const result = await page.evaluate(() => ({ seen: window.seen, errors: window.errors, cometErrors: window.cometErrors, sent: window.sentAt.length }));
        assert.deepEqual(result.seen, [{ data: 1, type: 'ok' }]);
        assert.deepEqual(log.map((entry) => entry.step), [0, 1, 2, -1], 'each step taken once, then the next poll held');
        // A browser may itself resend a GET whose connection was reset before any answer, and
        // the page never learns of that reset: Chromium does when the connection was a reused
        // keep-alive one, Firefox also on a fresh connection. Each request the server saw that
        // the page did not send is such a resend; every reset that did reach the page is
        // reported once, with status 0 and a retry.
        const resent = log.length - result.sent;
        assert.ok(resent >= 0 && resent <= 1, `${log.length} requests at the server, ${result.sent} sent by the page`);
        assert.equal(result.errors.length, 2 - resent, JSON.stringify(result.errors));
        assert.ok(result.errors.every((e) => e.status === 0 && e.textStatus === 'error'), JSON.stringify(result.errors));
        assert.equal(result.cometErrors.length, result.errors.length);
        assert.ok(result.cometErrors.every((e) => e.retryIn > 0));
        t.diagnostic(`${engine}: ${resent ? 'the reset before the headers was resent by the browser itself (no report); ' : ''}` +
          `${result.errors.length} reset(s) reported`);
        await assertNoPageErrors(page);
        await page.context().close();
      });

      it('backs off on 500, 502 and 503 (Retry-After or not), honours Retry-After on 429, and recovers', async () => {
        const name = channel();
        faults.script(name, [{ status: 500 }, { status: 502 }, { status: 503, retryAfter: 1 }, { status: 429, retryAfter: 1 },
          { status: 503 }, ok('after all that', [1000, 0])]);
        const page = await pollFaults(env, faults, name);
        await waitFor(page, () => window.seen.length === 1, undefined, 8000);
        const result = await page.evaluate(() => ({ errors: window.errors, cometErrors: window.cometErrors, seen: window.seen }));
        assert.deepEqual(result.errors.map((e) => e.status), [500, 502, 503, 429, 503]);
        // A 503's Retry-After is what servers send while they restart: the backoff finds them
        // back sooner. A 429's is a rate limit: waited out exactly.
        assert.ok(result.cometErrors[2].retryIn <= 160, `503 with Retry-After: 1 waits ${result.cometErrors[2].retryIn} ms`);
        assert.equal(result.cometErrors[3].retryIn, 1000);
        const delays = result.cometErrors.map((e) => e.retryIn);
        assert.ok([0, 1, 2, 4].every((i) => delays[i] <= 160), `backoff delays ${delays} (cap 160)`);
        // And the page waited each one out before it asked again.
        const waited = (await sentGaps(page)).slice(0, 5);
        assert.ok(waited.every((gap, i) => gap >= delays[i]), `waited ${waited} ms for delays of ${delays} ms`);
        assert.deepEqual(result.seen, [{ data: 'after all that', type: 'ok' }]);
        await assertNoPageErrors(page);
        await page.context().close();
      });

      it('retries 400, 403 and 404 on the slow path, never in a hot loop; 410 (a server going away) backs off', async () => {
        const name = channel();
        faults.script(name, [{ status: 404 }, { status: 410 }, { status: 400 }, { status: 403 }, ok(1, [1000, 0])]);
        const page = await pollFaults(env, faults, name, { retryDelay: 20, maxRetryDelay: 400 });
        await waitFor(page, () => window.seen.length === 1, undefined, 8000);
        const errors = await page.evaluate(() => window.errors.map((e) => e.status));
        assert.deepEqual(errors, [404, 410, 400, 403]);
        const delays = await page.evaluate(() => window.cometErrors.map((e) => e.retryIn));
        const [afterNotFound, afterGone, afterBadRequest, afterForbidden] = delays;
        const slow = [afterNotFound, afterBadRequest, afterForbidden];
        assert.ok(slow.every((delay) => delay >= 200), `slow-path delays ${slow} (at least maxRetryDelay / 2)`);
        assert.ok(afterGone <= 40, `410 waits ${afterGone} ms: the backoff's second step is at most 40`);
        // And the page waited each one out before it asked again.
        const waited = (await sentGaps(page)).slice(0, 4);
        assert.ok(waited.every((gap, i) => gap >= delays[i]), `waited ${waited} ms for delays of ${delays} ms`);
        await page.context().close();
      });

      it('aborts and re-sends a poll that stalls, before or after the headers, without reporting it', async () => {
        const name = channel();
        faults.script(name, [{ stall: 'after-headers' }, { stall: 'before-headers' }, ok('unstuck', [1000, 0])]);
        const page = await pollFaults(env, faults, name, { timeout: 500 });
        await waitFor(page, () => window.seen.length === 1, undefined, 5000);
        const log = faults.log(name);
        assert.equal(await page.evaluate(() => window.errors.length), 0);
        assert.ok(log[0].closedByClient && log[1].closedByClient, 'the stalled polls were closed by the client');
        // Re-sent once the 500 ms timeout is up (a failure would wait out the 40-160 ms backoff).
        const resent = (await sentGaps(page)).slice(0, 2);
        // The deadline counts from when the Poller decided the request, a few milliseconds before
        // the XHR is sent (tens of milliseconds on a loaded machine).
        assert.ok(resent.length === 2 && resent.every((gap) => gap >= 450 && gap < 1500), `re-sent after ${resent} ms`);
        await page.context().close();
      });
    });

    describe('broken bodies', () => {
      it('reports a truncated body, takes a slow drip whole, and goes on', async () => {
        const name = channel();
        faults.script(name, [
          { truncate: '{"type":"a","data":', declaredLength: 100, headers: { 'Content-Type': 'application/json' } },
          { drip: ['{"type":"drip",', '"data":', '"slowly"}'], intervalMs: 150, headers: { 'Content-Type': 'application/json' }, id: [1000, 0] },
          ok('next', [1000, 1]),
        ]);
        const page = await pollFaults(env, faults, name);
        await waitFor(page, () => window.seen.length === 2);
        const result = await page.evaluate(() => ({ seen: window.seen, errors: window.errors }));
        assert.deepEqual(result.seen, [{ data: 'slowly', type: 'drip' }, { data: 'next', type: 'ok' }]);
        // The cut body, once (its headers had arrived: no browser resends it), as a failure
        // without an answer in every engine: XHR hands the page status 0 for it.
        assert.equal(result.errors.length, 1, JSON.stringify(result.errors));
        assert.ok(result.errors[0].status === 0 && result.errors[0].textStatus === 'error', JSON.stringify(result.errors));
        await page.context().close();
      });

      it('delivers the complete parts of a broken multipart response, reports the rest, and steps past it', async () => {
        const name = channel();
        const parts = [{ contentType: 'application/json', body: '{"type":"p","data":1}' }, { contentType: 'text/plain', body: 'two' },
          { contentType: 'application/json', body: '{"type":"p","data":3}' }];
        // Cut a few bytes into the third part: the first two are complete, the third is not.
        const brokenAt = multipartBody(parts, DEFAULT_BOUNDARY).indexOf('{"type":"p","data":3}') + 5;
        faults.script(name, [{ multipart: parts, id: [1000, 2], brokenAt }, ok('after', [1000, 3])]);
        const page = await pollFaults(env, faults, name);
        await waitFor(page, () => window.seen.length === 3 && window.errors.length === 1);
        const result = await page.evaluate(() => ({ seen: window.seen, errors: window.errors }));
        assert.deepEqual(result.seen.map((m) => m.data), [1, 'two', 'after']);
        assert.equal(result.errors[0].textStatus, 'parsererror');
        assert.match(result.errors[0].thrown, /Broken multipart response after 2 complete part/);
        // The poll after 'after' leaves the page before its handlers run, but may reach the
        // server a moment after they did.
        for (let i = 0; i < 100 && faults.log(name).length < 3; i++) await sleep(20);
        const cursors = faults.log(name).map((entry) => entry.headers['if-none-match'] || null);
        assert.deepEqual(cursors.slice(0, 3), [null, '2', '3']);
        await page.context().close();
      });

      it('decodes by what the body is when Content-Type is wrong or missing, and reports declared JSON that is not', async () => {
        const name = channel();
        faults.script(name, [
          { status: 200, body: '{"type":"t","data":"no content type"}', headers: { 'Content-Type': null }, id: [1000, 0] },
          { status: 200, body: 'not json at all', headers: { 'Content-Type': 'application/json' }, id: [1000, 1] },
          { status: 200, body: '<b>html</b>', headers: { 'Content-Type': 'text/html' }, id: [1000, 2] },
          { status: 200, body: '{"type":"t","data":"json as text/plain"}', headers: { 'Content-Type': 'text/plain' }, id: [1000, 3] },
        ]);
        const page = await pollFaults(env, faults, name);
        await waitFor(page, () => window.seen.length === 3 && window.errors.length === 1);
        const result = await page.evaluate(() => ({ seen: window.seen, errors: window.errors, cometErrors: window.cometErrors }));
        assert.deepEqual(result.seen, [
          { data: 'no content type', type: 't' }, { data: '<b>html</b>', type: null }, { data: 'json as text/plain', type: 't' },
        ]);
        assert.equal(result.errors[0].textStatus, 'parsererror');
        assert.equal(result.errors[0].responseText, 'not json at all');
        assert.equal(result.cometErrors[0].textStatus, 'parsererror');
        await page.context().close();
      });

      it('abandons a 20 MB response early, reports it, skips it by its id, and goes on', async () => {
        const name = channel();
        faults.script(name, [{ bytes: 20 * 1024 * 1024, id: [1000, 0] }, { bytes: 3 * 1024 * 1024 }, ok('small again', [1000, 1])]);
        const page = await pollFaults(env, faults, name, { maxResponseBytes: 1024 * 1024 });
        await waitFor(page, () => window.seen.length === 1 && window.errors.length === 2, undefined, 10000);
        const result = await page.evaluate(() => ({
          seen: window.seen, errors: window.errors, cometErrors: window.cometErrors, heap: $.comet._heapStats(), ended: window.ended,
        }));
        assert.deepEqual(result.seen, [{ data: 'small again', type: 'ok' }]);
        assert.deepEqual(result.errors.map((e) => e.thrown), ['Response Too Large', 'Response Too Large']);
        assert.match(result.cometErrors[0].message, /exceeds maxResponseBytes \(1048576\); that message is skipped/);
        assert.match(result.cometErrors[1].message, /carries no message id to skip it by; retrying in \d+ ms/);
        assert.ok(result.heap.memoryBytes < 4 * 1024 * 1024, `wasm memory ${result.heap.memoryBytes}`);
        // The page abandoned both oversized answers: aborted, never loaded to the end.
        assert.deepEqual(result.ended.slice(0, 2), ['abort', 'abort'], `the first two polls ended by ${result.ended}`);
        const log = faults.log(name);
        // Chromium's and Firefox's network stacks read a response only as fast as the page takes
        // it, so the server sees the client go before it has written 20 MB. WebKit's network
        // process reads ahead of the page: by the page's first progress event (at which the
        // client aborts, within milliseconds) it already holds 4-7 MB, and the server may get to
        // write all the rest into the socket before the abort reaches it. There, the page's
        // 'abort' above is what shows the answer was abandoned.
        if (engine !== 'webkit') assert.ok(log[0].closedByClient, 'the 20 MB response was abandoned, not read to the end');
        assert.equal(log[1].headers['if-none-match'], '0', 'the poll after it carries its id');
        await page.context().close();
      });
    });

    describe('hostile input', () => {
      it('keeps the page intact and every message flowing whatever the types and bodies', async () => {
        const name = channel();
        const bodies = [
          '{"type":"__proto__","data":{"__proto__":{"polluted":true}}}',
          '{"type":"constructor","data":{"constructor":{"prototype":{"polluted":true}}}}',
          `{"type":"${'t'.repeat(100000)}","data":1}`,
          '{"type":"open","data":"document.open"}',
          '{"type":"a.b c","data":"split"}',
          `${'['.repeat(50000)}${']'.repeat(50000)}`,
          '{"type":"\\u0000\\ud800","data":"control and lone surrogate"}',
        ];
        const steps = bodies.map((body, i) => ({ status: 200, body, headers: { 'Content-Type': 'application/json' }, id: [1000, i] }));
        steps.push({ status: 200, body: Buffer.from([0xff, 0xfe, 0x00, 0x41, 0xc3]).toString('latin1'), headers: { 'Content-Type': 'text/plain' }, id: [1000, 50] });
        steps.push({ status: 200, body: '{"type":"ok","data":[1,2', headers: { 'Content-Type': 'application/json' }, id: [1000, 51] });
        steps.push(ok('last', [1000, 52]));
        faults.script(name, steps);
        const page = await pollFaults(env, faults, name);
        await waitFor(page, (n) => window.seen.length === n && window.errors.length === 1, steps.length - 1, 8000);
        const result = await page.evaluate(() => ({
          types: window.seen.map((m) => (typeof m.type === 'string' ? m.type.slice(0, 12) : m.type)),
          polluted: ({}).polluted === undefined && Object.prototype.polluted === undefined,
          intact: document.getElementById('intact').textContent,
          errors: window.errors.map((e) => e.textStatus),
          cometErrors: window.cometErrors.length,
          last: window.seen[window.seen.length - 1].data,
        }));
        assert.equal(result.polluted, true, 'no prototype was polluted');
        assert.equal(result.intact, 'page intact');
        assert.deepEqual(result.errors, ['parsererror']);
        assert.equal(result.cometErrors, 1);
        assert.equal(result.last, 'last');
        assert.deepEqual(result.types.slice(0, 5), ['__proto__', 'constructor', 'tttttttttttt', 'open', 'a.b c']);
        await assertNoPageErrors(page);
        await page.context().close();
      });
    });

    describe('real nginx + Nchan', () => {
      it('keeps going when the server is stopped and restarted mid-stream', async (t) => {
        let server = await startNchan();
        const port = server.port;
        const name = channel();
        const page = await env.harness('3');
        await record(page);
        await page.evaluate((url) => {
          window.connection = $.comet.connect(url, { onError: window.onErrorRecorder, retryDelay: 50, maxRetryDelay: 300 });
        }, `${server.origin}/sub/${name}`);
        for (let i = 0; i < 5; i++) await server.publish(name, JSON.stringify({ type: 'n', data: i }));
        const lastSecond = Math.floor(Date.now() / 1000);
        await waitFor(page, () => window.seen.length === 5);
        await server.stop();
        await waitFor(page, () => window.errors.length >= 2);
        await sleep(300);
        // A message id is (second, n-th message in that second). An in-memory Nchan restarted
        // within the second of its last message hands out the ids its subscribers already saw,
        // and they rightly wait past them; a real restart takes longer. Publish in a later second.
        while (Math.floor(Date.now() / 1000) <= lastSecond) await sleep(20);
        server = await startNchan({ port });
        try {
          // In-memory Nchan lost its messages with the restart; the client's old cursor names a
          // past second, so the server answers with the oldest message it now holds.
          for (let i = 5; i < 10; i++) await server.publish(name, JSON.stringify({ type: 'n', data: i }));
          await waitFor(page, () => window.seen.length === 10, undefined, 8000);
          const result = await page.evaluate(() => ({ data: window.seen.map((m) => m.data), errors: window.errors, state: window.connection.state }));
          assert.deepEqual(result.data, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
          // nginx shutting down answers the waiting poll with 410; then the port refuses (status 0).
          assert.ok(result.errors.every((e) => e.status === 0 || e.status === 410), JSON.stringify(result.errors));
          assert.ok(result.errors.some((e) => e.status === 0));
          assert.equal(result.state, 'open');
          t.diagnostic(`${result.errors.length} failures reported while the server was down; 10 of 10 messages, in order`);
          // Firefox reports each poll refused while nginx was down as a page error of its own.
          dropFirefoxCorsErrors(page, engine, `${server.origin}/sub/${name}`);
          await assertNoPageErrors(page);
        } finally {
          await page.context().close();
          await server.stop();
        }
      });
    });
  });
}
