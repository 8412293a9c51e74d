'use strict';
// The README's code, run as written against real nginx + Nchan:
// - the quick start's page, unchanged, on every supported jQuery, served by the README's whole
//   nginx.conf (started with the README's own command, as a normal user) and fed by the
//   README's curl command;
// - what "Server: nginx + Nchan" says of that file: who may publish and poll, where a new page
//   starts (with the numbers the README gives), resuming with a cursor;
// - the conf.d form, in a minimal http {} that loads Nchan as Debian's nginx.conf does;
// - the cross-origin push server, with an authorizer of the test's own;
// - the multiplexed location, added to the whole file's server block;
// - the scale-out example on two instances that share the README's Redis lines.
// What the tests change in a block: its ports (8090, 8091, 3000, and the origins that name
// them) become free ones. The whole file runs alone, with the README's command; the conf.d and
// push-server blocks run inside a minimal Debian-like http {} (STOCK_LIKE), the multiplexed
// location inside the whole file's server block.
const { processGroupAlive, asNobody, NOBODY } = require('../env/processes.js');
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { fixture, waitFor, waitForSubscribers, channel, assertNoPageErrors, JQUERY_VERSIONS, engines, launchBrowser } = require('./support.js');
const { startNchan, freePort, ROOT } = require('../env/nchan.js');
const { startRedis } = require('../env/redis.js');

const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const EVIL = 'http://evil.example';

function codeBlock(language, containing) {
  const blocks = [...README.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);
  const block = blocks.find((text) => text.includes(containing));
  assert.ok(block, `README has a ${language} block containing ${containing}`);
  return block;
}

const WHOLE_FILE = codeBlock('nginx', 'load_module');
const CONF_D = codeBlock('nginx', '/etc/nginx/conf.d/comet.conf');
const PUSH_SERVER = codeBlock('nginx', 'nchan_authorize_request');
const MULTIPLEX = codeBlock('nginx', 'nchan_channel_id_split_delimiter');

