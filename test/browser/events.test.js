'use strict';
// Messages become jQuery events exactly as the original's did (<type>.comet with
// (event, data, type)) plus comet.message for all, on every supported jQuery; a hostile type
// can reach nothing but handlers bound for that exact type in the comet namespace.
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { fixture, record, waitFor, waitForSubscribers, channel, assertNoPageErrors, JQUERY_VERSIONS, engines } = require('./support.js');

// Chromium's: the options tests, and the events tests in Chromium.
const chromium = fixture();
before(chromium.start);
after(chromium.stop);

// The events in every engine of COMET_ENGINES, on every jQuery.
for (const engine of engines()) {
  describe(`${engine}: messages as events`, () => {
    const env = engine === 'chromium' ? chromium : fixture({ engine });
    if (env !== chromium) {
      before(env.start);
      after(env.stop);
    }
    for (const jq of JQUERY_VERSIONS) eventTests(env, jq);
  });
}

function eventTests(env, jq) {
  describe(`jQuery ${jq}.x`, () => {
    it('fires <type>.comet for its type only and comet.message for every message, with (event, data, type)', async () => {
      const page = await env.harness(jq);
      await record(page);
      const name = channel();
      await page.evaluate((url) => {
        window.feed = [];
        window.other = [];
        $(document).bind('feed.comet', function (event, data, type) {
          window.feed.push({ data, type, eventType: event.type, namespace: event.namespace, args: arguments.length });
        });
        $(document).bind('other.comet', (event, data) => window.other.push(data));
        $.comet.connect(url, { onError: window.onErrorRecorder });
      }, `/sub/${name}`);
      await env.publish(name, JSON.stringify({ type: 'feed', data: { text: 'hello' } }));
      await env.publish(name, JSON.stringify({ type: 'other', data: [1, 2] }));
      await env.publish(name, JSON.stringify({ type: 'feed', data: 'second' }));
      await waitFor(page, () => window.seen.length === 3);
      const result = await page.evaluate(() => ({ seen: window.seen, feed: window.feed, other: window.other, errors: window.errors }));
      assert.deepEqual(result.seen, [
        { data: { text: 'hello' }, type: 'feed' },
        { data: [1, 2], type: 'other' },
        { data: 'second', type: 'feed' },
      ]);
      assert.deepEqual(result.feed, [
        { data: { text: 'hello' }, type: 'feed', eventType: 'feed', namespace: 'comet', args: 3 },
        { data: 'second', type: 'feed', eventType: 'feed', namespace: 'comet', args: 3 },
      ]);
      assert.deepEqual(result.other, [[1, 2]]);
      assert.deepEqual(result.errors, []);
      await assertNoPageErrors(page);
      await page.context().close();
    });

    it('hands over present-but-falsy data, the whole message without a data key, and typeless messages as null.comet', async () => {
      const page = await env.harness(jq);
      await record(page);
      const name = channel();
      await page.evaluate((url) => {
        window.nulls = [];
        $(document).bind('null.comet', (event, data, type) => window.nulls.push({ data, type }));
        $.comet.connect(url, { onError: window.onErrorRecorder });
      }, `/sub/${name}`);
      const bodies = [
        { type: 'a', data: 0 }, { type: 'a', data: '' }, { type: 'a', data: false }, { type: 'a', data: null },
        { type: 'a', payload: 7 }, { data: 'untyped' }, [1, 'array'], { type: '', data: 'empty type' },
      ];
      for (const body of bodies) await env.publish(name, JSON.stringify(body));
      await waitFor(page, (n) => window.seen.length === n, bodies.length);
      const result = await page.evaluate(() => ({ seen: window.seen, nulls: window.nulls }));
      assert.deepEqual(result.seen, [
        { data: 0, type: 'a' }, { data: '', type: 'a' }, { data: false, type: 'a' }, { data: null, type: 'a' },
        { data: { type: 'a', payload: 7 }, type: 'a' }, { data: 'untyped', type: null }, { data: [1, 'array'], type: null },
        { data: 'empty type', type: null },
      ]);
      assert.deepEqual(result.nulls.map((m) => m.data), ['untyped', [1, 'array'], 'empty type']);
      await assertNoPageErrors(page);
      await page.context().close();
    });

    it('cannot be made to call native document methods, split into namespaces or events, or throw by a hostile type', async () => {
      const page = await env.harness(jq);
      await record(page);
      const name = channel();
      const hostile = ['open', 'write', 'close', 'clear', 'click', 'focus', 'blur', 'submit', 'load', 'ready',
        'a.b', 'feed.comet', 'a b', ' feed', 'mouseenter', '__proto__', 'constructor', 'toString', 'hasOwnProperty',
        'valueOf', 'comet', 'message', '<img src=x onerror=alert(1)>', 'x'.repeat(5000), 'é\u2028\u0000'];
      await page.evaluate((url) => {
        window.perType = [];
        window.nativeCalls = [];
        for (const method of ['open', 'write', 'close', 'clear', 'writeln']) {
          const original = document[method];
          document[method] = function () { window.nativeCalls.push(method); return original.apply(this, arguments); };
        }
        window.addEventListener('focus', () => window.nativeCalls.push('window focus'));
        // Handlers for the exact types that are safe to bind, and catch-alls that must not fire.
        $(document).bind('open.comet write.comet close.comet comet.comet message.comet', (event, data, type) => {
          window.perType.push(event.type + ':' + type);
        });
        // Types that jQuery treats specially (click, focus, load, ...) and names inherited from
        // Object.prototype only reach comet.message: no per-type handler may see them.
        $(document).bind('click.comet focus.comet load.comet', (event, data, type) => {
          window.perType.push('WRONG special ' + event.type + ':' + type);
        });
        $(document).bind('a.comet b.comet feed.comet', (event, data, type) => {
          window.perType.push('WRONG ' + event.type + ':' + type);
        });
        $(document).bind('comet', (event) => window.perType.push('WRONG bare comet ' + event.namespace));
        $.comet.connect(url, { onError: window.onErrorRecorder });
      }, `/sub/${name}`);
      for (const type of hostile) await env.publish(name, JSON.stringify({ type, data: type.slice(0, 20) }));
      await waitFor(page, (n) => window.seen.length === n, hostile.length);
      const result = await page.evaluate(() => ({
        seen: window.seen.map((m) => m.type),
        perType: window.perType,
        nativeCalls: window.nativeCalls,
        intact: document.getElementById('intact') && document.getElementById('intact').textContent,
        title: document.title,
        errors: window.errors,
      }));
      assert.deepEqual(result.seen, hostile, 'every message reaches comet.message with its type');
      assert.deepEqual(result.perType, ['open:open', 'write:write', 'close:close', 'comet:comet', 'message:message']);
      assert.deepEqual(result.nativeCalls, []);
      assert.equal(result.intact, 'page intact');
      assert.equal(result.title, 'jquery.comet test harness');
      assert.deepEqual(result.errors, []);
      await assertNoPageErrors(page);
      await page.context().close();
    });

    it('hands listeners the event object jQuery\'s triggerHandler would, and calls no document.on<type> property', async () => {
      const page = await env.harness(jq);
      await record(page);
      const name = channel();
      const types = ['feed', 'keydown', 'readystatechange', 'visibilitychange', 'selectionchange', 'copy'];
      await page.evaluate(([url, types]) => {
        window.propertyCalls = [];
        for (const type of types) document['on' + type] = () => window.propertyCalls.push(type);
        document.oncomet = () => window.propertyCalls.push('comet');
        // What a handler can observe of its event, for a message and for jQuery's own triggerHandler.
        const describe = (event, args) => ({
          type: event.type, namespace: event.namespace, isTrigger: event.isTrigger,
          target: event.target === document, currentTarget: event.currentTarget === document,
          delegateTarget: event.delegateTarget === document, result: event.result, data: event.data,
          isJQueryEvent: event instanceof $.Event, timeStamp: typeof event.timeStamp,
          rnamespace: String(event.rnamespace), handleObj: event.handleObj.origType + '.' + event.handleObj.namespace,
          defaultPrevented: event.isDefaultPrevented(), propagationStopped: event.isPropagationStopped(),
          args: args.length,
        });
        window.observed = { feed: [], message: [] };
        $(document).on('feed.comet', { bound: 'feed' }, function (event) { window.observed.feed.push(describe(event, arguments)); });
        $(document).on('comet.message', { bound: 'all' }, function (event) { window.observed.message.push(describe(event, arguments)); });
        $.comet.connect(url);
      }, [`/sub/${name}`, types]);
      for (const type of types) await env.publish(name, JSON.stringify({ type, data: 1 }));
      await waitFor(page, (n) => window.seen.length === n, types.length);
      const result = await page.evaluate(() => {
        const fromComet = { feed: window.observed.feed[0], message: window.observed.message[0] };
        $(document).triggerHandler('feed.comet', [1, 'feed']);
        $(document).triggerHandler('comet.message', [1, 'feed']);
        const fromJQuery = { feed: window.observed.feed[1], message: window.observed.message[window.observed.message.length - 1] };
        return { fromComet, fromJQuery, propertyCalls: window.propertyCalls.slice(), feeds: window.observed.feed.length };
      });
      assert.deepEqual(result.fromComet, result.fromJQuery);
      assert.equal(result.fromComet.feed.type, 'feed');
      assert.equal(result.fromComet.message.namespace, 'message');
      assert.deepEqual(result.fromComet.feed.data, { bound: 'feed' });
      assert.equal(result.feeds, 2, 'one feed message and the triggerHandler call');
      // triggerHandler itself calls document.onfeed and document.oncomet; the messages did not.
      assert.deepEqual(result.propertyCalls, ['feed', 'comet']);
      await assertNoPageErrors(page);
      await page.context().close();
    });

    it('goes on after a handler throws: the rest of the batch, the other events and the connection; the page sees the error', async () => {
      const page = await env.harness(jq);
      await record(page);
      const name = channel();
      // Three messages wait before the page connects: its first response carries all three.
      for (let i = 1; i <= 3; i++) await env.publish(name, JSON.stringify({ type: 'feed', data: i }));
      await page.evaluate((url) => {
        window.feed = [];
        $(document).bind('feed.comet', (event, data) => {
          window.feed.push(data);
          if (data === 2) throw new Error('handler bug ' + data);
        });
        $.comet.connect(url);
      }, `/multi/${name}`);
      await waitFor(page, () => window.seen.length === 3);
      await env.publish(name, JSON.stringify({ type: 'feed', data: 4 }));
      await waitFor(page, () => window.seen.length === 4);
      await env.publish(name, JSON.stringify({ type: 'feed', data: 5 }));
      await waitFor(page, () => window.seen.length === 5);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const result = await page.evaluate(() => ({ feed: window.feed, seen: window.seen.map((m) => m.data), state: $.comet.connections()[0].state }));
      assert.deepEqual(result.feed, [1, 2, 3, 4, 5]);
      assert.deepEqual(result.seen, [1, 2, 3, 4, 5], 'comet.message saw every message, the one whose feed handler threw included');
      assert.equal(result.state, 'open');
      assert.deepEqual(page.errors, ['handler bug 2'], 'the error reached the page, once');
      await page.context().close();
    });
  });
}

