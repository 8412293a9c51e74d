'use strict';
// The demo's server (web/demo-server.js, nginx + Nchan behind it) and `npm start`'s script
// (web/serve.js), without a browser: no request, however malformed, stops it; it serves the
// pages' files and not its own sources; it answers 502 while nginx is gone; nginx's worker
// runs as nobody when started as root; and SIGINT to the process group (the terminal's
// Ctrl-C) stops everything cleanly, nginx and its temporary directory included.
const { it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { asNobody, NOBODY } = require('../env/processes.js');
const { startDemo } = require('../../web/demo-server.js');
const { freePort, ROOT } = require('../env/nchan.js');

let demo;
let port;
const userWarnings = [];  // nchan.js's CometNginxUser warnings
before(async () => {
  process.on('warning', (warning) => { if (warning.name === 'CometNginxUser') userWarnings.push(warning.message); });
  demo = await startDemo();
  port = Number(new URL(demo.origin).port);
});
after(async () => {
  if (demo) await demo.stop();
});

// Sends `bytes` as they are on a connection of its own (and with `end`, closes its side
// after them). Resolves with the answer's status (a number), or null when the server closed
// the connection without an answer; neither within 5 s fails.
function raw(bytes, { end = false } = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`neither an answer nor a close within 5 s for ${JSON.stringify(String(bytes).slice(0, 60))}`));
    }, 5000);
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      const match = /^HTTP\/1\.[01] (\d{3}) /.exec(got);
      resolve(match ? Number(match[1]) : null);
    };
    socket.on('connect', () => (end ? socket.end(bytes) : socket.write(bytes)));
    socket.on('data', (chunk) => {
      got += chunk.toString('latin1');
      if (got.includes('\r\n')) done();
    });
    socket.on('close', done);
    socket.on('error', () => {});  // a reset: 'close' follows
  });
}

const get = (target) => raw(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);

