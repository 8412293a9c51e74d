'use strict';
// A deliberately misbehaving comet server for the fault-injection tests. It imitates Nchan's
// long-poll responses (Last-Modified + Etag cursor, multipart/mixed batches, CORS for pages
// served from another origin) but answers each poll from a per-channel script of steps:
// normal responses, resets before or during the body, stalls, slow drips, truncated and huge
// bodies. Every poll is logged so a test can check what the client sent and when it gave up.
//
//   const server = await startFaultServer();          // options: { port, keepAlive: true }
//   server.script('ch', [{ message: { type: 't', data: 1 }, id: [1700000000, 0] }, { reset: 'before-headers' }]);
//   // page polls `${server.origin}/poll/ch` ...
//   server.log('ch');  // [{ at, method, url, headers, step, closedByClient, connection, reused }, ...]
//   await server.stop();
//
// Polls: any method but OPTIONS on /poll/<name>[?anything]; each takes the next step of its
// name's script, or is held open when the script is used up (a later script() does not answer
// it). OPTIONS (any path) is a CORS preflight: 204, never logged. Control endpoints (same CORS):
// POST /_script/<name> (JSON array body), GET /_log/<name>, POST /_reset.
//
// Steps (plain JSON). Common options: id: [seconds, tag] -> Last-Modified + Etag; retryAfter
// (number -> seconds, string as is); headers (override ours, null removes one); delayMs (wait
// before answering); status.
//   { status, headers, body }                 a normal response (default 200)
//   { message, id, contentType }              200 JSON (or contentType) body of the message
//   { multipart: [{ contentType, body }], id, boundary, brokenAt }
//   { reset: 'before-headers' }               RST, nothing written
//   { reset: 'during-body', body }            headers + Content-Length of all, half the body, RST
//   { stall: 'after-headers' }                headers (Content-Length: 100), then nothing
//   { stall: 'before-headers' }               nothing at all
//   { drip: [chunk, ...], intervalMs }        chunked, one chunk per intervalMs (default 100)
//   { truncate: body, declaredLength }        declares more than it sends, then FIN
//   { bytes: n, contentType }                 n bytes streamed in 64 KiB chunks
//
// Browsers: Chrome silently resends a request once when a REUSED keep-alive connection fails
// before any response byte, so a 'before-headers' reset on a reused connection consumes the next
// step too and the page never sees it (log entries say `reused`). Start with keepAlive: false
// (every response says Connection: close) when a test needs every reset to reach the page.
const http = require('node:http');
const { resetSocket } = require('./sockets.js');

// Transfer-Encoding: a cross-origin page sees chunked framing only when it is exposed, and the
// client trusts a chunked response only when it sees it (src/core/integrity.hpp).
const EXPOSE_HEADERS = 'Last-Modified, Etag, Content-Type, Retry-After, Date, Transfer-Encoding';
const DEFAULT_BOUNDARY = 'Xq7/Zp.3kLm9Rt2Vw8Yb5Nc1Hd6Jf4Gs'; // 32 chars with '/' and '.', like Nchan's
const BYTES_CHUNK = 64 * 1024;
const RESET_DELAY_MS = 25; // lets the client read what was written before the RST arrives

function httpDate(seconds) {
  return new Date(seconds * 1000).toUTCString();
}

function toBuffer(body) {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (Buffer.isBuffer(body)) return body;
  return Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
}

// Throws on a step this server does not understand, so a typo fails the test at once.
function checkStep(step, index) {
  const where = `step ${index}`;
  if (!step || typeof step !== 'object' || Array.isArray(step)) throw new Error(`${where}: not an object`);
  if (step.reset !== undefined && step.reset !== 'before-headers' && step.reset !== 'during-body') {
    throw new Error(`${where}: reset must be 'before-headers' or 'during-body'`);
  }
  if (step.stall !== undefined && step.stall !== 'before-headers' && step.stall !== 'after-headers') {
    throw new Error(`${where}: stall must be 'before-headers' or 'after-headers'`);
  }
  if (step.drip !== undefined && !Array.isArray(step.drip)) throw new Error(`${where}: drip must be an array`);
  if (step.multipart !== undefined && !Array.isArray(step.multipart)) throw new Error(`${where}: multipart must be an array`);
  if (step.bytes !== undefined && !(Number.isInteger(step.bytes) && step.bytes >= 0)) {
    throw new Error(`${where}: bytes must be a non-negative integer`);
  }
  if (step.id !== undefined && !(Array.isArray(step.id) && step.id.length === 2)) {
    throw new Error(`${where}: id must be [seconds, tag]`);
  }
}

function multipartBody(parts, boundary) {
  let text = '';
  for (const part of parts) {
    text += `--${boundary}\r\n`;
    if (part.contentType) text += `Content-Type: ${part.contentType}\r\n`;
    text += `\r\n${part.body === undefined ? '' : part.body}\r\n`;
  }
  text += `--${boundary}--\r\n`;
  return Buffer.from(text);
}