// The quick start's page as a file: the README's block with a doctype.
function quickStartPage() {
  const example = codeBlock('html', '$.comet.connect(');
  const scripts = [...example.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(scripts, ['jquery.js', 'dist/jquery.comet.js'], 'the example loads jQuery, then the library');
  return '<!doctype html>\n<meta charset="utf-8">\n' + example;
}

// One HTTP exchange on a connection of its own, from `localAddress` when given.
function request(method, url, { headers = {}, body, localAddress } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false, localAddress }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function publish(server, name, message) {
  const answer = await request('POST', `${server.origin}/pub/${name}`, { headers: { 'Content-Type': 'application/json' }, body: message });
  assert.ok(answer.status >= 200 && answer.status < 300, `publish to ${name}: HTTP ${answer.status}`);
}

async function until(condition, what, timeout = 10000) {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeout) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// --- The whole nginx.conf, run the way the README says ----------------------------------------

// The command in the file's header comment.
function startCommand() {
  const line = WHOLE_FILE.split('\n').find((text) => /^#\s+mkdir .*nginx -p/.test(text));
  assert.ok(line, "the whole file's header says how to start it");
  return line.replace(/^#\s+/, '');
}

// Writes `config` as nginx.conf into a directory of its own, with a page in public/ (the quick
// start's index.html, test.html with only the two scripts, jquery.js, dist/jquery.comet.js),
// and runs the README's command there with a normal user's PATH. When the tests run as root it
// runs as nobody, with the directory nobody's: the file must work without root. The only
// change to the file: its port, 8090 (also in the allowed origin), becomes a free one.
async function startWholeFile(config) {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'comet-readme-'));
  fs.chmodSync(dir, 0o755);
  fs.writeFileSync(path.join(dir, 'nginx.conf'), config.replace(/8090/g, String(port)));
  const pub = path.join(dir, 'public');
  fs.mkdirSync(path.join(pub, 'dist'), { recursive: true });
  fs.writeFileSync(path.join(pub, 'index.html'), quickStartPage());
  fs.writeFileSync(path.join(pub, 'test.html'), '<!doctype html>\n<meta charset="utf-8">\n' +
    '<script src="jquery.js"></script>\n<script src="dist/jquery.comet.js"></script>\n');
  fs.copyFileSync(path.join(ROOT, 'dist', 'jquery.comet.js'), path.join(pub, 'dist', 'jquery.comet.js'));
  const server = { port, dir, origin: `http://127.0.0.1:${port}` };
  server.useJQuery = (jq) => fs.copyFileSync(path.join(ROOT, 'node_modules', `jquery${jq}`, 'dist', 'jquery.js'), path.join(pub, 'jquery.js'));
  server.useJQuery('3');
  const asRoot = process.getuid() === 0;
  if (asRoot) {
    for (const entry of [dir, ...fs.readdirSync(dir, { recursive: true }).map((name) => path.join(dir, name))]) fs.chownSync(entry, NOBODY, NOBODY);
  }
  const argv = asRoot ? asNobody(['bash', '-c', startCommand()]) : ['bash', '-c', startCommand()];
  const child = spawn(argv[0], argv.slice(1), {
    cwd: dir, detached: true, stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: dir },
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const kill = (signal) => { try { process.kill(-child.pid, signal); } catch (error) { /* gone */ } };
  const killOnExit = () => kill('SIGKILL');
  process.on('exit', killOnExit);
  server.stop = async () => {
    kill('SIGTERM');
    const deadline = Date.now() + 3000;
    while (processGroupAlive(child.pid)) {
      if (Date.now() > deadline) kill('SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    process.removeListener('exit', killOnExit);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const listening = () => new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => { socket.destroy(); resolve(false); });
  });
  // nginx listens first, then writes its pid file.
  const pidFile = path.join(dir, 'run', 'nginx.pid');
  try {
    await until(async () => {
      if (child.exitCode !== null) throw new Error(`the README's command exited with ${child.exitCode}: ${stderr}`);
      return (await listening()) && fs.existsSync(pidFile) && /^\d+\n/.test(fs.readFileSync(pidFile, 'utf8'));
    }, `nginx to listen on ${port}: ${stderr}`);
  } catch (error) {
    await server.stop();
    throw error;
  }
  server.masterPid = Number(fs.readFileSync(pidFile, 'utf8'));
  server.channelInfo = async (name) => {
    const answer = await request('GET', `${server.origin}/pub/${name}`, { headers: { Accept: 'text/json' } });
    return answer.status === 404 ? { messages: 0, subscribers: 0 } : JSON.parse(answer.text);
  };
  return server;
}

// The whole file without the lines that keep publishing and polling in bounds and new pages
// at the newest message: what they prevent, measured.
function withoutGuards(config) {
  const lines = config.split('\n');
  const kept = lines.filter((line) => !/^\s*(allow 127\.0\.0\.1;|deny all;|if \(\$page_refused\)|nchan_subscriber_first_message newest;)/.test(line));
  assert.equal(lines.length - kept.length, 4, 'the four lines are in the README');
  return kept.join('\n');
}

// The whole file with Nchan's own origin check in place of the map's.
function withNchanOriginCheck(config) {
  const changed = config.replace(/^( *)if \(\$page_refused\).*$/m, '$1nchan_access_control_allow_origin "http://127.0.0.1:8090";');
  assert.notEqual(changed, config);
  return changed;
}

// Debian's stock nginx.conf reduced to what a conf.d block needs: it loads Nchan (Debian's from
// /etc/nginx/modules-enabled/, whose relative path needs the stock prefix; here the whole
// file's load_module line) and includes conf.d inside http {}. The rest is what a test prefix
// and a root-run test need (test/env/nchan.js fills in the placeholders).
const STOCK_LIKE = `load_module /usr/lib/nginx/modules/ngx_nchan_module.so;
{{USER}}
daemon off;
pid {{PREFIX}}/nginx.pid;
error_log {{PREFIX}}/error.log;
events {}
http {
  client_body_temp_path {{PREFIX}}/body;
  proxy_temp_path {{PREFIX}}/proxy;
  fastcgi_temp_path {{PREFIX}}/fastcgi;
  uwsgi_temp_path {{PREFIX}}/uwsgi;
  scgi_temp_path {{PREFIX}}/scgi;
  access_log off;
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  {{CONF_D}}
}
`;

// What the README says of its server block, over plain HTTP: publishing from this machine
// only, origins other than `allowed` refused, /activity starting new subscribers at the next
// message, /replay giving what is buffered in one multipart response.
async function checkServerBlock(server, allowed) {
  const name = channel('readme');
  await publish(server, name, '"first"');
  const stranger = await request('POST', `${server.origin}/pub/${name}`, { body: '"from elsewhere"', localAddress: '127.0.0.2' });
  assert.equal(stranger.status, 403, 'another machine (here 127.0.0.2) may not publish');
  const evilPost = await request('POST', `${server.origin}/pub/${name}`, { headers: { Origin: EVIL }, body: '"evil"' });
  assert.equal(evilPost.status, 403, 'a POST with a foreign Origin is refused');
  assert.equal(evilPost.headers['access-control-allow-origin'], undefined, 'with no CORS headers');
  assert.equal((await server.channelInfo(name)).messages, 1, 'only the first message was published');

  const evilPoll = await request('GET', `${server.origin}/replay?channel=${name}`, { headers: { Origin: EVIL } });
  assert.equal(evilPoll.status, 403, 'a poll with a foreign Origin is refused');
  assert.equal(evilPoll.headers['access-control-allow-origin'], undefined, 'with no CORS headers');
  assert.ok(!evilPoll.text.includes('first'), 'and gets no message');
  const ownPoll = await request('GET', `${server.origin}/replay?channel=${name}`, { headers: { Origin: allowed } });
  assert.equal(ownPoll.status, 200);
  assert.equal(ownPoll.text, '"first"');
  assert.equal(ownPoll.headers['access-control-allow-origin'], allowed);
  assert.equal(ownPoll.headers['access-control-allow-credentials'], 'true');

  // /activity: a poll without a cursor waits for the next message, past the buffered one.
  const live = request('GET', `${server.origin}/activity?channel=${name}`);
  await waitForSubscribers(server, name, 1);
  await publish(server, name, '"second"');
  const answer = await live;
  assert.equal(answer.status, 200);
  assert.equal(answer.text, '"second"');
  assert.ok(answer.headers.etag && answer.headers['last-modified'], 'the cursor headers');

  // /replay: everything buffered (more than Nchan's default of 10) in one response.
  for (let i = 0; i < 15; i++) await publish(server, name, `{"type":"n","data":${i}}`);
  const replay = await request('GET', `${server.origin}/replay?channel=${name}`);
  assert.match(replay.headers['content-type'], /^multipart\/mixed; boundary=/);
  const parts = replay.text.match(/"first"|"second"|\{"type":"n","data":\d+\}/g);
  assert.deepEqual(parts, ['"first"', '"second"', ...Array.from({ length: 15 }, (_, i) => `{"type":"n","data":${i}}`)]);
}

// A page of the server's (jQuery and the library only) that records what it receives and
// counts its requests to `pathname`.
async function openTestPage(server, pathname) {
  const context = await env.browser.newContext();
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (error) => page.errors.push(error.message));
  page.requests = [];
  page.responses = [];
  page.on('request', (req) => { if (new URL(req.url()).pathname === pathname) page.requests.push(req.headers()); });
  page.on('response', (res) => { if (new URL(res.url()).pathname === pathname) page.responses.push(res.headers()); });
  await page.goto(`${server.origin}/test.html`);
  await page.evaluate(() => {
    window.seen = [];
    window.errors = [];
    $(document).bind('comet.message', (event, data) => { window.seen.push(data); });
    $(document).bind('comet.error', (event, info) => { window.errors.push(info.message); });
    // Resolves when `condition` holds, checked every 5 ms; rejects after 20 s.
    window.until = (condition) => new Promise((resolve, reject) => {
      const deadline = Date.now() + 20000;
      const check = () => {
        if (condition()) resolve();
        else if (Date.now() > deadline) reject(new Error(`timed out: ${window.seen.length} messages, errors ${window.errors}`));
        else setTimeout(check, 5);
      };
      check();
    });
    return $.comet.ready;
  });
  return page;
}

const env = fixture();
let whole;
let unguarded;
let nchanChecked;
before(async () => {
  const started = await Promise.allSettled([startWholeFile(WHOLE_FILE), startWholeFile(withoutGuards(WHOLE_FILE)),
    startWholeFile(withNchanOriginCheck(WHOLE_FILE)), env.start()]);
  [whole, unguarded, nchanChecked] = started.map((result) => result.value);
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
});
after(async () => {
  await Promise.all([whole && whole.stop(), unguarded && unguarded.stop(), nchanChecked && nchanChecked.stop(), env.stop()]);
});

// In every engine (the fixture's Chromium, the others launched here). In WebKit the page's
// errors and console are those from its load on (the quick start's page has no recorder of its
// own: test/browser/webkit.js runs one after the load).
for (const engine of engines()) {
  describe(`${engine}: the quick start`, () => {
    let browser = null;
    before(async () => { browser = engine === 'chromium' ? env.browser : await launchBrowser(engine); });
    after(async () => { if (browser && browser !== env.browser) await browser.close(); });
    for (const jq of JQUERY_VERSIONS) quickStart(() => browser, jq);
  });
}

function quickStart(browser, jq) {
  it(`runs the quick start unchanged on jQuery ${jq}.x, served by the README's nginx.conf, fed by the README's curl command`, async () => {
    whole.useJQuery(jq);
    const context = await browser().newContext();
    const page = await context.newPage();
    page.errors = [];
    page.on('pageerror', (error) => page.errors.push(error.message));
    const logs = [];
    page.on('console', (message) => logs.push(message.text()));
    await page.goto(`${whole.origin}/`);
    // /activity starts a new page at the next message: publish once it waits.
    await waitForSubscribers(whole, 'tweets', 1);
    // The curl command's address (8090, the whole file's; not 8080, npm start's) becomes this one.
    const curl = codeBlock('sh', 'curl').replace(/\\\n\s*/g, ' ').trim();
    assert.match(curl, /http:\/\/127\.0\.0\.1:8090\/pub\/tweets/);
    execFileSync('bash', ['-c', curl.replace('http://127.0.0.1:8090', whole.origin)], { stdio: 'pipe' });
    await waitFor(page, () => document.querySelectorAll('#feed li').length === 1);
    assert.equal(await page.textContent('#feed li'), 'hello');
    assert.ok(logs.some((line) => line.startsWith('comet message feed')), logs.join('\n'));
    assert.ok(!logs.some((line) => line.startsWith('comet:')), 'onError was not called');
    await assertNoPageErrors(page);
    await context.close();
    await waitForSubscribers(whole, 'tweets', 0);
  });
}

it("runs the README's whole nginx.conf with its own command as a normal user: the page, publish from this machine only, foreign origins refused", async () => {
  const status = fs.readFileSync(`/proc/${whole.masterPid}/status`, 'utf8');
  assert.notEqual(status.match(/^Uid:\s+(\d+)/m)[1], '0', 'nginx runs as a normal user');
  const page = await request('GET', `${whole.origin}/`);
  assert.equal(page.status, 200);
  assert.ok(page.text.includes('$.comet.connect('), 'location / serves the page from public/');
  await checkServerBlock(whole, whole.origin);
});

it("without the README's allow/deny and origin lines Nchan takes a POST from anywhere, with any Origin reflected; its own origin check names the refused origin", async () => {
  const name = channel('open');
  const answer = await request('POST', `${unguarded.origin}/pub/${name}`, {
    headers: { Origin: EVIL }, body: '"evil"', localAddress: '127.0.0.2',
  });
  assert.ok(answer.status >= 200 && answer.status < 300, `published: HTTP ${answer.status}`);
  assert.equal(answer.headers['access-control-allow-origin'], EVIL);
  assert.equal(answer.headers['access-control-allow-credentials'], 'true');
  assert.equal((await unguarded.channelInfo(name)).messages, 1);

  const refused = await request('POST', `${nchanChecked.origin}/pub/${name}`, { headers: { Origin: EVIL }, body: '"evil"' });
  assert.equal(refused.status, 403);
  assert.equal(refused.headers['access-control-allow-origin'], EVIL, "Nchan's 403 names the refused origin");
});

it('a new page on /activity gets none of 300 buffered messages, then the next; /replay catches up in one response; without newest, 301 requests', async (t) => {
  const old = Array.from({ length: 300 }, (_, i) => i);
  const fill = async (server, name) => {
    for (const i of old) await publish(server, name, JSON.stringify({ type: 'old', data: i }));
  };
  const name = channel('backlog');
  await fill(whole, name);

  const live = await openTestPage(whole, '/activity');
  await live.evaluate((url) => { window.connection = $.comet.connect(url); }, `/activity?channel=${name}`);
  await waitForSubscribers(whole, name, 1);
  assert.deepEqual(await live.evaluate(() => window.seen), [], 'none of the buffered messages');
  await publish(whole, name, JSON.stringify({ type: 'new', data: 300 }));
  await waitFor(live, () => window.seen.length === 1);
  await until(() => live.requests.length === 2, 'the next poll');
  await waitForSubscribers(whole, name, 1);
  assert.deepEqual(await live.evaluate(() => window.seen), [300]);
  assert.equal(live.requests.length, 2);
  await live.context().close();
  await waitForSubscribers(whole, name, 0);

  const replay = await openTestPage(whole, '/replay');
  const replayMs = await replay.evaluate(async (url) => {
    const started = performance.now();
    window.connection = $.comet.connect(url);
    await window.until(() => window.seen.length >= 301);
    return performance.now() - started;
  }, `/replay?channel=${name}`);
  await until(() => replay.requests.length === 2, 'the poll after the catch-up');
  await waitForSubscribers(whole, name, 1);
  assert.deepEqual(await replay.evaluate(() => window.seen), [...old, 300]);
  assert.equal(replay.requests.length, 2, 'one response with all 301, then the poll that waits');
  assert.match(replay.responses[0]['content-type'], /^multipart\/mixed/);
  await replay.context().close();

  const unnamed = channel('backlog');
  await fill(unguarded, unnamed);
  const oldest = await openTestPage(unguarded, '/activity');
  const oldestMs = await oldest.evaluate(async (url) => {
    const started = performance.now();
    window.connection = $.comet.connect(url);
    await window.until(() => window.seen.length >= 300);
    return performance.now() - started;
  }, `/activity?channel=${unnamed}`);
  await until(() => oldest.requests.length === 301, '301 polls');
  await waitForSubscribers(unguarded, unnamed, 1);
  assert.deepEqual(await oldest.evaluate(() => window.seen), old);
  assert.equal(oldest.requests.length, 301, 'one request per buffered message, and the one that waits');
  await oldest.context().close();
  t.diagnostic(`300 buffered: /replay ${replayMs.toFixed(0)} ms in 2 requests; /activity without newest ${oldestMs.toFixed(0)} ms in 301 requests`);
  for (const page of [live, replay, oldest]) await assertNoPageErrors(page);
});

it('a page that resumes with a saved cursor on /activity still gets what it missed', async () => {
  const name = channel('resume');
  const page = await openTestPage(whole, '/activity');
  const url = `/activity?channel=${name}`;
  await page.evaluate((u) => { window.connection = $.comet.connect(u, { resume: 'session' }); }, url);
  await waitForSubscribers(whole, name, 1);
  await publish(whole, name, '"a"');
  await waitFor(page, () => window.seen.length === 1);
  await page.evaluate(() => window.connection.close());
  await waitForSubscribers(whole, name, 0);
  await publish(whole, name, '"b"');
  await publish(whole, name, '"c"');
  const before = page.requests.length;
  await page.evaluate((u) => { window.connection = $.comet.connect(u, { resume: 'session' }); }, url);
  await waitFor(page, () => window.seen.length === 3);
  assert.deepEqual(await page.evaluate(() => window.seen), ['a', 'b', 'c']);
  assert.ok(page.requests[before]['if-none-match'], 'the first poll after resuming carries the cursor');
  await assertNoPageErrors(page);
  await page.context().close();
});

it("runs the README's conf.d block inside a minimal Debian-like http {}; a second load_module there fails as the README says", async () => {
  // Debian's stock nginx.conf loads Nchan from modules-enabled: the whole file's load_module
  // line after it is refused. (nginx -t with the stock prefix, where those relative paths hold.)
  const doubled = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'comet-readme-')), 'nginx.conf');
  fs.writeFileSync(doubled, `include /etc/nginx/modules-enabled/*.conf;\n${WHOLE_FILE}`);
  const test = spawnSync('/usr/sbin/nginx', ['-t', '-c', doubled], { encoding: 'utf8' });
  fs.rmSync(path.dirname(doubled), { recursive: true, force: true });
  assert.notEqual(test.status, 0);
  assert.match(test.stderr, /module "ngx_nchan_module" is already loaded/);

  assert.ok(!CONF_D.includes('load_module'), 'the conf.d block loads no module');
  // Its port, 8090 (also in the allowed origin), becomes the test's.
  const server = await startNchan({ template: STOCK_LIKE.replace('{{CONF_D}}', CONF_D.replace(/8090/g, '{{PORT}}')) });
  try {
    await checkServerBlock(server, server.origin);
  } finally {
    await server.stop();
  }
});