// One exchange on a connection of its own: { status, text }.
function exchange(method, url, body) {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method, agent: false, headers: body ? { 'Content-Type': 'application/json' } : {} }, (response) => {
      let text = '';
      response.on('data', (chunk) => { text += chunk; });
      response.on('end', () => resolve({ status: response.statusCode, text }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

// The demo works: its page, and a message published through it reaches a poll through it.
async function assertServes(origin) {
  const page = await exchange('GET', `${origin}/`);
  assert.equal(page.status, 200);
  assert.match(page.text, /<title>jquery\.comet demo<\/title>/);
  const name = `demo-server-${crypto.randomBytes(4).toString('hex')}`;
  const published = await exchange('POST', `${origin}/pub/${name}`, JSON.stringify({ type: 'chat', data: { text: 'still here' } }));
  assert.ok(published.status === 201 || published.status === 202, `published: ${published.status}`);
  const poll = await exchange('GET', `${origin}/activity?channel=${name}`);
  assert.equal(poll.status, 200);
  assert.deepEqual(JSON.parse(poll.text), { type: 'chat', data: { text: 'still here' } });
}

it('answers malformed requests (or closes them) and goes on serving', async () => {
  const host = 'Host: 127.0.0.1\r\n';
  const cases = [
    // [what, bytes, the answers allowed (null: closed without one), whether the client closes its side]
    ['a target new URL(target, base) reads as a host with a bad port', `GET //x:99999/ HTTP/1.1\r\n${host}\r\n`, [404]],
    ['an absolute target with a bad port', `GET http://x:99999/activity HTTP/1.1\r\n${host}\r\n`, [400]],
    ['an absolute target that does not parse', `GET http://[::1 HTTP/1.1\r\n${host}\r\n`, [400]],
    ['an asterisk target', `OPTIONS * HTTP/1.1\r\n${host}\r\n`, [400]],
    ['absurd percent-encoding', `GET /%zz%%%ff%00?channel=%zz HTTP/1.1\r\n${host}\r\n`, [400, 404]],
    ['absurd percent-encoding on the misbehave URL', `GET /demo/misbehave?seconds=%zz HTTP/1.1\r\n${host}\r\n`, [404]],
    ['a header without a colon', `GET / HTTP/1.1\r\n${host}NoColonHere\r\n\r\n`, [400]],
    ['a header block of 100 KB', `GET / HTTP/1.1\r\n${host}X-Big: ${'a'.repeat(100000)}\r\n\r\n`, [431, null]],
    ['a request line that is garbage', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 garbage\r\n\r\n', [400]],
    ['a path that climbs out of the root', `GET /../../../etc/passwd HTTP/1.1\r\n${host}\r\n`, [400]],
    ['a chunked body that is not chunked', `POST /pub/x HTTP/1.1\r\n${host}Transfer-Encoding: chunked\r\n\r\nzz\r\n\r\n`, [400, null]],
    ['Content-Length and Transfer-Encoding both', `POST /pub/x HTTP/1.1\r\n${host}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, [400]],
    ['a connection closed halfway through a request line', 'GET /activity?chan', [400, null], true],
  ];
  for (const [what, bytes, allowed, end] of cases) {
    const status = await raw(bytes, { end });
    assert.ok(allowed.includes(status), `${what}: got ${status}, expected one of ${allowed}`);
  }
  await assertServes(demo.origin);
});

it("serves the pages' files, not the demo server's sources or the npm packages around them", async () => {
  for (const target of ['/demo-server.js', '/serve.js', '/screenshot.png', '/vendor/nchan/package.json', '/vendor/nchan/README.md',
    '/vendor/nchan/', '/vendor/jquery-4/package.json', '/vendor/jquery-3/', '/dist/../web/serve.js', '/x/../demo-server.js',
    '/%64emo-server.js', '/index.html/../serve.js', '/web/serve.js', '/package.json']) {
    assert.equal(await get(target), 404, target);
  }
  // nginx refuses a path that climbs above the root outright.
  assert.equal(await get('/test/../../package.json'), 400);
  for (const target of ['/', '/index.html', '/demo.js', '/demo.css', '/favicon.svg', '/vendor/nchan/NchanSubscriber.js',
    '/vendor/jquery-1/jquery.js', '/vendor/jquery-3/jquery.js', '/vendor/jquery-4/jquery.js', '/dist/jquery.comet.js',
    '/test/harness.html', '/bench/bench.html']) {
    assert.equal(await get(target), 200, target);
  }
});

it('answers 502 while nginx is gone, and does not stop', async () => {
  const other = await startDemo();
  try {
    await assertServes(other.origin);
    await other.nchan.stop('SIGTERM');
    assert.equal((await exchange('GET', `${other.origin}/`)).status, 502);
    assert.equal((await exchange('GET', `${other.origin}/activity?channel=gone`)).status, 502);
    assert.equal((await exchange('POST', `${other.origin}/pub/gone`, '{}')).status, 502);
  } finally {
    await other.stop();
  }
});

// The uid of each of this nginx's workers (the master's children).
function workerUids(masterPid) {
  const uids = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = fs.readFileSync(`/proc/${entry}/status`, 'utf8');
      if (Number(/^PPid:\s+(\d+)/m.exec(status)[1]) === masterPid) uids.push(Number(/^Uid:\s+(\d+)/m.exec(status)[1]));
    } catch (error) {
      // exited meanwhile
    }
  }
  return uids;
}

it('runs the nginx worker as nobody when started as root, or says why not', { skip: process.getuid() !== 0 && 'not started as root' }, async (t) => {
  // Whether nobody can read the demo's page, found here by reading it as nobody: a checkout
  // under a private directory (mktemp -d is 0700, so is /root) cannot be served by nobody.
  const page = path.join(ROOT, 'web', 'index.html');
  const [command, ...argv] = asNobody(['cat', page]);
  if (spawnSync(command, argv, { stdio: 'ignore' }).status !== 0) {
    // Then the worker stays root, and nchan.js said so.
    assert.deepEqual(workerUids(demo.nchan.child.pid), [0]);
    assert.equal(userWarnings.length, 1);
    assert.match(userWarnings[0], /^nginx's worker runs as root: nobody cannot reach one of .*\/web/);
    t.diagnostic(`nobody cannot read ${page}: the worker runs as root, with the warning`);
    return;
  }
  assert.deepEqual(userWarnings, []);
  assert.deepEqual(workerUids(demo.nchan.child.pid), [NOBODY]);
  // nobody writes the body of a large publish to its temporary file under the prefix.
  const name = `big-${crypto.randomBytes(4).toString('hex')}`;
  const text = 'b'.repeat(300000);
  const published = await exchange('POST', `${demo.origin}/pub/${name}`, JSON.stringify({ text }));
  assert.ok(published.status === 201 || published.status === 202, `published: ${published.status}`);
  const poll = await exchange('GET', `${demo.origin}/activity?channel=${name}`);
  assert.equal(JSON.parse(poll.text).text, text);
});

// The pid of the nginx master started with prefix `prefix` (-p), or 0.
function nginxMaster(prefix) {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The master's title: "nginx: master process /usr/sbin/nginx -p <prefix> -c ...".
      const title = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (title.startsWith('nginx: master process ') && title.includes(` -p ${prefix} `)) return Number(entry);
    } catch (error) {
      // exited meanwhile
    }
  }
  return 0;
}

// Whether a process (group, with a negative pid) exists.
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

it('`npm start` (web/serve.js) stops on Ctrl-C: nginx stopped, its directory gone, exit code 0', async () => {
  // A temporary directory of this test's own, searchable like /tmp (nginx's worker runs as
  // nobody when this runs as root, and reaches its prefix in it).
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'comet-serve-'));
  fs.chmodSync(tmp, 0o755);
  const wanted = await freePort();
  // Its own process group, as a shell's foreground job: the terminal's Ctrl-C is a SIGINT to
  // all of that group.
  const child = spawn(process.execPath, [path.join(ROOT, 'web', 'serve.js')], {
    cwd: ROOT, env: { ...process.env, PORT: String(wanted), TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk) => { out += chunk; });
  child.stderr.on('data', (chunk) => { err += chunk; });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  try {
    // Ready: it prints the demo's URL once it listens.
    const url = await Promise.race([
      new Promise((resolve) => {
        const look = () => {
          const match = out.match(/jquery\.comet demo: (http:\/\/127\.0\.0\.1:\d+\/)/);
          if (match) resolve(match[1]);
          else child.stdout.once('data', look);
        };
        look();
      }),
      exited.then(({ code, signal }) => { throw new Error(`serve.js exited (${signal || code}) before it was ready: ${out}\n${err}`); }),
      new Promise((resolve, reject) => setTimeout(() => reject(new Error(`no demo URL within 60 s: ${out}\n${err}`)), 60000).unref()),
    ]);
    assert.equal(url, `http://127.0.0.1:${wanted}/`);
    assert.equal((await exchange('GET', url)).status, 200);
    const prefixes = fs.readdirSync(tmp).filter((name) => name.startsWith('comet-nginx-'));
    assert.equal(prefixes.length, 1, 'nginx runs in a directory under TMPDIR');
    const masterPid = nginxMaster(path.join(tmp, prefixes[0]));
    assert.ok(masterPid > 0, 'its nginx runs');
    assert.ok(alive(masterPid));
    // nginx leads a process group of its own: the terminal's SIGINT does not reach it, only
    // serve.js's stop does.
    const stat = fs.readFileSync(`/proc/${masterPid}/stat`, 'utf8');
    const pgid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    assert.equal(pgid, masterPid);
    assert.notEqual(pgid, child.pid);

    process.kill(-child.pid, 'SIGINT');
    const { code, signal } = await exited;
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, `stderr: ${err}`);
    assert.doesNotMatch(err, /nginx exited/);
    assert.deepEqual(fs.readdirSync(tmp), [], 'the temporary directory is gone');
    assert.ok(!alive(masterPid), 'the nginx master is gone');
    assert.ok(!alive(-masterPid), 'its workers are gone');
    await assert.rejects(exchange('GET', url), { code: 'ECONNREFUSED' });
  } finally {
    // After a failure: nothing of it may outlive the test (nginx is in a group of its own).
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid, 'SIGKILL');
    for (const name of fs.readdirSync(tmp)) {
      const master = nginxMaster(path.join(tmp, name));
      if (master) process.kill(-master, 'SIGKILL');
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
