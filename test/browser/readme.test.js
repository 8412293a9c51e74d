'use strict';
// The README's quick-start example, unchanged except for where the two script files live,
// against real nginx + Nchan on every supported jQuery; the README's curl command publishes;
// and the README's nginx configuration, run as it stands.
const { it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { fixture, waitFor, assertNoPageErrors, JQUERY_VERSIONS } = require('./support.js');
const { startNchan } = require('../env/nchan.js');
const { startRedis } = require('../env/redis.js');

const README = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
const GENERATED = path.join(__dirname, 'pages', 'generated');

function codeBlock(language, containing) {
  const blocks = [...README.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);
  const block = blocks.find((text) => text.includes(containing));
  assert.ok(block, `README has a ${language} block containing ${containing}`);
  return block;
}

const env = fixture();
before(async () => {
  await env.start();
  fs.mkdirSync(GENERATED, { recursive: true });
});
after(env.stop);

for (const jq of JQUERY_VERSIONS) {
  it(`runs the README example unchanged on jQuery ${jq}.x, fed by the README's curl command`, async () => {
    const example = codeBlock('html', '$.comet.connect(');
    const scripts = [...example.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(scripts, ['jquery.js', 'dist/jquery.comet.js'], 'the example loads jQuery, then the library');
    const html = '<!doctype html>\n<meta charset="utf-8">\n' + example
      .replace('src="jquery.js"', `src="/vendor/jquery-${jq}/jquery.js"`)
      .replace('src="dist/jquery.comet.js"', 'src="/dist/jquery.comet.js"');
    fs.writeFileSync(path.join(GENERATED, `readme-${jq}.html`), html);

    // Each run starts from an empty channel.
    await fetch(`${env.server.origin}/pub/tweets`, { method: 'DELETE' });
    const page = await env.browser.newPage();
    page.errors = [];
    page.on('pageerror', (error) => page.errors.push(error.message));
    const logs = [];
    page.on('console', (message) => logs.push(message.text()));
    await page.goto(`${env.server.origin}/test/generated/readme-${jq}.html`);

    const curl = codeBlock('sh', 'curl').replace(/\\\n\s*/g, ' ').trim()
      .replace('http://127.0.0.1:8080', env.server.origin);
    await waitFor(page, () => window.$ && $.comet.connections().length === 1 && $.comet.connections()[0].state !== 'closed');
    await page.waitForTimeout(100);
    execFileSync('bash', ['-c', curl], { stdio: 'pipe' });
    await waitFor(page, () => document.querySelectorAll('#feed li').length === 1);
    assert.equal(await page.textContent('#feed li'), 'hello');
    assert.ok(logs.some((line) => line.startsWith('comet message feed')), logs.join('\n'));
    assert.ok(!logs.some((line) => line.startsWith('comet:')), 'onError was not called');
    assertNoPageErrors(page);
    await page.close();
  });
}

it("serves the README's nginx configuration as it stands: long-poll, multipart with more than 10 waiting, publish", async () => {
  // Only what running under a test prefix needs is added: foreground, pid and temp paths
  // inside the prefix, the worker's user, the port.
  const block = codeBlock('nginx', 'load_module');
  assert.ok(block.includes('listen 127.0.0.1:8080;'));
  const template = block
    .replace('events {}', '{{USER}}\ndaemon off;\npid {{PREFIX}}/nginx.pid;\nevents {}')
    .replace('http {', 'http {\n  client_body_temp_path {{PREFIX}}/body;\n  proxy_temp_path {{PREFIX}}/proxy;')
    .replace('listen 127.0.0.1:8080;', 'listen 127.0.0.1:{{PORT}};');
  const server = await startNchan({ template });
  try {
    const poll = fetch(`${server.origin}/activity?channel=readme`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await server.publish('readme', '{"type":"feed","data":{"text":"hello"}}');
    const answer = await poll;
    assert.equal(answer.status, 200);
    assert.equal(await answer.text(), '{"type":"feed","data":{"text":"hello"}}');
    assert.ok(answer.headers.get('etag') && answer.headers.get('last-modified'), 'the cursor headers');

    for (let i = 0; i < 15; i++) await server.publish('many', `{"type":"n","data":${i}}`);
    const multi = await fetch(`${server.origin}/multi/many`);
    assert.match(multi.headers.get('content-type'), /^multipart\/mixed; boundary=/);
    const body = await multi.text();
    assert.equal((body.match(/\{"type":"n","data":\d+\}/g) || []).length, 15, 'all 15 waiting messages in one response');
  } finally {
    await server.stop();
  }
});

it("runs the README's scale-out example on two instances that share the README's Redis configuration", async () => {
  const redis = await startRedis();
  // The README's nginx lines for Redis, pointed at the test's Redis, in the tests' configuration.
  const lines = codeBlock('nginx', 'nchan_redis_url').replace('redis://127.0.0.1:6379', redis.url);
  const template = fs.readFileSync(path.join(__dirname, '..', 'env', 'nginx.conf.template'), 'utf8').replace('{{REDIS}}', lines);
  const [a, b] = await Promise.all([startNchan({ template }), startNchan({ template })]);
  try {
    const example = codeBlock('js', 'push1.example.com')
      .replace('https://push1.example.com', a.origin).replace('https://push2.example.com', b.origin);
    const page = await env.open('/test/harness.html?jq=3');
    await page.evaluate((code) => {
      window.got = [];
      $(document).bind('comet.message', (event, data) => window.got.push(data));
      window.connection = new Function(`return ${code}`)();
    }, example.trim().replace(/;$/, ''));
    for (let i = 0; i < 50 && (await a.channelInfo('tweets')).subscribers !== 1; i++) await new Promise((r) => setTimeout(r, 20));
    await b.publish('tweets', '{"type":"feed","data":"via b"}');
    await waitFor(page, () => window.got.length === 1);
    await a.stop();
    await b.publish('tweets', '{"type":"feed","data":"after a"}');
    await waitFor(page, () => window.got.length === 2, undefined, 10000);
    assert.deepEqual(await page.evaluate(() => window.got), ['via b', 'after a']);
    assert.equal(await page.evaluate(() => window.connection.url), `${b.origin}/activity?channel=tweets`);
    await page.context().close();
  } finally {
    await Promise.all([a.stop(), b.stop()]);
    await redis.stop();
  }
});
