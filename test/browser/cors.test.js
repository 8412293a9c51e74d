'use strict';
// Cross-origin against real nginx + Nchan: the page on one origin (the server's port), Nchan's
// subscriber locations on another (a second port of the same host: same site, other origin).
// That server answers only the page's origin, with credentials, and answers preflights itself
// so that Authorization is allowed. What the page's cookies do with and without
// withCredentials, what the cursor in headers costs in preflights and what cursorInQuery
// saves, and what a page on an origin the server does not allow is told.
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { fixture, record, waitFor, waitForSubscribers, channel, sleep, assertNoPageErrors, engines } = require('./support.js');
const { startNchan } = require('../env/nchan.js');

// One exchange, with the answer's headers.
function exchange(method, url, headers = {}, body = undefined) {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method, headers, agent: false }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

// The cross-origin server's access log lines for one location and channel, by method.
function logged(server, location, name) {
  const lines = server.accessLog().filter((line) => line.split(' ')[1] === `/${location}/${name}`);
  const count = (method, status) => lines.filter((line) => line.startsWith(`${method} `) && (!status || line.endsWith(` ${status}`))).length;
  return { lines, count };
}

// More of each comet.error than support.js's record() keeps.
async function recordReports(page) {
  await page.evaluate(() => {
    window.reports = [];
    $(document).bind('comet.error', (event, info) => {
      window.reports.push({ status: info.status, textStatus: info.textStatus, message: info.message, retryIn: info.retryIn });
    });
  });
}

describe('the cross-origin server and the publisher, as configured (no browser)', () => {
  let server;
  before(async () => { server = await startNchan(); });
  after(() => server.stop());

  it('answers preflights from the page origin itself (Authorization allowed, Max-Age), and refuses other origins without CORS headers', async () => {
    const page = server.origin;
    const preflight = (location, origin) => exchange('OPTIONS', `${server.corsOrigin}/${location}/x`, {
      Origin: origin, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization,if-none-match',
    });
    const ok = await preflight('sub', page);
    assert.equal(ok.status, 204);
    assert.equal(ok.headers['access-control-allow-origin'], page);
    assert.equal(ok.headers['access-control-allow-credentials'], 'true');
    assert.match(ok.headers['access-control-allow-headers'], /\bAuthorization\b.*\bIf-None-Match\b.*\bIf-Modified-Since\b/);
    assert.equal(ok.headers['access-control-max-age'], '600');
    assert.equal((await preflight('sub-nocache', page)).headers['access-control-max-age'], '0');
    for (const origin of ['http://evil.example', `http://localhost:${server.port}`, 'null']) {
      const refused = await preflight('sub', origin);
      assert.equal(refused.status, 403, origin);
      assert.ok(!Object.keys(refused.headers).some((h) => h.startsWith('access-control-')), `${origin}: ${JSON.stringify(refused.headers)}`);
      const get = await exchange('GET', `${server.corsOrigin}/sub/x`, { Origin: origin });
      assert.equal(get.status, 403);
      assert.ok(!Object.keys(get.headers).some((h) => h.startsWith('access-control-')), `${origin}: ${JSON.stringify(get.headers)}`);
    }
  });

  it('lets the page origin read a message and its cursor (Etag, Last-Modified exposed)', async () => {
    const name = channel('expose');
    await server.publish(name, '{"type":"a","data":1}');
    const answer = await exchange('GET', `${server.corsOrigin}/sub/${name}?last_event_id=0:0`, { Origin: server.origin });
    assert.equal(answer.status, 200);
    assert.equal(answer.text, '{"type":"a","data":1}');
    assert.equal(answer.headers['access-control-allow-origin'], server.origin);
    assert.equal(answer.headers['access-control-allow-credentials'], 'true');
    const exposed = answer.headers['access-control-expose-headers'].split(/,\s*/);
    assert.ok(exposed.includes('Etag') && exposed.includes('Last-Modified'), exposed.join());
    assert.ok(answer.headers.etag && answer.headers['last-modified']);
  });

  it('refuses a browser POST from another origin to the publisher (preflight too); its own origin and no Origin publish', async () => {
    const name = channel('pub');
    const post = (headers) => exchange('POST', `${server.origin}/pub/${name}`, { 'Content-Type': 'application/json', ...headers }, '{"data":1}');
    for (const origin of ['http://evil.example', server.corsOrigin, 'null']) {
      const refused = await post({ Origin: origin });
      assert.equal(refused.status, 403, origin);
      assert.ok(!Object.keys(refused.headers).some((h) => h.startsWith('access-control-')), JSON.stringify(refused.headers));
      const preflight = await exchange('OPTIONS', `${server.origin}/pub/${name}`, { Origin: origin, 'Access-Control-Request-Method': 'POST' });
      assert.equal(preflight.status, 403);
    }
    assert.equal((await server.channelInfo(name)).messages, 0, 'nothing was published');
    assert.equal((await post({ Origin: server.origin })).status, 202);
    assert.equal((await post({})).status, 202);
    assert.equal((await server.channelInfo(name)).messages, 2);
  });
});

