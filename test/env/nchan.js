'use strict';
// Starts the project's own nginx + Nchan in the foreground on 127.0.0.1 and stops it again.
// Used by the browser tests, the benchmark and `npm start`.
const { spawn, spawnSync } = require('node:child_process');
const { asNobody } = require('./processes.js');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const NGINX = '/usr/sbin/nginx';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function waitForPort(port, child, timeoutMs) {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) {
        reject(new Error(`nginx exited with code ${child.exitCode}`));
        return;
      }
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => { socket.destroy(); resolve(); });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() - started > timeoutMs) reject(new Error(`nginx did not listen on ${port} within ${timeoutMs} ms`));
        else setTimeout(attempt, 20);
      });
    };
    attempt();
  });
}

// One HTTP exchange on a connection of its own. A pooled keep-alive connection (fetch's) may
// still lead to an old worker that a reload is shutting down, and that worker closes it under
// the next request ("other side closed"): the deploy tests publish right after a reload.
function exchange(method, url, headers = {}, body = undefined) {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method, headers, agent: false }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode, text: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(body);
  });
}

// Resolves once Nchan has its message store: with Redis, it answers 503 to everyone until its
// connection to Redis is up (it retries on its own; ~0.4 s after Redis starts, here).
async function waitForStore(origin, timeoutMs) {
  const started = Date.now();
  for (;;) {
    const response = await exchange('GET', `${origin}/pub/__ready`, { Accept: 'text/json' });
    if (response.status !== 503) return;
    if (Date.now() - started > timeoutMs) throw new Error(`Nchan at ${origin} still answers 503 after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// Started as root, nginx runs its worker as nobody:nogroup, as a packaged nginx would, not as
// root: a request that tricks the worker (or Nchan) into reading or writing a file reaches
// only what everyone may. The worker reads the pages and the library under the checkout and
// writes its temporary files under the prefix: the prefix is made traversable (nginx makes
// its temporary directories there nobody's itself), and the checkout's directories are tried
// as nobody. A checkout that nobody cannot read (one under a private directory: mktemp -d
// is 0700, so is /root) keeps the worker as root, and says so once.
let warnedAboutRoot = false;
function workerUser(prefix, root) {
  if (!process.getuid || process.getuid() !== 0) return '';
  fs.chmodSync(prefix, 0o711);
  const readable = ['web', 'dist', 'node_modules', 'test/browser/pages', 'test/bench/pages']
    .map((dir) => path.join(root, dir)).filter((dir) => fs.existsSync(dir));
  const tests = [['-x', prefix], ...readable.map((dir) => ['-r', dir, '-a', '-x', dir])];
  const args = tests.flatMap((test, i) => (i ? ['-a', ...test] : test));
  const [command, ...argv] = asNobody(['test', ...args]);
  const check = spawnSync(command, argv);
  if (check.status === 0) return 'user nobody nogroup;';
  if (!warnedAboutRoot) {
    warnedAboutRoot = true;
    process.emitWarning(`nginx's worker runs as root: nobody cannot reach one of ${[prefix, ...readable].join(', ')} ` +
      `(${check.error ? check.error.message : 'a directory on the way is private'})`, 'CometNginxUser');
  }
  return 'user root root;';
}