it("runs the README's cross-origin push server: nginx answers the preflight with Authorization allowed, the application authorizes each poll", async () => {
  const asked = [];
  const authorizer = http.createServer((req, res) => {
    asked.push({ url: req.url, headers: req.headers });
    if (req.headers.authorization === 'Bearer good') {
      res.writeHead(204);
      res.end();
    } else {
      res.writeHead(403, { 'Content-Type': 'text/plain', 'WWW-Authenticate': 'Bearer' });
      res.end('no such token\n');
    }
  });
  await new Promise((resolve) => authorizer.listen(0, '127.0.0.1', resolve));
  // Ports: the push server's 8091 becomes the test's, the pages' origin (8090) the whole
  // file's, and the application's 3000 the authorizer's. Inside the same Debian-like http {}.
  const block = PUSH_SERVER.replace(/8091/g, '{{PORT}}').replace(/8090/g, String(whole.port))
    .replace('127.0.0.1:3000', `127.0.0.1:${authorizer.address().port}`);
  const push = await startNchan({ template: STOCK_LIKE.replace('{{CONF_D}}', block) });
  try {
    const name = channel('private');
    const url = `${push.origin}/private?channel=${name}`;
    const preflight = await request('OPTIONS', url, { headers: {
      Origin: whole.origin, 'Access-Control-Request-Method': 'GET',
      'Access-Control-Request-Headers': 'authorization,if-modified-since,if-none-match',
    } });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers['access-control-allow-origin'], whole.origin);
    assert.equal(preflight.headers['access-control-allow-credentials'], 'true');
    assert.match(preflight.headers['access-control-allow-headers'], /\bAuthorization\b/);
    assert.equal(preflight.headers['access-control-max-age'], '600');
    const evilPreflight = await request('OPTIONS', url, { headers: { Origin: EVIL, 'Access-Control-Request-Method': 'GET' } });
    assert.equal(evilPreflight.status, 403, "a foreign origin's preflight is refused");
    assert.equal(evilPreflight.headers['access-control-allow-origin'], undefined);
    const evilPoll = await request('GET', url, { headers: { Origin: EVIL, Authorization: 'Bearer good' } });
    assert.equal(evilPoll.status, 403, 'and its poll, even with a good token');
    assert.equal(evilPoll.headers['access-control-allow-origin'], undefined);

    // In a browser: a page of the whole file's origin connects to the push server with
    // Authorization and cookies; the second poll adds the cursor headers.
    const page = await openTestPage(whole, '/private');
    await page.evaluate((u) => {
      document.cookie = 'session=s1';
      window.refusals = [];
      window.connection = $.comet.connect(u, { headers: { Authorization: 'Bearer good' }, withCredentials: true });
    }, url);
    await waitForSubscribers(push, name, 1);
    await push.publish(name, '{"type":"private","data":1}');
    await waitFor(page, () => window.seen.length === 1);
    await until(() => page.requests.length === 2, 'the second poll');
    await waitForSubscribers(push, name, 1);
    await push.publish(name, '{"type":"private","data":2}');
    await waitFor(page, () => window.seen.length === 2);
    assert.deepEqual(await page.evaluate(() => window.seen), [1, 2]);
    assert.deepEqual(await page.evaluate(() => window.errors), []);
    assert.equal(page.requests[1].authorization, 'Bearer good');
    assert.ok(page.requests[1]['if-none-match'], 'the second poll carries the cursor headers');
    await page.evaluate(() => window.connection.close());

    await page.evaluate((u) => {
      window.connection = $.comet.connect(u, {
        headers: { Authorization: 'Bearer bad' }, withCredentials: true,
        onError: (xhr) => window.refusals.push({ status: xhr.status, text: xhr.responseText }),
      });
    }, url);
    await waitFor(page, () => window.refusals.length === 1);
    await page.evaluate(() => window.connection.close());
    assert.deepEqual(await page.evaluate(() => window.refusals), [{ status: 403, text: 'no such token\n' }],
      "the application's answer reaches the page's onError");
    const refused = await request('GET', url, { headers: { Origin: whole.origin, Authorization: 'Bearer bad' } });
    assert.equal(refused.headers['www-authenticate'], 'Bearer', "with the application's headers");
    assert.equal(refused.headers['access-control-allow-origin'], whole.origin, "and Nchan's CORS headers");
    await assertNoPageErrors(page);
    await page.context().close();

    const polls = asked.filter((entry) => entry.headers.authorization === 'Bearer good');
    assert.ok(polls.length >= 2, 'the application was asked about every poll');
    for (const entry of polls) {
      assert.equal(entry.headers['x-channel-id'], name);
      assert.equal(entry.headers.cookie, 'session=s1');
    }
  } finally {
    await push.stop();
    await new Promise((resolve) => authorizer.close(resolve));
  }
});

