'use strict';
// A page served with a strict Content-Security-Policy (no 'unsafe-eval', no inline script):
// the library needs only 'wasm-unsafe-eval'; without that, it says why it cannot start. And
// where the module cannot start for want of DecompressionStream (an older browser), the same.
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { fixture, channel, waitFor, waitForSubscribers, assertNoPageErrors, engines } = require('./support.js');

const README = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');

for (const engine of engines()) {
  describe(engine, () => {
    const env = fixture({ engine });
    before(env.start);
    after(env.stop);
    cspTests(env);
  });
}

function cspTests(env) {
  it("works under script-src 'self' 'wasm-unsafe-eval' without 'unsafe-eval', with no violation", async () => {
    const name = channel('csp');
    const page = await env.open(`/csp/index.html#${name}`);
    // The policy is the README's, and it has no 'unsafe-eval'.
    const policy = await page.evaluate(async () => (await fetch(location.href)).headers.get('content-security-policy'));
    assert.ok(README.includes(`\nContent-Security-Policy: ${policy}\n`), `README shows ${policy}`);
    assert.ok(!policy.split(/[\s;]+/).includes("'unsafe-eval'"), policy);
    await waitForSubscribers(env, name, 1);
    await env.publish(name, JSON.stringify({ type: 'hello', data: 'under CSP' }));
    await waitFor(page, () => window.got.length === 1);
    assert.deepEqual(await page.evaluate(() => window.got), ['under CSP']);
    assert.deepEqual(await page.evaluate(() => window.violations), []);
    assert.deepEqual(await page.evaluate(() => window.failures), []);
    await assertNoPageErrors(page);
    await page.context().close();
  });

  it('reports through comet.error that the module cannot start when the policy forbids WebAssembly', async () => {
    const page = await env.open(`/csp-no-wasm/index.html#${channel('csp')}`);
    await waitFor(page, () => window.failures.length === 1);
    const [message] = await page.evaluate(() => window.failures);
    assert.match(message, /^jquery\.comet: the WebAssembly module could not start: /);
    const violations = await page.evaluate(() => window.violations);
    if (env.engine === 'webkit') {
      // WebKitGTK 2.50 fires no securitypolicyviolation for a blocked compile: it says so in
      // the exception, which the page is told.
      assert.deepEqual(violations, []);
      assert.match(message, /Refused to create a WebAssembly object because 'unsafe-eval' or 'wasm-unsafe-eval' is not an allowed source of script/);
    } else {
      assert.ok(violations.some((v) => /^script-src/.test(v)), 'the browser reported the blocked compile');
    }
    assert.equal(await page.evaluate(() => $.comet.connections()[0].state), 'closed');
    await page.context().close();
  });

  it('reports through onError and comet.error that the module cannot start in a browser without DecompressionStream', async () => {
    const page = await env.open(`/test/harness.html?jq=3&nodecompression=1`);
    await assert.rejects(page.evaluate(() => $.comet.ready), /no DecompressionStream/);
    await page.evaluate(() => {
      window.reported = [];
      $(document).bind('comet.error', (event, info) => window.reported.push(['event', info.status, info.message]));
      $.comet.connect('/activity?channel=never', {
        onError: (xhr, textStatus, thrown) => window.reported.push(['onError', xhr.status, String(thrown && thrown.message)]),
      });
    });
    await waitFor(page, () => window.reported.length === 2);
    const message = 'jquery.comet: the WebAssembly module could not start: this browser has no DecompressionStream ' +
      '(Chrome 80, Firefox 113 and Safari 16.4 have it)';
    const reported = await page.evaluate(() => window.reported);
    assert.deepEqual(reported.map(([where]) => where).sort(), ['event', 'onError']);
    for (const [, status, text] of reported) {
      assert.equal(status, 0);
      assert.ok(text.includes('no DecompressionStream'), text);
    }
    assert.ok(reported.some(([, , text]) => text === message), JSON.stringify(reported));
    assert.equal(await page.evaluate(() => $.comet.connections()[0].state), 'closed');
    await assertNoPageErrors(page);
    await page.context().close();
  });
}