// Returns { port, origin, stop(), script(name, steps), log(name), reset() }.
async function startFaultServer(options = {}) {
  const startedAt = Date.now();
  const keepAlive = options.keepAlive !== false;
  let connectionCount = 0;
  const queues = new Map(); // name -> { steps, next }
  const logs = new Map(); // name -> [entry]
  const sockets = new Set();
  const timers = new Set();
  let stopping = false;

  const later = (fn, ms) => {
    const timer = setTimeout(() => { timers.delete(timer); fn(); }, ms);
    timers.add(timer);
    return timer;
  };
  const cancel = (timer) => { clearTimeout(timer); timers.delete(timer); };

  function script(name, steps) {
    if (!Array.isArray(steps)) throw new Error('script(name, steps): steps must be an array');
    steps.forEach(checkStep);
    queues.set(String(name), { steps: steps.slice(), next: 0 });
  }

  function log(name) {
    return (logs.get(String(name)) || []).map((entry) => ({
      at: entry.at, method: entry.method, url: entry.url, headers: { ...entry.headers },
      step: entry.step, closedByClient: entry.closedByClient, connection: entry.connection, reused: entry.reused,
    }));
  }

  function reset() {
    queues.clear();
    logs.clear();
  }

  // CORS first, then the cursor and Retry-After, then the kind's own, then the step's headers
  // (case-insensitive override; a null value removes a header).
  function headersFor(req, step, own = {}) {
    const out = new Map();
    const set = (name, value) => {
      if (value === null || value === undefined) out.delete(name.toLowerCase());
      else out.set(name.toLowerCase(), [name, value]);
    };
    set('Access-Control-Allow-Origin', req.headers.origin || '*');
    set('Access-Control-Allow-Credentials', 'true');
    if (req.headers['access-control-request-headers']) {
      set('Access-Control-Allow-Headers', req.headers['access-control-request-headers']);
    }
    set('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
    set('Access-Control-Expose-Headers', EXPOSE_HEADERS);
    if (!keepAlive) set('Connection', 'close');
    if (step && step.id) {
      set('Last-Modified', httpDate(step.id[0]));
      set('Etag', String(step.id[1]));
    }
    if (step && step.retryAfter !== undefined) set('Retry-After', String(step.retryAfter));
    for (const [name, value] of Object.entries(own)) set(name, value);
    if (step && step.headers) for (const [name, value] of Object.entries(step.headers)) set(name, value);
    return out;
  }

  function writeHead(res, status, headers) {
    for (const [name, value] of headers.values()) res.setHeader(name, value);
    res.writeHead(status);
  }

  function send(req, res, status, body, own = {}, step = null) {
    const buffer = toBuffer(body);
    const noBody = status === 204 || status === 304 || (status >= 100 && status < 200);
    writeHead(res, status, headersFor(req, step, noBody ? own : { ...own, 'Content-Length': buffer.length }));
    res.end(noBody || req.method === 'HEAD' ? undefined : buffer);
  }

  function runStep(req, res, step, entry, track) {
    const socket = req.socket;
    const serverEnds = () => { entry.endedByServer = true; };

    if (step.reset === 'before-headers') {
      serverEnds();
      resetSocket(socket);
      return;
    }
    if (step.stall === 'before-headers') return; // read the request, never answer
    if (step.stall === 'after-headers') {
      writeHead(res, step.status || 200, headersFor(req, step, { 'Content-Length': 100 }));
      res.flushHeaders();
      return; // until the client goes away
    }
    if (step.reset === 'during-body') {
      const body = toBuffer(step.body);
      writeHead(res, step.status || 200, headersFor(req, step, { 'Content-Length': body.length }));
      serverEnds();
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => {
        track(later(() => resetSocket(socket), RESET_DELAY_MS));
      });
      return;
    }
    if (step.truncate !== undefined) {
      const body = toBuffer(step.truncate);
      const declared = step.declaredLength !== undefined ? step.declaredLength : body.length + 100;
      writeHead(res, step.status || 200, headersFor(req, step, { 'Content-Length': declared }));
      serverEnds();
      res.write(body, () => socket.end());
      return;
    }
    if (step.drip !== undefined) {
      writeHead(res, step.status || 200, headersFor(req, step));
      res.flushHeaders();
      const interval = step.intervalMs === undefined ? 100 : step.intervalMs;
      let index = 0;
      const tick = () => {
        if (entry.gone) return;
        res.write(String(step.drip[index++]));
        if (index < step.drip.length) track(later(tick, interval));
        else res.end();
      };
      if (step.drip.length === 0) res.end();
      else track(later(tick, interval));
      return;
    }
    if (step.bytes !== undefined) {
      writeHead(res, step.status || 200, headersFor(req, step, {
        'Content-Type': step.contentType || 'application/octet-stream', 'Content-Length': step.bytes,
      }));
      const chunk = Buffer.alloc(BYTES_CHUNK, 'a');
      let left = step.bytes;
      const pump = () => {
        while (left > 0 && !entry.gone) {
          const size = Math.min(left, BYTES_CHUNK);
          left -= size;
          if (!res.write(size === BYTES_CHUNK ? chunk : chunk.subarray(0, size))) {
            res.once('drain', pump);
            return;
          }
        }
        if (left === 0 && !entry.gone) res.end();
      };
      pump();
      return;
    }
    if (step.multipart !== undefined) {
      const boundary = step.boundary || DEFAULT_BOUNDARY;
      let body = multipartBody(step.multipart, boundary);
      if (step.brokenAt !== undefined) body = body.subarray(0, step.brokenAt);
      send(req, res, step.status || 200, body, { 'Content-Type': `multipart/mixed; boundary=${boundary}` }, step);
      return;
    }
    if (step.message !== undefined) {
      send(req, res, step.status || 200, JSON.stringify(step.message),
        { 'Content-Type': step.contentType || 'application/json' }, step);
      return;
    }
    send(req, res, step.status || 200, step.body, step.contentType ? { 'Content-Type': step.contentType } : {}, step);
  }

  function poll(req, res, name) {
    const entry = {
      at: Date.now() - startedAt, method: req.method, url: req.url, headers: { ...req.headers },
      connection: req.socket.faultId, reused: req.socket.faultRequests > 1,
      step: -1, closedByClient: false, endedByServer: false, gone: false,
    };
    if (!logs.has(name)) logs.set(name, []);
    logs.get(name).push(entry);
    req.resume(); // a POST body is read and ignored

    const own = new Set();
    const track = (timer) => own.add(timer);
    res.on('close', () => {
      entry.gone = true;
      for (const timer of own) cancel(timer);
      if (!res.writableFinished && !entry.endedByServer && !stopping) entry.closedByClient = true;
    });

    const queue = queues.get(name);
    if (!queue || queue.next >= queue.steps.length) return; // held: a long poll with nothing new
    entry.step = queue.next;
    const step = queue.steps[queue.next++];
    const go = () => { if (!entry.gone && !req.socket.destroyed) runStep(req, res, step, entry, track); };
    if (step.delayMs > 0) track(later(go, step.delayMs));
    else go();
  }

  function readJson(req) {
    return new Promise((resolve, reject) => {
      const chunks = [];
      req.on('data', (chunk) => chunks.push(chunk));
      req.on('end', () => {
        try { resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))); } catch (error) { reject(error); }
      });
      req.on('error', reject);
    });
  }

  function handle(req, res) {
    req.socket.faultRequests++;
    const { pathname } = new URL(req.url, 'http://localhost');
    const json = (status, value) => send(req, res, status, JSON.stringify(value), { 'Content-Type': 'application/json' });
    if (req.method === 'OPTIONS') {
      req.resume();
      send(req, res, 204, null);
      return;
    }
    let match = /^\/poll\/(.+)$/.exec(pathname);
    if (match) { poll(req, res, decodeURIComponent(match[1])); return; }
    match = /^\/_script\/(.+)$/.exec(pathname);
    if (match && req.method === 'POST') {
      readJson(req).then((steps) => {
        script(decodeURIComponent(match[1]), steps);
        json(200, { ok: true, steps: steps.length });
      }).catch((error) => json(400, { ok: false, error: error.message }));
      return;
    }
    match = /^\/_log\/(.+)$/.exec(pathname);
    if (match && req.method === 'GET') { json(200, log(decodeURIComponent(match[1]))); return; }
    if (pathname === '/_reset' && req.method === 'POST') { req.resume(); reset(); json(200, { ok: true }); return; }
    req.resume();
    send(req, res, 404, 'not found\n', { 'Content-Type': 'text/plain' });
  }

  const server = http.createServer({ requestTimeout: 0 }, handle);
  server.on('connection', (socket) => {
    socket.faultId = ++connectionCount;
    socket.faultRequests = 0;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (error, socket) => { socket.destroy(); });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port || 0, '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  const { port } = server.address();

  let stopped = null;
  function stop() {
    if (stopped) return stopped;
    stopping = true;
    stopped = new Promise((resolve) => {
      server.close(() => resolve());
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const socket of sockets) socket.destroy();
    });
    return stopped;
  }

  return { port, origin: `http://127.0.0.1:${port}`, stop, script, log, reset };
}

module.exports = { startFaultServer, httpDate, multipartBody, DEFAULT_BOUNDARY };

if (require.main === module) {
  startFaultServer({ port: Number(process.env.PORT) || undefined }).then((server) => {
    console.log(`fault server listening on ${server.origin}`);
    const shutdown = () => server.stop().then(() => process.exit(0));
    process.on('SIGINT', shutdown);
    process.on('SIGTERM', shutdown);
  }, (error) => { console.error(error.message); process.exit(1); });
}