it("runs the README's multiplexed location: one poll for two channels, the compound Etag sent back as it came", async (t) => {
  // The block goes into the whole file's server block, as the README says.
  const config = WHOLE_FILE.replace(/\n {2}\}\n\}\s*$/, `\n${MULTIPLEX.trim().replace(/^/gm, '    ')}\n  }\n}\n`);
  assert.notEqual(config, WHOLE_FILE);
  const server = await startWholeFile(config);
  try {
    const [a, b] = [channel('alerts'), channel('tweets')];
    const page = await openTestPage(server, '/activity-multi');
    await page.evaluate((url) => { window.connection = $.comet.connect(url); }, `/activity-multi?channels=${a},${b}`);
    await waitForSubscribers(server, a, 1);
    await waitForSubscribers(server, b, 1);
    const sent = [[a, 'a1'], [b, 'b1'], [a, 'a2'], [b, 'b2']];
    for (const [n, [target, text]] of sent.entries()) {
      await publish(server, target, JSON.stringify({ type: 'feed', data: text }));
      await waitFor(page, (count) => window.seen.length === count, n + 1);
    }
    await publish(server, a, '{"type":"feed","data":"a3"}');
    await publish(server, b, '{"type":"feed","data":"b3"}');
    await waitFor(page, () => window.seen.length === 6);
    assert.deepEqual(await page.evaluate(() => window.seen), ['a1', 'b1', 'a2', 'b2', 'a3', 'b3']);
    await until(() => page.requests.length === 7, 'the poll after the sixth message');
    const etags = page.responses.map((headers) => headers.etag);
    assert.ok(etags.every((etag) => etag && etag.includes(',')), `compound Etags: ${etags.join(' ')}`);
    etags.forEach((etag, i) => assert.equal(page.requests[i + 1]['if-none-match'], etag, 'each Etag goes back exactly'));
    t.diagnostic(`Etags: ${etags.join(' ')}`);
    await assertNoPageErrors(page);
    await page.context().close();
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
    await waitForSubscribers(a, 'tweets', 1);
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