// Returns { port, origin, corsPort, corsOrigin, prefix, stop(signal), reload(), publish(),
// channelInfo(), ready(), log(), accessLog(), requests(), polls() }.
// options.template replaces nginx.conf.template (same placeholders); options.redis
// ("redis://host:port") keeps channels in that Redis instead of nginx's shared memory, and the
// promise waits until Nchan is connected to it, unless options.waitForStore is false (then
// ready() waits for it). options.authorizer (test/env/authorizer.js, or any { address }) is
// what the authorized locations ask; without it they answer 502. options.corsPort: the
// cross-origin server's port (a free one unless told). options.requestLog: false keeps no log
// of the requests (requests() is then empty).
async function startNchan(options = {}) {
  const port = options.port || await freePort();
  const corsPort = options.corsPort || await freePort();
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'comet-nginx-'));
  const template = options.template || fs.readFileSync(path.join(__dirname, 'nginx.conf.template'), 'utf8');
  // proxy_pass http://{{AUTHORIZER}}/path: a host:port, or a socket that no one listens on.
  const authorizer = options.authorizer ? options.authorizer.address : `unix:${path.join(prefix, 'no-authorizer.sock')}:`;
  const config = template.replace(/\{\{PORT\}\}/g, String(port))
    .replace(/\{\{CORS_PORT\}\}/g, String(corsPort))
    .replace(/\{\{AUTHORIZER\}\}/g, authorizer)
    .replace(/\{\{PREFIX\}\}/g, prefix)
    .replace(/\{\{ROOT\}\}/g, options.root || ROOT)
    .replace(/\{\{REQUEST_LOG\}\}/g, options.requestLog === false ? '' : `access_log ${prefix}/requests.log polls;`)
    .replace('{{USER}}', workerUser(prefix, options.root || ROOT))
    .replace('{{REDIS}}', options.redis ? `nchan_redis_url "${options.redis}";\n  nchan_use_redis on;` : '');
  const configPath = path.join(prefix, 'nginx.conf');
  fs.writeFileSync(configPath, config);
  // The master leads a process group of its own, with its workers in it: a SIGKILL to the
  // master alone would leave the workers serving the port (and a graceful stop that takes
  // longer than 3 s ends in one).
  const child = spawn(NGINX, ['-p', prefix, '-c', configPath, '-e', path.join(prefix, 'error.log')], {
    stdio: ['ignore', 'ignore', 'pipe'], detached: true,
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  const killAll = () => {
    try { process.kill(-child.pid, 'SIGKILL'); } catch (error) { /* already gone */ }
  };
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  // A test process that dies without stop() must not leave nginx behind on its port.
  const killOnExit = () => { if (running()) killAll(); };
  process.on('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));
  try {
    await waitForPort(port, child, 10000);
    if (config.includes(`127.0.0.1:${corsPort};`)) await waitForPort(corsPort, child, 10000);
  } catch (error) {
    killAll();
    const log = fs.existsSync(path.join(prefix, 'error.log')) ? fs.readFileSync(path.join(prefix, 'error.log'), 'utf8') : '';
    await new Promise((resolve) => (running() ? child.once('exit', resolve) : resolve()));
    fs.rmSync(prefix, { recursive: true, force: true });
    throw new Error(`${error.message}\n${stderr}\n${log}`);
  }
  const origin = `http://127.0.0.1:${port}`;
  const ready = () => waitForStore(origin, options.storeTimeoutMs || 15000);
  if (options.redis && options.waitForStore !== false) {
    try {
      await ready();
    } catch (error) {
      killAll();
      throw error;
    }
  }

  async function publish(channel, body, contentType = 'application/json') {
    const response = await exchange('POST', `${origin}/pub/${channel}`,
      contentType ? { 'Content-Type': contentType } : {}, body);
    if (response.status >= 300) throw new Error(`publish to ${channel} failed: HTTP ${response.status}`);
    try {
      return JSON.parse(response.text);
    } catch (error) {
      return null;
    }
  }

  async function channelInfo(channel) {
    const response = await exchange('GET', `${origin}/pub/${channel}`, { Accept: 'text/json' });
    if (response.status === 404) return { messages: 0, subscribers: 0 };
    return JSON.parse(response.text);
  }

  // SIGQUIT: nginx's graceful shutdown (what systemctl stop sends); SIGTERM: its fast one.
  // The prefix goes too, also when nginx had already exited.
  function stop(signal = 'SIGQUIT') {
    return new Promise((resolve) => {
      const removePrefix = () => fs.rmSync(prefix, { recursive: true, force: true });
      if (!running()) {
        removePrefix();
        resolve();
        return;
      }
      child.once('exit', () => {
        removePrefix();
        resolve();
      });
      child.kill(signal);
      setTimeout(() => { if (running()) killAll(); }, 3000).unref();
    });
  }

  // This nginx's worker processes: the master's live children.
  function workers() {
    const pids = [];
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
        const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (Number(ppid) === child.pid && state !== 'Z') pids.push(Number(entry));
      } catch (error) {
        // exited meanwhile
      }
    }
    return pids;
  }

  // nginx -s reload: the master starts new workers with the configuration, the old ones
  // finish (Nchan answers their waiting polls with 410) and exit. Resolves once every old
  // worker has exited and new ones run: until then an old worker may still accept a new
  // connection, and a message published through it never reaches the new workers' store.
  async function reload() {
    const old = workers();
    child.kill('SIGHUP');
    const deadline = Date.now() + 15000;
    for (;;) {
      const now = workers();
      if (now.length > 0 && !now.some((pid) => old.includes(pid))) return;
      if (Date.now() > deadline) throw new Error(`nginx reload: the old workers (${old}) still run after 15 s`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  // The cross-origin server's access log, one "METHOD /uri status" line per request (written
  // when the request ends: a long poll's line once it is answered).
  function accessLog() {
    const file = path.join(prefix, 'cors-access.log');
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
  }

  // Every request either server has finished, in the order they ended, as the tests' JSON log
  // has it: { port, method, url (path and query), status, ifNoneMatch, ifModifiedSince (as sent;
  // '' for none), etag, lastModified (as answered), bytes, arrived (when it came, ms since the
  // epoch, as Date.now()), took (ms until it ended) }; only those whose url `match` accepts (a
  // string it contains, or a function). A poll is logged once it is answered or given up.
  function requests(match = () => true) {
    const file = path.join(prefix, 'requests.log');
    const accepts = typeof match === 'function' ? match : (url) => url.includes(match);
    if (!fs.existsSync(file)) return [];
    return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => {
      const { ended, took, ...request } = JSON.parse(line);
      return { ...request, arrived: Math.round((ended - took) * 1000), took: Math.round(took * 1000) };
    }).filter((request) => accepts(request.url));
  }

  // The polls among them (GET requests), in the order they came: what a page sent, in order.
  function polls(match) {
    return requests(match).filter((request) => request.method === 'GET').sort((a, b) => a.arrived - b.arrived);
  }

  return {
    port, origin, corsPort, corsOrigin: `http://127.0.0.1:${corsPort}`, prefix, child, publish, channelInfo, stop, reload, ready,
    log: () => fs.readFileSync(path.join(prefix, 'error.log'), 'utf8'),
    accessLog, requests, polls,
  };
}

module.exports = { startNchan, freePort, ROOT };

if (require.main === module) {
  startNchan({ port: Number(process.env.PORT) || undefined }).then((server) => {
    console.log(`nginx + Nchan listening on ${server.origin}`);
    const shutdown = () => server.stop().then(() => process.exit(0));
    process.on('SIGINT', shutdown);
    process.on('SIGTERM', shutdown);
  }, (error) => { console.error(error.message); process.exit(1); });
}
