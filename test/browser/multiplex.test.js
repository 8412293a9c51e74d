'use strict';
// Nchan's multiplexed channels: one subscriber location serves several channels
// (`nchan_channel_id $arg_a $arg_b $arg_c`, or one argument split at a delimiter:
// test/env/nginx.conf.template, "Multiplexed channels"). Its message id is compound: one
// Last-Modified, and an Etag with one tag per channel, the channel of the message (the last
// one, in a multipart answer) in brackets, "-" for a channel with nothing in that second:
// "[0],-,-", then "0,[0],-", "0,0,[0]", "[1],0,0", ... The client cannot see which channel a
// message came from (these messages say it in their JSON); it must send the compound Etag back
// exactly as it came, or Nchan skips or repeats messages of the other channels.
//
// In every engine and on every multiplexed location, messages published to the channels in
// turn (a, b, c, a, ...) arrive once each and in order per channel: step by step through a
// proxy that checks every poll's cursor against the answer before it (in the headers, and with
// cursorInQuery in Nchan's last_event_id query parameter); with 255 channels, Nchan's most; cut
// inside the compound Etag at every byte; streamed while a proxy cuts polls and answers at
// random; across an nginx reload.
//
// Nchan sends in the order of its message ids, not of publishing: by second, then by each
// message's index among its own channel's messages of that second, then by the channel's place
// in the list. a, a, a, b published in one second arrive as a, b, a, a; c, a, b published in
// turn at the start of a new second arrive as a, b, c. So the tests assert the order per
// channel, which is what Nchan keeps.
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { fixture, waitForSubscribers, subscribers, channel, engines, sleep, assertNoPageErrors } = require('./support.js');
const { startCutProxy, responseLength } = require('../env/cut-proxy.js');
const { keepAlivePublisher } = require('../env/publisher.js');
const { startNchan } = require('../env/nchan.js');

const LABELS = ['a', 'b', 'c'];

// The multiplexed locations, each with the URL of three channels.
const LOCATIONS = [
  { path: '/mux', multipart: false, url: (names) => `/mux?ch=${names.join(',')}` },
  { path: '/mux-multi', multipart: true, url: (names) => `/mux-multi?ch=${names.join(',')}` },
  { path: '/mux-args', multipart: false, url: ([a, b, c]) => `/mux-args?a=${a}&b=${b}&c=${c}` },
];

// Three fresh channels: { label, name }.
function channels() {
  return LABELS.map((label) => ({ label, name: channel(`mux-${label}`) }));
}

// Messages for the channels in turn, from the `from`-th: { ch, n } with n counting per channel.
function inTurn(from, count) {
  return Array.from({ length: count }, (_, i) => ({ ch: LABELS[(from + i) % 3], n: Math.floor((from + i) / 3) }));
}

const body = (message) => JSON.stringify({ type: 'm', data: message });
const nameOf = (chans, message) => chans.find((c) => c.label === message.ch).name;

// Every message once, in order, per channel; and nothing else.
function assertPerChannel(got, published, what, labels = LABELS) {
  for (const label of labels) {
    assert.deepEqual(got.filter((m) => m.ch === label).map((m) => m.n), published.filter((m) => m.ch === label).map((m) => m.n),
      `${what}: channel ${label}, every message once and in order`);
  }
  assert.equal(got.length, published.length, `${what}: ${got.length} delivered, ${published.length} published`);
}

// A compound tag of the three channels, the one of `label` in brackets.
function assertCompound(etag, label) {
  const tags = etag.split(',');
  assert.equal(tags.length, LABELS.length, `Etag ${etag}: one tag per channel`);
  assert.ok(tags.every((tag) => /^(\[\d+\]|\d+|-)$/.test(tag)), `Etag ${etag}: tags are numbers, [number] or -`);
  assert.deepEqual(tags.map((tag) => tag.startsWith('[')), LABELS.map((l) => l === label),
    `Etag ${etag}: the tag of channel ${label} is the active one`);
}