for (const engine of engines()) {
  describe(`${engine}: a page on one origin, Nchan on another`, () => {
    const env = fixture({ engine, authorizer: true });
    let authorizer;
    before(async () => {
      await env.start();
      authorizer = env.authorizer;
    });
    after(env.stop);

    // A page with the session cookie of a user the authorizer knows, connected to the
    // cookie-authorized location on the other origin. `setup`: $.ajaxSetup's settings, before
    // connect() or, with `setupAfter`, right after it.
    async function cookiePage(name, options, setup = null, setupAfter = false) {
      const token = authorizer.token(`ines-${name}`);
      const page = await env.harness('3');
      await record(page);
      await recordReports(page);
      await page.evaluate(([url, session, settings, ajaxSetup, after]) => {
        document.cookie = `session=${session}; path=/`;
        if (ajaxSetup && !after) $.ajaxSetup(ajaxSetup);
        window.connection = $.comet.connect(url, Object.assign({ onError: window.onErrorRecorder }, settings));
        if (ajaxSetup && after) $.ajaxSetup(ajaxSetup);
      }, [`${env.server.corsOrigin}/cookie-auth/${name}`, token, options, setup, setupAfter]);
      return { page, token };
    }

    const WITH_COOKIE = [['withCredentials: true', { withCredentials: true }, null],
      ['$.ajaxSetup({xhrFields: {withCredentials: true}})', {}, { xhrFields: { withCredentials: true } }]];
    for (const [what, options, setup] of WITH_COOKIE) {
      it(`sends the page's cookie to the other origin with ${what}`, async () => {
        const name = channel('cookie');
        const { page, token } = await cookiePage(name, options, setup);
        await waitForSubscribers(env.server, name, 1);
        await env.publish(name, JSON.stringify({ type: 'n', data: 'with cookie' }));
        await waitFor(page, () => window.seen.length === 1);
        await waitForSubscribers(env.server, name, 1);
        const seen = authorizer.requests(name);
        assert.ok(seen.length >= 2 && seen.every((e) => e.status === 200 && e.headers.cookie === `session=${token}`), JSON.stringify(seen));
        assert.deepEqual(await page.evaluate(() => window.errors), []);
        await assertNoPageErrors(page);
        await page.context().close();
      });
    }

    const WITHOUT_COOKIE = [['by default', {}, null, false],
      ['with withCredentials: false over $.ajaxSetup\'s true', { withCredentials: false }, { xhrFields: { withCredentials: true } }, false],
      ['when $.ajaxSetup sets withCredentials only after connect()', {}, { xhrFields: { withCredentials: true } }, true]];
    for (const [what, options, setup, setupAfter] of WITHOUT_COOKIE) {
      it(`does not send it ${what}: the authorizer refuses, the page can read why`, async () => {
        const name = channel('nocookie');
        const { page } = await cookiePage(name, { maxRetryDelay: 30000, ...options }, setup, setupAfter);
        await waitFor(page, () => window.reports.length === 1);
        const seen = authorizer.requests(name);
        assert.equal(seen.length, 1);
        assert.equal(seen[0].headers.cookie, undefined);
        assert.equal(seen[0].status, 401);
        // Nchan's refusal carries the CORS headers: the page sees the 401 itself, not a network error.
        const [report] = await page.evaluate(() => window.reports);
        assert.equal(report.status, 401);
        assert.ok(report.retryIn >= 15000, `retry in ${report.retryIn} ms`);
        await page.context().close();
      });
    }

    // N messages over one location, the cursor in headers or in the query; counts the
    // preflights (OPTIONS lines) and the polls (GET lines, and the one waiting) the server saw.
    async function preflights(location, options, n) {
      const name = channel('pre');
      const page = await env.harness('3');
      await record(page);
      await page.evaluate(([url, settings]) => {
        window.connection = $.comet.connect(url, Object.assign({ onError: window.onErrorRecorder }, settings));
      }, [`${env.server.corsOrigin}/${location}/${name}`, options]);
      await waitForSubscribers(env.server, name, 1);
      for (let i = 0; i < n; i++) await env.publish(name, JSON.stringify({ type: 'n', data: i }));
      await waitFor(page, (count) => window.seen.length === count, n);
      await waitForSubscribers(env.server, name, 1);
      const result = await page.evaluate(() => ({ data: window.seen.map((m) => m.data), errors: window.errors }));
      assert.deepEqual(result.data, [...Array(n).keys()], 'every message once, in order');
      assert.deepEqual(result.errors, []);
      const log = logged(env.server, location, name);
      await page.context().close();
      return { preflights: log.count('OPTIONS'), polls: log.count('GET') + 1 };
    }

    // Preflights for N messages, the cursor in headers or in the query (cursorInQuery), with no
    // header of the page's own or with Authorization. Conditional headers (the cursor's
    // If-None-Match and If-Modified-Since) make a request's cache mode "no-store" (Fetch), and
    // Chromium then skips its preflight cache: one preflight per poll, whatever Max-Age says;
    // Firefox keeps the answer, though not at once (the first two or three polls with a cursor
    // are preflighted, varying from run to run, the rest not). In the query, the cursor needs
    // no preflight at all, but makes every poll's URL new: with Authorization, every poll is
    // preflighted.
    it('preflights: the cursor in headers costs up to one per poll, cursorInQuery none (without headers of the page\'s own)', async (t) => {
      const N = 20;
      const token = authorizer.token('preflights');
      const auth = { headers: { Authorization: `Bearer ${token}` } };
      const m = {
        header: await preflights('sub', {}, N),
        headerNoCache: await preflights('sub-nocache', {}, N),
        query: await preflights('sub', { cursorInQuery: true }, N),
        queryNoCache: await preflights('sub-nocache', { cursorInQuery: true }, N),
        headerAuth: await preflights('auth', auth, N),
        queryAuth: await preflights('auth', { cursorInQuery: true, ...auth }, N),
      };
      const show = (x) => `${x.preflights} preflights in ${x.polls} polls`;
      t.diagnostic(`${engine}: ${N} messages cross-origin: header cursor ${show(m.header)} (Max-Age 600), ${show(m.headerNoCache)} ` +
        `(Max-Age 0); cursorInQuery ${show(m.query)}, ${show(m.queryNoCache)} (Max-Age 0); with Authorization: header cursor ` +
        `${show(m.headerAuth)}, cursorInQuery ${show(m.queryAuth)}`);
      for (const x of Object.values(m)) assert.equal(x.polls, N + 1, 'one poll per message, and the one waiting');
      // The first poll has no cursor yet: it needs no preflight of its own.
      const few = (x) => x.preflights >= 1 && x.preflights < N / 4;
      if (engine === 'chromium') assert.equal(m.header.preflights, N);
      else assert.ok(few(m.header), `Firefox reuses the answer: ${m.header.preflights} preflights`);
      assert.equal(m.headerNoCache.preflights, N);
      assert.equal(m.query.preflights, 0);
      assert.equal(m.queryNoCache.preflights, 0);
      if (engine === 'chromium') assert.equal(m.headerAuth.preflights, N + 1);
      else assert.ok(few(m.headerAuth), `Firefox reuses the answer: ${m.headerAuth.preflights} preflights`);
      assert.equal(m.queryAuth.preflights, N + 1);
    });

    it('cursorInQuery: the cursor travels as last_event_id=<seconds>:<etag> with a cache buster, no conditional headers', async (t) => {
      const name = channel('query');
      const page = await env.harness('3');
      await record(page);
      await page.evaluate((url) => {
        window.connection = $.comet.connect(url, { onError: window.onErrorRecorder, cursorInQuery: true });
      }, `${env.server.corsOrigin}/sub/${name}`);
      await waitForSubscribers(env.server, name, 1);
      for (let i = 0; i < 3; i++) await env.publish(name, JSON.stringify({ type: 'n', data: i }));
      await waitFor(page, () => window.seen.length === 3);
      await waitForSubscribers(env.server, name, 1);
      // The fourth poll waits at the server: closing ends it, and the server logs it too.
      await page.evaluate(() => window.connection.close());
      await waitForSubscribers(env.server, name, 0);
      const logged = () => env.server.polls(`/sub/${name}`).filter((poll) => poll.port === env.server.corsPort);
      for (let i = 0; i < 100 && logged().length < 4; i++) await sleep(20);
      const polls = logged();
      assert.equal(polls.length, 4, polls.map((p) => p.url).join(' '));
      const answers = polls.filter((poll) => poll.status === 200);
      assert.equal(answers.length, 3);
      const query = polls.map((poll) => new URL(poll.url, env.server.corsOrigin).searchParams);
      assert.equal(query[0].get('last_event_id'), null, 'the first poll has no cursor yet');
      for (const [i, answer] of answers.entries()) {
        // The answer to poll i names the cursor of poll i + 1.
        const seconds = Date.parse(answer.lastModified) / 1000;
        assert.equal(query[i + 1].get('last_event_id'), `${seconds}:${answer.etag}`);
        // As sent: Nchan reads at most 128 bytes of it as it stands, so nothing is encoded that need not be.
        assert.ok(polls[i + 1].url.includes(`last_event_id=${seconds}:${answer.etag}&`), polls[i + 1].url);
      }
      assert.equal(new Set(query.map((params) => params.get('_'))).size, 4, 'a cache buster of its own on every poll');
      for (const poll of polls) {
        assert.equal(poll.ifNoneMatch, '');
        assert.equal(poll.ifModifiedSince, '');
      }
      t.diagnostic(`${engine}: cursorInQuery polls: ${polls.map((p) => new URL(p.url, env.server.corsOrigin).search).join(' ')}`);
      await assertNoPageErrors(page);
      await page.context().close();
    });

    it('sends Authorization cross-origin through nginx\'s own preflight answer', async () => {
      const name = channel('xauth');
      const token = authorizer.token(`jo-${name}`);
      const page = await env.harness('3');
      await record(page);
      await page.evaluate(([url, bearer]) => {
        window.connection = $.comet.connect(url, { onError: window.onErrorRecorder, headers: { Authorization: `Bearer ${bearer}` } });
      }, [`${env.server.corsOrigin}/auth/${name}`, token]);
      await waitForSubscribers(env.server, name, 1);
      for (let i = 0; i < 3; i++) await env.publish(name, JSON.stringify({ type: 'n', data: i }));
      await waitFor(page, () => window.seen.length === 3);
      await waitForSubscribers(env.server, name, 1);
      assert.deepEqual(await page.evaluate(() => ({ data: window.seen.map((m) => m.data), errors: window.errors })), { data: [0, 1, 2], errors: [] });
      const log = logged(env.server, 'auth', name);
      assert.ok(log.count('OPTIONS', 204) >= 1, log.lines.join('; '));
      assert.equal(log.count('OPTIONS'), log.count('OPTIONS', 204));
      assert.ok(authorizer.requests(name).every((e) => e.status === 200 && e.headers.authorization === `Bearer ${token}`));
      await assertNoPageErrors(page);
      await page.context().close();
    });

    it('tells a page on an origin the server does not allow that the origin is refused, and keeps retrying with backoff', async (t) => {
      const name = channel('refused');
      // localhost and 127.0.0.1 are different origins: the server allows only the latter.
      const page = await env.harness('3', `http://localhost:${env.server.port}`);
      await record(page);
      await recordReports(page);
      await page.evaluate((url) => {
        window.connection = $.comet.connect(url, { onError: window.onErrorRecorder, retryDelay: 50, maxRetryDelay: 400 });
      }, `${env.server.corsOrigin}/sub/${name}`);
      await waitFor(page, () => window.reports.length >= 4, undefined, 8000);
      const { reports, errors, state } = await page.evaluate(() => ({ reports: window.reports, errors: window.errors, state: window.connection.state }));
      for (const report of reports) {
        assert.equal(report.status, 0);
        assert.equal(report.textStatus, 'error');
        assert.ok(report.message.includes(`origin http://localhost:${env.server.port}`), 'the message names the page\'s origin');
        assert.match(report.message, /CORS|not allowed|Access-Control/i);
        assert.ok(report.retryIn > 0 && report.retryIn <= 400, `retry in ${report.retryIn} ms`);
      }
      assert.ok(errors.length >= 4 && errors.every((e) => e.status === 0));
      assert.notEqual(state, 'closed');
      // The server did answer (403): the browser hid it from the page.
      const log = logged(env.server, 'sub', name);
      assert.ok(log.count('GET', 403) >= 4 && log.count('GET') === log.count('GET', 403), log.lines.join('; '));
      t.diagnostic(`${engine}: refused origin: ${reports.length} reports, retries in ${reports.map((r) => r.retryIn).join(', ')} ms; ` +
        `message: ${reports[0].message}`);
      await page.context().close();
    });
  });
}
