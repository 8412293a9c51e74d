'use strict';
// Authentication against real nginx + Nchan: every long poll is authorized by the application
// (test/env/authorizer.js, asked through `nchan_authorize_request`), which takes only the
// user's current bearer token. The `headers` option sends it: a function asked before every
// poll (refreshed once on 401/403), an object, or $.ajaxSetup's defaults under either. A
// token rotated mid-stream costs one refresh and no message; a revoked user, a header
// function that fails, a stale token: reported, retried at a pace, never in a hot loop.
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { fixture, record, waitFor, waitForSubscribers, channel, sleep, assertNoPageErrors, JQUERY_VERSIONS, engines } = require('./support.js');

// How long the tests watch for polls that should not come (a hot loop would show up within
// milliseconds; the slow path waits at least 15 s).
const QUIET_MS = 2000;

// More of each comet.error than support.js's record() keeps: whether it is the refresh, what
// was thrown, and what the server sent.
async function recordAuth(page) {
  await page.evaluate(() => {
    window.reports = [];
    $(document).bind('comet.error', (event, info) => {
      const thrown = info.errorThrown;
      window.reports.push({
        status: info.status, textStatus: info.textStatus, message: info.message, retryIn: info.retryIn,
        refreshing: info.refreshing, thrown: thrown && thrown.message !== undefined ? thrown.message : String(thrown),
        thrownIsError: thrown instanceof Error, at: performance.now(),
        responseText: info.xhr && info.xhr.responseText,
        challenge: info.xhr && info.xhr.getResponseHeader ? info.xhr.getResponseHeader('WWW-Authenticate') : null,
      });
    });
  });
}

// Connects the page to `path` with the headers function a real page would have: it keeps the
// token it fetched from the application (/session/token, on the page's origin) and fetches a
// new one when the library says the last one was refused (info.refresh). With `stale`, it
// never fetches again: it hands the library the token it was given, refresh or not.
async function connectWithTokens(page, path, user, options = {}, stale = null) {
  await page.evaluate(([url, who, settings, staleToken]) => {
    window.headerCalls = [];
    window.headerThis = [];
    let token = staleToken;
    window.connection = $.comet.connect(url, Object.assign({
      onError: window.onErrorRecorder,
      headers: function (info) {
        window.headerCalls.push({ url: info.url, refresh: info.refresh });
        window.headerThis.push(this);
        if (token !== null && (!info.refresh || staleToken !== null)) return { Authorization: `Bearer ${token}` };
        return fetch(`/session/token?user=${encodeURIComponent(who)}`).then((response) => response.text()).then((text) => {
          token = text;
          return { Authorization: `Bearer ${token}` };
        });
      },
    }, settings));
  }, [path, user, options, stale]);
}

const result = (page) => page.evaluate(() => ({
  data: window.seen.map((m) => m.data), reports: window.reports, errors: window.errors,
  headerCalls: window.headerCalls, thisIsConnection: (window.headerThis || []).every((self) => self === window.connection),
}));

async function publishRange(env, name, from, to) {
  for (let i = from; i < to; i++) await env.publish(name, JSON.stringify({ type: 'n', data: i }));
}

// Waits until the authorizer has been asked `count` times about `name`.
async function waitForAuthorizations(authorizer, name, count, timeout = 5000) {
  const started = Date.now();
  while (authorizer.count(name) < count) {
    if (Date.now() - started > timeout) assert.fail(`the authorizer was asked ${authorizer.count(name)} times about ${name}, not ${count}`);
    await sleep(20);
  }
}