// Connects the harness page `page` to `url` and records what it delivers.
async function connect(page, url, options) {
  await page.evaluate(([url, options]) => {
    window.got = [];
    window.statuses = [];
    window.ended = false;
    $(document).bind('m.comet', (event, data) => window.got.push(data));
    $(document).bind('end.comet', () => { window.ended = true; });
    $(document).bind('comet.error', (event, info) => window.statuses.push(info.status));
    window.connection = $.comet.connect(url, options);
  }, [url, options]);
}

// What the page has: { got, statuses, state }.
const pageState = (page) => page.evaluate(() => ({ got: window.got, statuses: window.statuses, state: window.connection.state }));

// Waits for `test(window)` in the page, or fails with what the page has.
async function waitInPage(page, test, arg, what, timeout = 10000) {
  try {
    await page.waitForFunction(test, arg, { timeout, polling: 20 });
  } catch (error) {
    const { got, statuses, state } = await pageState(page);
    throw new Error(`${what}: ${got.length} delivered (the last: ${JSON.stringify(got.slice(-4))}), the connection ` +
      `${state}, failures ${statuses.join(',') || 'none'}`);
  }
}

// Publishes a message of type "end" to channel c, the last in the list, after messages
// published in turn that end with one to c; waits for it and for `count` messages. Nchan sends
// the end message after every one of those (in its second, no channel has more messages than c
// before it, and c comes last among equals), and a message repeated because a cursor went back
// wrong would come before it too: once it is there, the page has all it will ever get of them.
async function finish(page, post, chans, count) {
  await post(chans[chans.length - 1].name, JSON.stringify({ type: 'end', data: null }));
  await waitInPage(page, (n) => window.ended && window.got.length >= n, count, `the "end" message or some of the ${count} did not arrive`);
  return pageState(page);
}

// The raw answer Nchan gives to `path` with `cursor` (asked directly, on a connection of its
// own): the same bytes the page's poll will get, but for the Date, which is as long.
function probe(port, path, cursor) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let buffer = Buffer.alloc(0);
    const lines = [`GET ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`];
    if (cursor.etag) lines.push(`If-None-Match: ${cursor.etag}`, `If-Modified-Since: ${cursor.lastModified}`);
    socket.on('connect', () => socket.write(`${lines.join('\r\n')}\r\n\r\n`));
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      const length = responseLength(buffer);
      if (length > 0) {
        socket.destroy();
        resolve(buffer.subarray(0, length));
      }
    });
    socket.on('error', reject);
  });
}

