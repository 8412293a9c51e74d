'use strict';
// What a response body becomes: JSON by Content-Type or by its looks, text otherwise,
// malformed JSON reported (never delivered, polling goes on), and Nchan's multipart/mixed
// responses split into their parts, in order, each decoded by its own Content-Type; in every
// engine of COMET_ENGINES.
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { fixture, record, waitFor, channel, assertNoPageErrors, engines } = require('./support.js');

for (const engine of engines()) {
  describe(`${engine}: response bodies`, () => {
    const env = fixture({ engine });
    before(() => env.start());
    after(() => env.stop());

    it('delivers text as a string with no type, undeclared JSON as a value, and reports malformed JSON while polling goes on', async () => {
      const page = await env.harness('3');
      await record(page);
      const name = channel();
      await page.evaluate((url) => { $.comet.connect(url, { onError: window.onErrorRecorder }); }, `/sub/${name}`);
      await env.publish(name, 'just words', 'text/plain');
      await env.publish(name, '{"type":"feed","data":"form-typed json"}', 'application/x-www-form-urlencoded');
      await env.publish(name, '{"type":"feed","data":', 'application/json');
      await env.publish(name, '[not json but text', 'text/plain');
      await env.publish(name, '{"type":"feed","data":"after the bad one"}', 'application/json');
      await waitFor(page, () => window.seen.length === 4 && window.errors.length === 1);
      const result = await page.evaluate(() => ({ seen: window.seen, errors: window.errors, cometErrors: window.cometErrors }));
      assert.deepEqual(result.seen, [
        { data: 'just words', type: null },
        { data: 'form-typed json', type: 'feed' },
        { data: '[not json but text', type: null },
        { data: 'after the bad one', type: 'feed' },
      ]);
      assert.equal(result.errors.length, 1);
      const [error] = result.errors;
      assert.equal(error.status, 200);
      assert.equal(error.textStatus, 'parsererror');
      assert.ok(error.thrownIsError, 'errorThrown is an Error, as jQuery passes for parsererror');
      assert.match(error.thrown, /Malformed JSON at byte \d+/);
      assert.equal(error.responseText, '{"type":"feed","data":');
      assert.equal(error.contentType, 'application/json');
      assert.equal(result.cometErrors.length, 1);
      assert.equal(result.cometErrors[0].textStatus, 'parsererror');
      assert.match(result.cometErrors[0].message, /skipped and polling goes on/);
      await assertNoPageErrors(page);
      await page.context().close();
    });

    it('splits a multipart/mixed response into its parts, in order, each decoded by its own Content-Type', async () => {
      const page = await env.harness('3');
      await record(page);
      const name = channel();
      // Published before the page subscribes, so Nchan answers with all of them in one response.
      await env.publish(name, JSON.stringify({ type: 'feed', data: { n: 1 } }), 'application/json');
      await env.publish(name, 'plain part\r\nwith a line break and --dashes', 'text/plain');
      await env.publish(name, '{"type":"feed","data":{"n":', 'application/json');
      await env.publish(name, 'no content type', null);
      await env.publish(name, '{"type":"other","data":[3]}', 'application/vnd.api+json');
      // The Content-Type of each answer, as the page's XHR saw it once its headers were in (from the
      // page, not the driver's response events, which WebKit's lacks).
      await page.evaluate(() => {
        window.contentTypes = [];
        const send = XMLHttpRequest.prototype.send;
        XMLHttpRequest.prototype.send = function (...args) {
          this.addEventListener('readystatechange', () => {
            if (this.readyState === 2) window.contentTypes.push(this.getResponseHeader('Content-Type') || '');
          });
          return send.apply(this, args);
        };
      });
      await page.evaluate((url) => { $.comet.connect(url, { onError: window.onErrorRecorder }); }, `/multi/${name}`);
      await waitFor(page, () => window.seen.length === 4 && window.errors.length === 1);
      const result = await page.evaluate(() => ({ seen: window.seen, errors: window.errors, contentTypes: window.contentTypes }));
      const contentTypes = result.contentTypes;
      assert.ok(contentTypes[0] && contentTypes[0].startsWith('multipart/mixed'), `first response was ${contentTypes[0]}`);
      assert.deepEqual(result.seen, [
        { data: { n: 1 }, type: 'feed' },
        { data: 'plain part\r\nwith a line break and --dashes', type: null },
        { data: 'no content type', type: null },
        { data: [3], type: 'other' },
      ]);
      assert.equal(result.errors[0].textStatus, 'parsererror');
      assert.match(result.errors[0].thrown, /part 3/);
      // The connection goes on after the multipart response.
      await env.publish(name, JSON.stringify({ type: 'feed', data: 'later' }));
      await waitFor(page, () => window.seen.length === 5);
      assert.deepEqual(await page.evaluate(() => window.seen[4]), { data: 'later', type: 'feed' });
      await assertNoPageErrors(page);
      await page.context().close();
    });

    // Messages past kGatherAtMost bytes on average (src/core/body.hpp) are not gathered into one
    // array: the shim parses each where it stands in the body, decoded once when the body is
    // all ASCII and span by span when it is not. Every kind of value and type, both ways, and
    // the whole message for dataAttr: null.
    it('delivers large messages exactly, parsed where they stand, whether the body is ASCII or not', async () => {
      const page = await env.harness('3');
      await record(page);
      const ascii = channel();
      const wide = channel();
      const whole = channel();
      const asciiMessages = [
        { type: 'big', data: { text: 'x'.repeat(2000), list: [1, 2.5, null, true] } },
        { type: 7, data: 'y'.repeat(1500) },
        { type: true, data: ['z'.repeat(1000)] },
        { data: `untyped ${'w'.repeat(1000)}` },
      ];
      const wideMessages = [
        { type: 'é', data: `${'ü'.repeat(800)}\u{1F600}` },
        { type: 'plain', data: { line: `${'a'.repeat(700)}\u2028${'b'.repeat(700)}` } },
      ];
      const plainText = `plain ${'text '.repeat(300)}`;
      const wholeMessage = { kind: 'k', payload: 'p'.repeat(1200) };
      // Published before the page subscribes: one multipart response per channel.
      for (const message of asciiMessages) await env.publish(ascii, JSON.stringify(message), 'application/json');
      await env.publish(ascii, plainText, 'text/plain');
      for (const message of wideMessages) await env.publish(wide, JSON.stringify(message), 'application/json');
      await env.publish(whole, JSON.stringify(wholeMessage), 'application/json');
      await page.evaluate(([a, w, h]) => {
        $.comet.connect(a, { onError: window.onErrorRecorder });
        $.comet.connect(w, { onError: window.onErrorRecorder });
        $.comet.connect(h, { onError: window.onErrorRecorder, typeAttr: 'kind', dataAttr: null });
      }, [`/multi/${ascii}`, `/multi/${wide}`, `/multi/${whole}`]);
      await waitFor(page, () => window.seen.length === 8);
      const result = await page.evaluate(() => ({ seen: window.seen, errors: window.errors }));
      assert.deepEqual(result.errors, []);
      // Each channel's messages in its order; the three channels' interleave as they come.
      const expected = asciiMessages.map((m) => ({ data: m.data, type: m.type === undefined ? null : String(m.type) }));
      expected.push({ data: plainText, type: null });
      assert.deepEqual(result.seen.filter((m) => !['é', 'plain', 'k'].includes(m.type)), expected);
      assert.deepEqual(result.seen.filter((m) => m.type === 'é' || m.type === 'plain'),
                       wideMessages.map((m) => ({ data: m.data, type: m.type })));
      assert.deepEqual(result.seen.filter((m) => m.type === 'k'), [{ data: wholeMessage, type: 'k' }]);
      await assertNoPageErrors(page);
      await page.context().close();
    });

    it('parses a large batch run by run; a run that JSON.parse refuses as a whole is parsed message by message', async () => {
      const page = await env.harness('3');
      await record(page);
      // JSON.parse refuses any text with this marker, which the core accepts as JSON: the run
      // that holds such a message falls back to one JSON.parse per message, where only that
      // message is refused (reported) and the others are delivered. Runs are 256 messages:
      // 300 falls in an ASCII run (its values cut from the run's text), 600 in one with
      // non-ASCII bytes (its values decoded from a copy of the run's bytes).
      await page.evaluate(() => {
        const parse = JSON.parse;
        JSON.parse = function (text, ...rest) {
          if (typeof text === 'string' && text.includes('refuse-me')) throw new SyntaxError('refused by the test');
          return parse.call(this, text, ...rest);
        };
      });
      const name = channel();
      const messages = Array.from({ length: 700 }, (_, i) => ({ type: 'n', data: i }));
      messages[300] = { type: 'n', data: 'refuse-me' };
      messages[550] = { type: 'ü', data: 'ü550' };
      messages[600] = { type: 'n', data: 'refuse-me é' };
      // Published before the page subscribes: one multipart response, one batch.
      for (const message of messages) await env.publish(name, JSON.stringify(message), 'application/json');
      // The first message's handler makes the wasm memory grow (24 connections with 80 KB
      // addresses, closed at once): the batch's later runs must not read the memory of before.
      await page.evaluate((url) => {
        $(document).one('comet.message', () => {
          const grow = Array.from({ length: 24 }, (_, i) => $.comet.connect(`/sub/grow${i}?${'p'.repeat(80000)}`));
          grow.forEach((connection) => connection.close());
        });
        $.comet.connect(url, { onError: window.onErrorRecorder });
      }, `/multi/${name}`);
      await waitFor(page, () => window.seen.length === 698 && window.errors.length === 2, undefined, 15000);
      const result = await page.evaluate(() => ({ seen: window.seen, errors: window.errors }));
      assert.deepEqual(result.seen, messages.filter((m, i) => i !== 300 && i !== 600));
      assert.deepEqual(result.errors.map((e) => [e.status, e.textStatus, e.thrown, e.responseText]), [
        [200, 'parsererror', 'refused by the test', '"refuse-me"'],
        [200, 'parsererror', 'refused by the test', '"refuse-me é"'],
      ]);
      await assertNoPageErrors(page);
      await page.context().close();
    });

    for (const location of ['sub', 'multi']) {
      it(`delivers 300 rapidly published messages exactly once and in order (${location})`, async () => {
        const page = await env.harness('3');
        await record(page);
        const name = channel();
        await page.evaluate((url) => { $.comet.connect(url, { onError: window.onErrorRecorder }); }, `/${location}/${name}`);
        for (let i = 0; i < 300; i++) await env.publish(name, JSON.stringify({ type: 'n', data: i }));
        await waitFor(page, () => window.seen.length >= 300, undefined, 15000);
        const result = await page.evaluate(() => ({ data: window.seen.map((m) => m.data), errors: window.errors }));
        assert.deepEqual(result.data, Array.from({ length: 300 }, (_, i) => i));
        assert.deepEqual(result.errors, []);
        await assertNoPageErrors(page);
        await page.context().close();
      });
    }
  });
}