for (const engine of engines()) {
  describe(`${engine}: authorized subscribers`, () => {
    const env = fixture({ engine, authorizer: true });
    let authorizer;
    before(async () => {
      await env.start();
      authorizer = env.authorizer;
    });
    after(env.stop);

    it('a token rotated mid-stream (twice) costs one refresh each: every message once, in order', async (t) => {
      const name = channel('rotate');
      const user = `alice-${name}`;
      const first = authorizer.token(user);
      const page = await env.harness('3');
      await record(page);
      await recordAuth(page);
      await connectWithTokens(page, `/auth/${name}`, user);
      await waitForSubscribers(env.server, name, 1);
      await publishRange(env, name, 0, 5);
      await waitFor(page, () => window.seen.length === 5);
      const second = authorizer.rotate(user);
      await publishRange(env, name, 5, 10);
      await waitFor(page, () => window.seen.length === 10);
      const third = authorizer.rotate(user);
      await publishRange(env, name, 10, 15);
      await waitFor(page, () => window.seen.length === 15);
      await waitForSubscribers(env.server, name, 1);
      const r = await result(page);
      assert.deepEqual(r.data, [...Array(15).keys()], 'every message once, in order');
      // comet.error showed the two refreshes and nothing else.
      assert.deepEqual(r.reports.map((e) => [e.status, e.refreshing, e.retryIn]), [[401, true, 0], [401, true, 0]]);
      // Nchan handed the authorizer's refusal to the page as it was: its challenge and body.
      assert.match(r.reports[0].challenge, /^Bearer .*invalid_token/);
      assert.equal(r.reports[0].responseText, 'token expired or unknown\n');
      assert.deepEqual(r.headerCalls.filter((c) => c.refresh).length, 2, 'the headers function was asked to refresh twice');
      assert.ok(r.headerCalls.every((c) => c.url === `/auth/${name}` || c.url.endsWith(`/auth/${name}`)), JSON.stringify(r.headerCalls[0]));
      assert.ok(r.thisIsConnection, 'the headers function is called with this = the connection');
      assert.equal(authorizer.tokenRequests(user), 3, 'the page fetched a token at the start and after each rotation');
      // What the authorizer saw: each token until it was rotated away, one 401 for each
      // rotation, then the new one. Every poll was authorized (the headers function ran before
      // each one: one call per poll).
      const seen = authorizer.requests(name);
      const tokens = seen.map((entry) => entry.headers.authorization.replace('Bearer ', ''));
      const statuses = seen.map((entry) => entry.status);
      assert.deepEqual(statuses.filter((s) => s !== 200), [401, 401]);
      const rotations = statuses.flatMap((s, i) => (s === 401 ? [i] : []));
      for (const at of rotations) assert.notEqual(tokens[at], tokens[at + 1]);
      assert.deepEqual([...new Set(tokens)], [first, second, third]);
      assert.equal(r.headerCalls.length, seen.length, `${r.headerCalls.length} header calls for ${seen.length} polls`);
      t.diagnostic(`${engine}: 15 messages across 2 rotations in ${seen.length} polls; statuses ${statuses.join(' ')}; ` +
        `onError called ${r.errors.length} times; the refresh's message: ${r.reports[0].message}`);
      await assertNoPageErrors(page);
      await page.context().close();
    });

    it("runs the README's token example as written: a token rotated mid-stream costs one refresh and no message", async () => {
      const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
      const example = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]).find((code) => code.includes('info.refresh'));
      assert.ok(example, 'README has the headers example');
      const name = channel('readme');
      const user = `erin-${name}`;
      authorizer.token(user);
      const page = await env.harness('3');
      // The example's /token endpoint (the authorizer's, through nginx): the current token, as
      // JSON, of the user the page names in a cookie.
      await page.evaluate((who) => { document.cookie = `user=${encodeURIComponent(who)}; path=/`; }, user);
      await record(page);
      await recordAuth(page);
      await page.evaluate((code) => { new Function(code)(); },
        example.replace('https://push.example.com/activity?channel=tweets', `/auth/${name}`));
      await waitForSubscribers(env.server, name, 1);
      await publishRange(env, name, 0, 3);
      await waitFor(page, () => window.seen.length === 3);
      authorizer.rotate(user);
      await publishRange(env, name, 3, 6);
      await waitFor(page, () => window.seen.length === 6);
      const r = await result(page);
      assert.deepEqual(r.data, [0, 1, 2, 3, 4, 5]);
      assert.deepEqual(r.reports.map((e) => [e.status, e.refreshing]), [[401, true]]);
      assert.equal(authorizer.tokenRequests(user), 2, 'a token at the start and one after the rotation, not one per poll');
      await assertNoPageErrors(page);
      await page.context().close();
    });

    it('a revoked user (403 after the refresh too) ends on the slow path, says so, and does not loop', async (t) => {
      const name = channel('revoke');
      const user = `bob-${name}`;
      authorizer.token(user);
      const page = await env.harness('3');
      await record(page);
      await recordAuth(page);
      await connectWithTokens(page, `/auth/${name}`, user, { retryDelay: 50, maxRetryDelay: 30000 });
      await waitForSubscribers(env.server, name, 1);
      await publishRange(env, name, 0, 2);
      await waitFor(page, () => window.seen.length === 2);
      // The next poll is authorized and waiting (the server counts it once it was let through:
      // it had dropped the one that answered before the page saw the answer).
      await waitForSubscribers(env.server, name, 1);
      authorizer.revoke(user);
      // The poll waiting now was authorized before: it takes this message; the next one is refused.
      await publishRange(env, name, 2, 3);
      await waitFor(page, () => window.reports.length === 2, undefined, 5000);
      const asked = authorizer.count(name);
      await sleep(QUIET_MS);
      const r = await result(page);
      assert.deepEqual(r.data, [0, 1, 2]);
      assert.equal(authorizer.count(name), asked, `the authorizer was asked again within ${QUIET_MS} ms`);
      assert.deepEqual(authorizer.requests(name).map((e) => e.status).slice(-2), [403, 403]);
      assert.equal(r.reports.length, 2, JSON.stringify(r.reports));
      const [refresh, slow] = r.reports;
      assert.deepEqual([refresh.status, refresh.refreshing, refresh.retryIn], [403, true, 0]);
      assert.equal(slow.status, 403);
      assert.ok(!slow.refreshing, 'the second 403 is not refreshed again');
      assert.ok(slow.retryIn >= 15000 && slow.retryIn <= 30000, `slow path: retry in ${slow.retryIn} ms (maxRetryDelay 30000)`);
      assert.match(slow.message, new RegExp(`${slow.retryIn}`), 'the message says when it retries');
      assert.equal(slow.responseText, `user ${user} is revoked: access to this channel is forbidden\n`);
      assert.equal(authorizer.tokenRequests(user), 2, 'one token at the start, one refresh');
      t.diagnostic(`${engine}: revoked: retry in ${slow.retryIn} ms; ${asked} authorizations, none in the next ${QUIET_MS} ms; ` +
        `message: ${slow.message}`);
      await page.context().close();
    });

    it('a stale token (the refresh returns it again) is asked about twice, then the slow path: 401 never loops', async (t) => {
      const name = channel('stale');
      const user = `carl-${name}`;
      const stale = authorizer.token(user);
      authorizer.rotate(user);
      const page = await env.harness('3');
      await record(page);
      await recordAuth(page);
      await connectWithTokens(page, `/auth/${name}`, user, { retryDelay: 50, maxRetryDelay: 30000 }, stale);
      await waitFor(page, () => window.reports.length === 2);
      await sleep(QUIET_MS);
      const r = await result(page);
      assert.equal(authorizer.count(name), 2, `authorizations: ${authorizer.requests(name).map((e) => e.status)}`);
      assert.deepEqual(r.reports.map((e) => [e.status, !!e.refreshing, e.retryIn === 0]), [[401, true, true], [401, false, false]]);
      assert.ok(r.reports[1].retryIn >= 15000, `retry in ${r.reports[1].retryIn} ms`);
      assert.deepEqual(r.headerCalls.map((c) => c.refresh === true), [false, true]);
      t.diagnostic(`${engine}: stale token: 2 authorizations in ${QUIET_MS} ms, then a retry in ${r.reports[1].retryIn} ms`);
      await page.context().close();
    });

    // The ways a headers function fails (run in the page, by name). Each fails five times, then
    // works: every failure is reported, and the next try waits out the backoff (retryDelay 40:
    // ceilings 40, 80, 160, 320, 640 ms, full jitter down to a tenth); no poll leaves before
    // its headers are known.
    const FAILURES = ['throws', 'rejects (a Promise)', 'rejects (a jQuery Deferred)', 'returns a string'];
    // How each failure reads in comet.error's message: "GET <url> was not sent: <this>; retrying ...".
    const EXPECTED_SENTENCE = {
      throws: 'the headers function threw Error: token service down',
      'rejects (a Promise)': 'the headers function\'s promise was rejected with Error: token service down',
      'rejects (a jQuery Deferred)': 'the headers function\'s promise was rejected with Error: token service down',
      'returns a string': 'the headers function must be an object of header names and values, got "Bearer not-an-object"',
    };
    for (const how of FAILURES) {
      it(`a headers function that ${how} is reported each time and retried with backoff, then the stream flows`, async (t) => {
        const name = channel('fails');
        const user = `dora-${name}`;
        const token = authorizer.token(user);
        const page = await env.harness('3');
        await record(page);
        await recordAuth(page);
        await page.evaluate(([url, bearer, failure]) => {
          const failures = {
            throws: () => { throw new Error('token service down'); },
            'rejects (a Promise)': () => Promise.reject(new Error('token service down')),
            'rejects (a jQuery Deferred)': () => $.Deferred().reject(new Error('token service down')).promise(),
            'returns a string': () => 'Bearer not-an-object',
          };
          window.headerCalls = [];
          window.connection = $.comet.connect(url, {
            onError: window.onErrorRecorder, retryDelay: 40, maxRetryDelay: 10000,
            headers: function (info) {
              window.headerCalls.push({ refresh: info.refresh, at: performance.now() });
              return window.headerCalls.length <= 5 ? failures[failure]() : { Authorization: `Bearer ${bearer}` };
            },
          });
        }, [`/auth/${name}`, token, how]);
        await waitForSubscribers(env.server, name, 1);
        await env.publish(name, JSON.stringify({ type: 'n', data: 'through' }));
        await waitFor(page, () => window.seen.length === 1);
        const r = await page.evaluate(() => ({ reports: window.reports, errors: window.errors, calls: window.headerCalls, data: window.seen }));
        assert.equal(r.reports.length, 5, JSON.stringify(r.reports));
        assert.equal(r.errors.length, 5, 'onError too, each time');
        for (const [i, report] of r.reports.entries()) {
          assert.match(report.message, new RegExp(`retrying in ${report.retryIn} ms \\(failure ${i + 1} in a row\\)`));
          assert.equal(report.status, 0);
          assert.equal(report.textStatus, 'error');
          assert.match(report.message, /headers/);
          assert.ok(report.message.includes(`/auth/${name} was not sent: ${EXPECTED_SENTENCE[how]}; retrying in`), report.message);
          assert.ok(!report.refreshing);
          if (how !== 'returns a string') {
            assert.equal(report.thrown, 'token service down', 'errorThrown is what was thrown or rejected');
            assert.ok(report.thrownIsError);
          }
        }
        const delays = r.reports.map((e) => e.retryIn);
        delays.forEach((delay, i) => {
          const ceiling = 40 * 2 ** i;
          assert.ok(delay >= ceiling / 10 && delay <= ceiling, `retry ${i + 1} in ${delay} ms, not within [${ceiling / 10}, ${ceiling}]`);
        });
        assert.ok(delays[4] > delays[0], `delays ${delays}`);
        // The page asked again only once each delay was up.
        const gaps = r.calls.slice(1).map((call, i) => call.at - r.calls[i].at);
        assert.ok(gaps.slice(0, 5).every((gap, i) => gap >= delays[i] - 2), `asked after ${gaps.map(Math.round)} ms for ${delays}`);
        // No poll left without its headers: the authorizer saw only good ones.
        assert.ok(authorizer.requests(name).every((e) => e.status === 200 && e.headers.authorization === `Bearer ${token}`));
        t.diagnostic(`${engine}: headers function ${how}: retries in ${delays.join(', ')} ms; message: ${r.reports[0].message}`);
        await assertNoPageErrors(page);
        await page.context().close();
      });
    }

    it('static headers go with every poll; a 401 without a function goes straight to the slow path, once', async (t) => {
      const name = channel('static');
      const user = `emil-${name}`;
      const token = authorizer.token(user);
      const page = await env.harness('3');
      await record(page);
      await recordAuth(page);
      await page.evaluate(([url, bearer]) => {
        window.connection = $.comet.connect(url, {
          onError: window.onErrorRecorder, retryDelay: 50, maxRetryDelay: 30000,
          headers: { Authorization: `Bearer ${bearer}`, 'X-Client': 'static' },
        });
      }, [`/auth/${name}`, token]);
      await waitForSubscribers(env.server, name, 1);
      await publishRange(env, name, 0, 3);
      await waitFor(page, () => window.seen.length === 3);
      await waitForAuthorizations(authorizer, name, 4);
      assert.ok(authorizer.requests(name).every((e) => e.headers.authorization === `Bearer ${token}` && e.headers['x-client'] === 'static'));
      authorizer.rotate(user);
      await publishRange(env, name, 3, 4);
      await waitFor(page, () => window.reports.length === 1);
      const asked = authorizer.count(name);
      await sleep(QUIET_MS);
      const r = await result(page);
      assert.deepEqual(r.data, [0, 1, 2, 3]);
      assert.equal(authorizer.count(name), asked);
      assert.deepEqual(authorizer.requests(name).map((e) => e.status), [200, 200, 200, 200, 401]);
      assert.equal(r.reports.length, 1);
      assert.equal(r.reports[0].status, 401);
      assert.ok(!r.reports[0].refreshing, 'nothing to refresh without a function');
      assert.ok(r.reports[0].retryIn >= 15000 && r.reports[0].retryIn <= 30000, `retry in ${r.reports[0].retryIn} ms`);
      t.diagnostic(`${engine}: static headers, then 401: retry in ${r.reports[0].retryIn} ms, ${asked} authorizations`);
      await assertNoPageErrors(page);
      await page.context().close();
    });

    for (const jq of JQUERY_VERSIONS) {
      it(`jQuery ${jq}: $.ajaxSetup({headers}) are defaults read before each poll, overridden per name by the connection's`, async () => {
        const name = channel('setup');
        const token = authorizer.token(`fay-${name}`);
        const page = await env.harness(jq);
        await record(page);
        await page.evaluate(([url, bearer]) => {
          $.ajaxSetup({ headers: { 'X-App': 'global', 'X-Tenant': 'global' } });
          window.connection = $.comet.connect(url, {
            onError: window.onErrorRecorder, headers: { Authorization: `Bearer ${bearer}`, 'X-Tenant': 'mine' },
          });
        }, [`/auth/${name}`, token]);
        await waitForAuthorizations(authorizer, name, 1);
        let headers = authorizer.lastHeaders(name);
        assert.deepEqual([headers['x-app'], headers['x-tenant'], headers.authorization], ['global', 'mine', `Bearer ${token}`]);
        // Changed between two polls: the next poll has it.
        await page.evaluate(() => $.ajaxSetup({ headers: { 'X-App': 'changed', 'X-Tenant': 'changed' } }));
        await waitForSubscribers(env.server, name, 1);
        await env.publish(name, JSON.stringify({ type: 'n', data: 1 }));
        await waitFor(page, () => window.seen.length === 1);
        await waitForAuthorizations(authorizer, name, 2);
        headers = authorizer.lastHeaders(name);
        assert.deepEqual([headers['x-app'], headers['x-tenant'], headers.authorization], ['changed', 'mine', `Bearer ${token}`]);
        assert.deepEqual(await page.evaluate(() => window.errors), []);
        await assertNoPageErrors(page);
        await page.context().close();
      });

      it(`jQuery ${jq}: a headers function may return a jQuery Deferred's promise`, async () => {
        const name = channel('deferred');
        const user = `gus-${name}`;
        const token = authorizer.token(user);
        const page = await env.harness(jq);
        await record(page);
        await page.evaluate(([url, bearer]) => {
          window.calls = 0;
          window.connection = $.comet.connect(url, {
            onError: window.onErrorRecorder,
            headers: function () {
              window.calls++;
              const deferred = $.Deferred();
              setTimeout(() => deferred.resolve({ Authorization: `Bearer ${bearer}`, 'X-Poll': String(window.calls) }), 20);
              return deferred.promise();
            },
          });
        }, [`/auth/${name}`, token]);
        await waitForSubscribers(env.server, name, 1);
        await publishRange(env, name, 0, 3);
        await waitFor(page, () => window.seen.length === 3);
        await waitForAuthorizations(authorizer, name, 4);
        const polls = authorizer.requests(name);
        assert.deepEqual(polls.map((e) => e.headers['x-poll']), ['1', '2', '3', '4'], 'each poll waited for its own headers');
        assert.ok(polls.every((e) => e.status === 200));
        assert.deepEqual(await page.evaluate(() => ({ data: window.seen.map((m) => m.data), errors: window.errors })),
          { data: [0, 1, 2], errors: [] });
        await assertNoPageErrors(page);
        await page.context().close();
      });
    }
  });
}