// The page polls through a cut proxy that holds each poll until the test takes it. Every poll
// must carry the cursor of the answer before it, byte for byte (the first: none); the test
// publishes the next messages in turn (one per poll; a growing batch on a multipart location)
// and forwards the poll. Then, for `sweeps` polls, the answer is cut at every byte from the
// start of its Etag line to just after the line's end, by an orderly close or a reset in turn:
// after each cut the next poll must ask from the same cursor, with nothing of the cut answer
// delivered.
async function stepped(env, location, { rounds, sweeps = 0, cursorInQuery = false }) {
  const chans = channels();
  const proxy = await startCutProxy({ targetPort: env.server.port, match: (path) => path === location.path });
  const publisher = keepAlivePublisher(env.server.origin);
  let page = null;
  try {
    page = await env.harness('3', proxy.origin);
    await connect(page, location.url(chans.map((c) => c.name)), { retryDelay: 10, maxRetryDelay: 40, cursorInQuery });
    const published = [];
    const etags = [];
    const queries = [];
    let cursor = { lastModified: '', etag: '' };
    let delivered = 0;
    let cuts = 0;
    // The page has delivered the first `count` published, and the cursor's active tag is the
    // channel of the last one it delivered (in a multipart answer that is not always the last
    // one published: see the top of the file).
    const expectDelivered = async (count, what) => {
      const got = await page.evaluate(() => window.got);
      assertPerChannel(got, published.slice(0, count), what);
      if (cursor.etag) assertCompound(cursor.etag, got[got.length - 1].ch);
    };
    // With cursorInQuery the cursor is Nchan's last_event_id=<seconds>:<Etag> (percent-encoded
    // as the client likes: compared decoded) instead of the two headers.
    const sameCursor = (poll, what) => {
      const query = poll.path.includes('?') ? poll.path.slice(poll.path.indexOf('?') + 1) : '';
      const lastEventId = new URLSearchParams(query).get('last_event_id');
      if (cursorInQuery) {
        const expected = cursor.etag ? `${Date.parse(cursor.lastModified) / 1000}:${cursor.etag}` : null;
        assert.equal(lastEventId, expected, `${what}: last_event_id is the last answer's id`);
        assert.equal(poll.headers['if-none-match'], undefined, `${what}: no If-None-Match`);
        assert.equal(poll.headers['if-modified-since'], undefined, `${what}: no If-Modified-Since`);
        if (expected) queries.push(/(?:^|&)(last_event_id=[^&]*)/.exec(query)[1]);
      } else {
        assert.equal(poll.headers['if-none-match'], cursor.etag || undefined, `${what}: If-None-Match is the last Etag`);
        assert.equal(poll.headers['if-modified-since'], cursor.lastModified || undefined, `${what}: If-Modified-Since`);
        assert.equal(lastEventId, null, `${what}: no last_event_id`);
      }
    };
    let poll = await proxy.nextPoll();
    for (let round = 0; round < rounds + sweeps; round++) {
      sameCursor(poll, `poll ${round}`);
      await expectDelivered(delivered, `before poll ${round}`);
      const batch = inTurn(published.length, location.multipart ? 1 + (round % 4) : 1);
      for (const message of batch) await publisher.post(nameOf(chans, message), body(message));
      published.push(...batch);
      if (round >= rounds) {
        // The same answer, cut at every byte from the start of its Etag line to the end of it.
        const raw = await probe(env.server.port, poll.path, cursor);
        const start = raw.indexOf('\r\nEtag: ') + 2;
        const end = raw.indexOf('\r\n', start) + 2;
        assert.ok(start > 1 && end > start, 'Nchan sent an Etag');
        for (let at = start; at <= end; at++) {
          const answer = await poll.forward({ cutAt: at, how: at % 2 ? 'rst' : 'fin' });
          assert.equal(answer.total, raw.length, 'the probe saw the answer the page gets');
          assert.ok(answer.cut);
          cuts++;
          poll = await proxy.nextPoll();
          const partial = raw.subarray(start, at).toString('latin1');
          sameCursor(poll, `after a cut at byte ${at} (Etag line so far: ${JSON.stringify(partial)})`);
          await expectDelivered(delivered, `after a cut at byte ${at}`);
        }
      }
      const answer = await poll.forward();
      assert.equal(answer.status, 200);
      assert.equal(answer.cut, false);
      cursor = answer.cursor;
      etags.push(cursor.etag);
      delivered = published.length;
      poll = await proxy.nextPoll();
    }
    sameCursor(poll, 'the poll after the last');
    await expectDelivered(delivered, 'at the end');
    const statuses = await page.evaluate(() => window.statuses);
    assert.ok(statuses.every((status) => status === 0), `failures other than status 0: ${statuses}`);
    await assertNoPageErrors(page);
    return { messages: published.length, polls: proxy.stats().polls, etags, queries, cuts, reported: statuses.length };
  } finally {
    publisher.close();
    if (page) await page.context().close();
    await proxy.stop();
  }
}

const PER_SECOND = 150;