describe('options', () => {
  const env = chromium;
  it('reads typeAttr and dataAttr, and dataAttr: null hands over the whole message', async () => {
    const page = await env.harness('3');
    await record(page);
    const name = channel();
    await page.evaluate((url) => {
      window.byKind = [];
      window.whole = [];
      $(document).bind('ping.comet', (event, data, type) => window.byKind.push({ data, type }));
      $.comet.connect(url, { typeAttr: 'kind', dataAttr: 'body' });
      $.comet.connect(url, { typeAttr: 'kind', dataAttr: null });
    }, `/sub/${name}`);
    await env.publish(name, JSON.stringify({ kind: 'ping', body: { n: 1 }, data: 'ignored' }));
    await waitFor(page, () => window.seen.length === 2);
    const result = await page.evaluate(() => ({ byKind: window.byKind, seen: window.seen }));
    const datas = result.seen.map((m) => JSON.stringify(m.data)).sort();
    assert.deepEqual(datas, ['{"kind":"ping","body":{"n":1},"data":"ignored"}', '{"n":1}']);
    assert.equal(result.byKind.length, 2);
    assert.ok(result.byKind.every((m) => m.type === 'ping'));
    await assertNoPageErrors(page);
    await page.context().close();
  });

  it('rejects options of the wrong type with an error that names the option, and starts nothing', async () => {
    const page = await env.harness('3');
    const outcomes = await page.evaluate(() => {
      const attempt = (url, options) => {
        try {
          $.comet.connect(url, options);
          return 'no error';
        } catch (error) {
          return `${error.name}: ${error.message}`;
        }
      };
      return {
        timeoutType: attempt('/sub/x', { timeout: '60000' }),
        timeoutNegative: attempt('/sub/x', { timeout: -1 }),
        onError: attempt('/sub/x', { onError: 'alert' }),
        requestMethod: attempt('/sub/x', { requestMethod: 'GET /x' }),
        typeAttr: attempt('/sub/x', { typeAttr: 5 }),
        dataAttr: attempt('/sub/x', { dataAttr: '' }),
        retryDelay: attempt('/sub/x', { retryDelay: 0 }),
        debug: attempt('/sub/x', { debug: 'yes' }),
        headersType: attempt('/sub/x', { headers: 'Bearer x' }),
        headersCookie: attempt('/sub/x', { headers: { Cookie: 'a=1' } }),
        headersCursor: attempt('/sub/x', { headers: { 'if-none-match': '3' } }),
        headersValue: attempt('/sub/x', { headers: { Authorization: { token: 'x' } } }),
        headersBreak: attempt('/sub/x', { headers: { 'X-A': 'a\r\nX-B: b' } }),
        headersName: attempt('/sub/x', { headers: { 'X A': 'a' } }),
        withCredentials: attempt('/sub/x', { withCredentials: 'yes' }),
        cursorInQuery: attempt('/sub/x', { cursorInQuery: 1 }),
        options: attempt('/sub/x', 'fast'),
        noUrl: attempt(undefined),
        badUrl: attempt('http://[::1', {}),
        fileUrl: attempt('file:///etc/passwd', {}),
        wsUrl: attempt('ws://127.0.0.1/sub/x', {}),
        dataUrl: attempt('data:text/plain,hi', {}),
        oneBadOfMany: attempt(['/sub/x', 'javascript:alert(1)'], {}),
        connections: $.comet.connections().length,
      };
    });
    assert.match(outcomes.timeoutType, /^TypeError: .*"timeout"/);
    assert.match(outcomes.timeoutNegative, /^RangeError: .*"timeout"/);
    assert.match(outcomes.onError, /^TypeError: .*"onError"/);
    assert.match(outcomes.requestMethod, /^TypeError: .*"requestMethod"/);
    assert.match(outcomes.typeAttr, /^TypeError: .*"typeAttr"/);
    assert.match(outcomes.dataAttr, /^TypeError: .*"dataAttr"/);
    assert.match(outcomes.retryDelay, /^RangeError: .*"retryDelay"/);
    assert.match(outcomes.debug, /^TypeError: .*"debug" must be true or false/);
    assert.match(outcomes.headersType, /^TypeError: .*"headers" must be an object of header names and values, a function or null, got "Bearer x"/);
    assert.match(outcomes.headersCookie, /^TypeError: .*option "headers": header "Cookie" cannot be set by a page: use withCredentials/);
    assert.match(outcomes.headersCursor, /^TypeError: .*option "headers": header "if-none-match" carries the cursor/);
    assert.match(outcomes.headersValue, /^TypeError: .*option "headers": header "Authorization" must have a string value/);
    assert.match(outcomes.headersBreak, /^TypeError: .*option "headers": header "X-A" must have a string value without line breaks/);
    assert.match(outcomes.headersName, /^TypeError: .*option "headers": header "X A" is not a valid header name/);
    assert.match(outcomes.withCredentials, /^TypeError: .*"withCredentials" must be true, false or null/);
    assert.match(outcomes.cursorInQuery, /^TypeError: .*"cursorInQuery" must be true or false/);
    assert.match(outcomes.options, /^TypeError: .*options must be an object/);
    assert.match(outcomes.noUrl, /^TypeError: .*URL/);
    assert.match(outcomes.badUrl, /^TypeError: .*not a valid URL/);
    assert.match(outcomes.fileUrl, /^TypeError: .*"file:\/\/\/etc\/passwd" cannot be polled: only http: and https: URLs can, not file:/);
    assert.match(outcomes.wsUrl, /^TypeError: .*"ws:\/\/127\.0\.0\.1\/sub\/x" cannot be polled: .*not ws:/);
    assert.match(outcomes.dataUrl, /^TypeError: .*cannot be polled: .*not data:/);
    assert.match(outcomes.oneBadOfMany, /^TypeError: .*"javascript:alert\(1\)" cannot be polled/);
    assert.equal(outcomes.connections, 0);
    await assertNoPageErrors(page);
    await page.context().close();
  });

  it('debug: true logs each request, response and state change in one line, and failures as warnings', async () => {
    const page = await env.harness('3');
    const lines = [];
    page.on('console', (message) => lines.push(`${message.type()} ${message.text()}`));
    const name = channel();
    await page.evaluate((url) => {
      window.got = [];
      $(document).bind('hello.comet', (event, data) => window.got.push(data));
      $.comet.connect(url, { debug: true, headers: { Authorization: 'Bearer secret-token' } });
      $.comet.connect('/no-such-location', { debug: true, retryDelay: 60000, maxRetryDelay: 60000 });
      $.comet.connect(url);  // not in debug: logs nothing
    }, `/sub/${name}`);
    await waitForSubscribers(env, name, 2);
    const message = JSON.stringify({ type: 'hello', data: 1 });
    await env.publish(name, message);
    await waitFor(page, () => window.got.length === 2);
    await page.evaluate(() => $.comet.disconnect());
    const url = `${env.server.origin}/sub/${name}`;
    const pattern = url.replace(/[.?]/g, '\\$&');
    const mine = lines.filter((line) => line.includes(url));
    assert.equal(mine[0], `log jquery.comet: ${url}: idle -> connecting`);
    assert.match(mine[1], new RegExp(`^log jquery\\.comet: GET ${pattern}\\?_=[\\w-]+ \\(Authorization: \\(hidden\\)\\)$`),
      'the first poll, with its cache buster; the header\'s name, not its value');
    assert.ok(mine.includes(`log jquery.comet: ${url}: HTTP 200, ${message.length} bytes`), mine.join('\n'));
    assert.ok(mine.includes(`log jquery.comet: ${url}: connecting -> open`), mine.join('\n'));
    assert.ok(mine.some((line) => new RegExp(`^log jquery\\.comet: GET ${pattern} \\(Authorization: \\(hidden\\), If-None-Match: .+, If-Modified-Since: .+\\)$`).test(line)),
      'the next poll carries the cursor');
    assert.ok(!lines.some((line) => line.includes('secret-token')), 'a credential never reaches the console');
    assert.ok(mine.includes(`log jquery.comet: ${url}: open -> closed`), mine.join('\n'));
    assert.ok(lines.some((line) => /^warning jquery\.comet: GET \S+\/no-such-location failed with HTTP 404 Not Found; retrying in \d+ ms/.test(line)), lines.join('\n'));
    assert.equal(lines.filter((line) => line.includes('connecting -> open')).length, 1, 'only the debug connection logs');
    await assertNoPageErrors(page);
    await page.context().close();
  });

  it('warns about an unknown option, naming the closest known one, and goes on without it', async () => {
    const page = await env.harness('3');
    const warnings = [];
    page.on('console', (message) => { if (message.type() === 'warning') warnings.push(message.text()); });
    const timeouts = await page.evaluate(() => {
      const typo = $.comet.connect('/sub/x', { timout: 5000, retrydelay: 10, onerror: null, zzzzzz: 1 });
      const clean = $.comet.connect('/sub/y', { timeout: 5000, dataAttr: null });
      const result = [typo.options.timeout, clean.options.timeout];
      $.comet.disconnect();
      return result;
    });
    assert.deepEqual(timeouts, [60000, 5000], 'the misspelled option changed nothing');
    assert.deepEqual(warnings, [
      'jquery.comet: unknown option "timout" is ignored (did you mean "timeout"?)',
      'jquery.comet: unknown option "retrydelay" is ignored (did you mean "retryDelay"?)',
      'jquery.comet: unknown option "onerror" is ignored (did you mean "onError"?)',
      'jquery.comet: unknown option "zzzzzz" is ignored',
    ]);
    await assertNoPageErrors(page);
    await page.context().close();
  });

  it('merges $.comet.defaults without mutating the caller\'s options', async () => {
    const page = await env.harness('3');
    const result = await page.evaluate(() => {
      const mine = { timeout: 5000 };
      $.comet.defaults.typeAttr = 'kind';
      const connection = $.comet.connect('/sub/defaults', mine);
      const seen = { options: connection.options, mine };
      connection.close();
      $.comet.defaults.typeAttr = 'type';
      return seen;
    });
    assert.deepEqual(result.mine, { timeout: 5000 });
    assert.equal(result.options.typeAttr, 'kind');
    assert.equal(result.options.timeout, 5000);
    assert.equal(result.options.dataAttr, 'data');
    assert.equal(result.options.requestMethod, 'GET');
    await page.context().close();
  });
});