// The page polls through a cut proxy that forwards at once; `cutting` (the proxy's random
// mode) cuts answers at random bytes and held polls at random moments. Once the page's poll
// waits on every channel, `count` messages are published in turn at PER_SECOND.
async function streamed(env, location, { count, cutting, seed }) {
  const chans = channels();
  const proxy = await startCutProxy({ targetPort: env.server.port, match: (path) => path === location.path });
  const publisher = keepAlivePublisher(env.server.origin);
  let page = null;
  try {
    page = await env.harness('3', proxy.origin);
    proxy.setRandom({ truncate: 0, hang: 0, seed });
    await connect(page, location.url(chans.map((c) => c.name)), { retryDelay: 10, maxRetryDelay: 50 });
    for (const c of chans) await waitForSubscribers(env.server, c.name, 1);
    if (cutting) proxy.setRandom({ ...cutting, seed });
    const published = inTurn(0, count);
    const started = Date.now();
    for (const [i, message] of published.entries()) {
      await publisher.post(nameOf(chans, message), body(message));
      const due = started + ((i + 1) * 1000) / PER_SECOND;
      if (due > Date.now()) await sleep(due - Date.now());
    }
    const publishedIn = Date.now() - started;
    await waitInPage(page, (n) => window.got.length >= n, count, `not all ${count} messages arrived`, 30000);
    const deliveredIn = Date.now() - started;
    // No more cuts (the random mode goes on: with it off, the proxy would hold the next poll).
    proxy.setRandom({ truncate: 0, hang: 0, seed });
    const result = await finish(page, publisher.post, chans, published.length);
    assertPerChannel(result.got, published, location.path);
    assert.equal(result.state, 'open');
    await assertNoPageErrors(page);
    return { publishedIn, deliveredIn, reported: result.statuses.length, ...proxy.stats() };
  } finally {
    publisher.close();
    if (page) await page.context().close();
    await proxy.stop();
  }
}

// Resolves with the time at which `test(count)` first held for every channel, asking every 10 ms.
async function when(server, chans, test, timeoutMs = 20000) {
  const started = Date.now();
  for (;;) {
    const counts = await Promise.all(chans.map((c) => subscribers(server, c.name)));
    if (counts.every(test)) return Date.now();
    if (Date.now() - started > timeoutMs) throw new Error(`subscribers ${counts} after ${timeoutMs} ms`);
    await sleep(10);
  }
}

// Nchan's in-memory store does not survive a reload: its message ids start again at (this
// second, 0) in every channel. A compound cursor of second T skips, in each channel whose tag
// it holds as a number, every new message of second T (their tags start at 0 again, at or
// below the one the page has seen), and only the channels it holds as "-" would get theirs: a
// message published within the second of the last one before the reload is lost for good
// reason. A real deploy takes longer than that; the test publishes in a later second, as
// deploys.test.js does.
async function nextSecond(since) {
  while (Math.floor(Date.now() / 1000) <= since) await sleep(10);
}

// A page polling the location with the default options; 30 messages in turn, a reload (SIGHUP),
// 30 more once the page polls the new workers.
//
// The page is served by the fixture's server and polls a server of its own (as in
// deploys.test.js), which only its polls reach: an old worker exits only once no connection of
// its own waits for a first request (client_header_timeout, 60 s), and Nchan answers the polls
// it holds with 410 only when it exits. Loading the page opens connections that a browser may
// keep unused (a spare one, or one opened for a parallel fetch that went elsewhere): on the
// server that is reloaded, one of those kept the old worker, and the page's poll in it, for a
// minute (a bare TCP connection that sends nothing does the same).
async function reloaded(env, location) {
  const chans = channels();
  const server = await startNchan();
  const post = async (name, text) => { await server.publish(name, text); };
  let page = null;
  try {
    page = await env.harness('3');
    await page.evaluate(() => { $(document).bind('comet.error', () => { window.failedAt = window.failedAt || Date.now(); }); });
    await connect(page, server.origin + location.url(chans.map((c) => c.name)), {});
    await when(server, chans, (count) => count === 1);
    const first = inTurn(0, 30);
    for (const message of first) await post(nameOf(chans, message), body(message));
    const lastSecond = Math.floor(Date.now() / 1000);
    await waitInPage(page, (n) => window.got.length >= n, first.length, `not all ${first.length} messages arrived`);
    const acted = Date.now();
    const reload = server.reload();
    // The old worker answers the page's poll with 410 as it exits.
    await waitInPage(page, () => window.failedAt, undefined, 'no failure after the reload', 15000);
    await reload;  // nothing is published before the old workers are gone
    const failedAt = await page.evaluate(() => window.failedAt);
    // A new worker holds the page's poll (its store is new: the count says which).
    const pageBack = await when(server, chans, (count) => count >= 1);
    await nextSecond(lastSecond);
    const second = inTurn(first.length, 30);
    for (const message of second) await post(nameOf(chans, message), body(message));
    const result = await finish(page, post, chans, first.length + second.length);
    assertPerChannel(result.got, first.concat(second), `${location.path} across the reload`);
    assert.deepEqual(result.statuses, [410]);
    assert.equal(result.state, 'open');
    await assertNoPageErrors(page);
    return { failedAfter: failedAt - acted, pageBack: pageBack - failedAt };
  } finally {
    if (page) await page.context().close();
    await server.stop();
  }
}

// `count` channels on /mux, named short (Nchan takes at most 1024 characters of channel ids
// before it splits them: 255 channels of up to 3 characters fit). Messages go to the first, the
// middle and the last channel in turn; the page polls with `options`.
let manyRuns = 0;
async function many(env, count, options) {
  const prefix = String.fromCharCode(0x67 + manyRuns++);
  const names = Array.from({ length: count }, (_, i) => prefix + i.toString(36));
  const targets = [0, Math.floor(count / 2), count - 1];
  const page = await env.harness('3');
  try {
    await connect(page, `/mux?ch=${names.join(',')}`, { retryDelay: 10, maxRetryDelay: 40, ...options });
    for (const i of targets) await waitForSubscribers(env.server, names[i], 1);
    const published = Array.from({ length: 12 }, (_, k) => ({ ch: targets[k % 3], n: Math.floor(k / 3) }));
    for (const message of published) await env.publish(names[message.ch], body(message));
    // As in finish(), to the last channel of the turn.
    await env.publish(names[count - 1], JSON.stringify({ type: 'end', data: null }));
    // Done when the end message and every message are there, or as soon as one arrived twice.
    await waitInPage(page, (n) => (window.ended && window.got.length >= n) || window.got.length > n, published.length,
      'the "end" message did not arrive');
    const { got, statuses } = await pageState(page);
    // The polls answered so far, as the server saw them (the one waiting is not logged yet).
    const polls = env.server.polls(`/mux?ch=${names.join(',')}`);
    const urls = polls.map((poll) => poll.url);
    const tags = polls.map((poll) => poll.ifNoneMatch);  // the If-None-Match of each poll
    const lastEventIds = urls.map((url) => /[?&]last_event_id=([^&]*)/.exec(url)).filter(Boolean).map((match) => match[1]);
    const longest = lastEventIds.reduce((a, b) => (b.length > a.length ? b : a), '');
    assertPerChannel(got, published, `${count} channels`, targets);
    assert.deepEqual(statuses, []);
    if (!options.cursorInQuery) {
      assert.ok(tags.slice(1).every((tag) => tag.split(',').length === count), `If-None-Match of ${count} tags: ${tags}`);
    }
    await assertNoPageErrors(page);
    return { polls: urls.length, longest, tagLength: Math.max(...tags.map((tag) => tag.length)),
      inQuery: lastEventIds.length, inHeaders: tags.filter(Boolean).length };
  } finally {
    await page.context().close();
  }
}

const CUTTING = { truncate: 0.3, hang: 0.5, hangMs: [0, 15] };

for (const engine of engines()) {
  describe(`${engine}: multiplexed channels`, () => {
    const env = fixture({ engine });
    before(() => env.start());
    after(() => env.stop());

    for (const location of LOCATIONS) {
      it(`${location.path}: messages to three channels in turn arrive once, in order per channel; every poll sends the ` +
        'compound Etag back exactly', async (t) => {
        const result = await stepped(env, location, { rounds: 12 });
        t.diagnostic(`${engine} ${location.path}: ${result.messages} messages in ${result.polls} polls; ` +
          `Etags ${result.etags.join(' ')}`);
      });
    }

    for (const location of LOCATIONS) {
      it(`${location.path}, cursorInQuery: every poll but the first carries last_event_id=<seconds>:<compound Etag>; ` +
        'messages in turn arrive once, in order per channel', async (t) => {
        const result = await stepped(env, location, { rounds: 12, cursorInQuery: true });
        t.diagnostic(`${engine} ${location.path} cursorInQuery: ${result.messages} messages in ${result.polls} polls; ` +
          `${result.queries.slice(0, 4).join(' ')} ...`);
      });
    }

    it('/mux with 255 channels (Nchan\'s most): the compound Etag of 255 tags goes back in If-None-Match', async (t) => {
      const result = await many(env, 255, {});
      t.diagnostic(`${engine} 255 channels: 12 messages once, in order per channel, in ${result.polls} polls; ` +
        `If-None-Match up to ${result.tagLength} bytes`);
    });

    // Nchan reads last_event_id only if its value in the query, as it stands there, is at most
    // 128 bytes long (nchan_subscriber_get_msg_id: ngx_http_complex_value_noalloc(..., 128)),
    // and drops a longer one without a word: the poll would start from the oldest message
    // buffered. The client sends the tags' ",[]" as they are (2 bytes a channel: 58 channels
    // fit) and a longer cursor in the headers.
    for (const [count, where] of [[58, 'in the query'], [59, 'in the headers'], [255, 'in the headers']]) {
      it(`/mux with ${count} channels, cursorInQuery: the cursor goes ${where}, every message once`, async (t) => {
        const result = await many(env, count, { cursorInQuery: true });
        if (where === 'in the query') {
          assert.equal(result.inHeaders, 0, 'no poll sent the cursor in its headers');
          assert.ok(result.longest.length > 100 && result.longest.length <= 128, `last_event_id of ${result.longest.length} bytes`);
        } else {
          assert.equal(result.inQuery, 0, 'no poll sent the cursor in its query');
          // Every answered poll but the first (which has no cursor yet), however the 13 messages
          // fell into answers.
          assert.ok(result.polls >= 2, `${result.polls} polls answered`);
          assert.equal(result.inHeaders, result.polls - 1, `${result.inHeaders} of ${result.polls} polls with If-None-Match`);
        }
        t.diagnostic(`${engine} ${count} channels, cursorInQuery: ${result.polls} polls, ${result.inQuery} with ` +
          `last_event_id (up to ${result.longest.length} bytes), ${result.inHeaders} with If-None-Match`);
      });
    }

    for (const location of LOCATIONS.slice(0, 2)) {
      it(`${location.path}: an answer cut at every byte of its compound Etag line is never taken; the next poll asks from ` +
        'the same cursor', async (t) => {
        const result = await stepped(env, location, { rounds: 2, sweeps: 3 });
        t.diagnostic(`${engine} ${location.path}: ${result.cuts} cuts (${result.reported} reported as status 0, the ` +
          `rest resent by the browser itself); ${result.messages} messages once, in order; Etags ${result.etags.join(' ')}`);
      });
    }

    for (const [index, location] of LOCATIONS.slice(0, 2).entries()) {
      for (const cutting of [null, CUTTING]) {
        const count = 300;
        it(`${location.path}: ${count} messages in turn at ~${PER_SECOND}/s ${cutting ? 'while polls and answers are cut ' +
          'at random' : 'to a waiting poll'}: once each, in order per channel`, async (t) => {
          const result = await streamed(env, location, { count, cutting, seed: 20261202 + index });
          const cut = result.truncated + result.hung;
          t.diagnostic(`${engine} ${location.path}${cutting ? ' cut' : ''}: published in ${result.publishedIn} ms, all ` +
            `delivered ${result.deliveredIn} ms after the first; ${result.polls} polls, ${cut} cut (${result.truncated} ` +
            `answers, ${result.hung} held polls), ${result.reported} failures reported`);
          if (cutting) assert.ok(cut >= 10 && cut >= 0.2 * result.polls, `only ${cut} cuts in ${result.polls} polls`);
        });
      }
    }

    for (const location of LOCATIONS.slice(0, 2)) {
      it(`${location.path}: across an nginx reload (SIGHUP): 410, then every message once, in order per channel`, async (t) => {
        const result = await reloaded(env, location);
        t.diagnostic(`${engine} ${location.path}: the page got its 410 ${result.failedAfter} ms after the signal; a new ` +
          `worker held its next poll ${result.pageBack} ms after that`);
      });
    }
  });
}
