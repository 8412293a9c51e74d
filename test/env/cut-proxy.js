'use strict';
// An HTTP-aware TCP proxy that cuts responses at an exact byte. It listens on 127.0.0.1 and
// forwards every connection to 127.0.0.1:targetPort (real nginx + Nchan), so a page loaded
// through it is same-origin with its polls. It reads the requests on each connection (HTTP/1.1,
// no pipelining: a client sends the next request on a connection only after the previous
// response), so it knows which response bytes answer which request, and it passes everything
// else through untouched.
//
// Requests whose path matches `match` are polls. Two ways to cut them:
//
//   Stepped (the byte-offset sweep): every poll is held, not forwarded, until the test takes it.
//     const proxy = await startCutProxy({ targetPort, match: (path) => path.startsWith('/sub/') });
//     const poll = await proxy.nextPoll();          // { path, headers, cursor, forward(options) }
//     const answer = await poll.forward({ cutAt: 120, how: 'fin' });
//     // answer: { total, sent, cut, cursor, status } -- the response as the server sent it
//     // (`total` bytes, its id in `cursor`), and how much of it the client got before the cut.
//     // cutAt: undefined passes it whole. how: 'fin' (an orderly close, the case browsers take
//     // for the end of the header block) or 'rst' (a reset).
//
//   Random (the soak): polls are forwarded at once; each response is cut at a uniformly random
//   byte of its status line, headers or body with probability `truncate`, and each poll still
//   held by the server is cut (no byte of its answer sent) with probability `hang` at a random
//   moment within `hangMs`. Draws come from a seeded PRNG, so a run is reproducible as far as
//   the order of polls is.
//     proxy.setRandom({ truncate: 0.1, hang: 0.5, hangMs: [5, 200], seed: 7 });  // false: off
//
//   proxy.stats();  // { polls, truncated, hung, passed, bytesCut: { fin, rst } }
//   await proxy.stop();
const net = require('node:net');
const { mulberry32 } = require('./chaos-proxy.js');
const { resetSocket } = require('./sockets.js');

const HEAD_END = Buffer.from('\r\n\r\n');
const RESET_DELAY_MS = 10;  // lets the client read what was written before the RST arrives

// The request or response head in `buffer`, if it is all there: { length, startLine, headers }.
function parseHead(buffer) {
  const end = buffer.indexOf(HEAD_END);
  if (end < 0) return null;
  const lines = buffer.subarray(0, end).toString('latin1').split('\r\n');
  const headers = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { length: end + HEAD_END.length, startLine: lines[0], headers };
}

// The length of the whole response in `buffer` once it is all there (Content-Length or chunked
// framing), else -1. Nchan frames every response.
function responseLength(buffer) {
  const head = parseHead(buffer);
  if (!head) return -1;
  const status = Number(head.startLine.split(' ')[1]);
  if (status === 204 || status === 304 || (status >= 100 && status < 200)) return head.length;
  if (head.headers['content-length'] !== undefined) {
    const total = head.length + Number(head.headers['content-length']);
    return buffer.length >= total ? total : -1;
  }
  if (/chunked/i.test(head.headers['transfer-encoding'] || '')) {
    let at = head.length;
    for (;;) {
      const eol = buffer.indexOf('\r\n', at);
      if (eol < 0) return -1;
      const size = parseInt(buffer.subarray(at, eol).toString('latin1'), 16);
      if (size === 0) {
        const end = buffer.indexOf(HEAD_END, eol);  // no trailers from our servers
        return end < 0 ? -1 : end + HEAD_END.length;
      }
      at = eol + 2 + size + 2;
      if (buffer.length < at) return -1;
    }
  }
  return -1;  // ends with the connection: never whole while it lasts
}

function cursorOf(headers) {
  return { lastModified: headers['last-modified'] || '', etag: headers.etag || '' };
}

// Returns { port, origin, nextPoll(timeoutMs), setRandom(options | false), stats(), stop() }.
async function startCutProxy({ targetPort, match, port: listenPort = 0 } = {}) {
  if (!targetPort) throw new Error('startCutProxy: targetPort is required');
  if (typeof match !== 'function') throw new Error('startCutProxy: match(path) is required');
  const counters = { polls: 0, truncated: 0, hung: 0, passed: 0, bytesCut: { fin: 0, rst: 0 } };
  const sockets = new Set();
  const held = [];     // polls waiting for nextPoll()
  const waiting = [];  // nextPoll() calls waiting for a poll
  let random = null;   // { options, next() }

  function offer(poll) {
    const taker = waiting.shift();
    if (taker) taker(poll);
    else held.push(poll);
  }

  function nextPoll(timeoutMs = 10000) {
    if (held.length) return Promise.resolve(held.shift());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const index = waiting.indexOf(take);
        if (index >= 0) waiting.splice(index, 1);
        reject(new Error(`cut-proxy: no poll arrived within ${timeoutMs} ms`));
      }, timeoutMs);
      function take(poll) { clearTimeout(timer); resolve(poll); }
      waiting.push(take);
    });
  }

  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    const upstream = net.connect({ port: targetPort, host: '127.0.0.1', allowHalfOpen: true });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    }
    let pending = Buffer.alloc(0);  // client bytes not yet forwarded
    let paused = false;             // a poll is held: later bytes wait behind it
    let capture = null;             // the poll whose response is being read: { chunks, done, abandon }
    let closed = false;             // cut or gone: nothing more passes either way

    const close = () => {
      if (closed) return;
      closed = true;
      if (capture && capture.abandon) capture.abandon();
      capture = null;
      resetSocket(client);
      resetSocket(upstream);
    };

    // Gives the client `bytes` (maybe none), then cuts: an orderly close (FIN) or a reset.
    function cut(bytes, how) {
      closed = true;
      capture = null;
      counters.bytesCut[how]++;
      resetSocket(upstream);
      // A reset straight after the write could discard bytes the client has not read yet.
      const finish = how === 'rst' ? () => setTimeout(() => resetSocket(client), RESET_DELAY_MS) : () => client.end();
      if (bytes.length) client.write(bytes, finish);
      else finish();
    }

    // Sends `response` whole, or its first `cutAt` bytes and then a cut. True when cut.
    function deliver(response, cutAt, how) {
      if (cutAt === undefined || cutAt >= response.length) {
        client.write(response);
        return false;
      }
      cut(response.subarray(0, cutAt), how);
      return true;
    }

    function forwardRequests() {
      while (!paused && !closed) {
        const head = parseHead(pending);
        if (!head) return;
        const size = head.length + Number(head.headers['content-length'] || 0);
        if (pending.length < size) return;
        const request = pending.subarray(0, size);
        pending = pending.subarray(size);
        const path = head.startLine.split(' ')[1] || '';
        if (!match(path.split('?')[0])) {
          upstream.write(request);
          continue;
        }
        counters.polls++;
        const poll = {
          path,
          headers: head.headers,
          cursor: { lastModified: head.headers['if-modified-since'] || '', etag: head.headers['if-none-match'] || '' },
        };
        if (random) {
          runRandom(request);
          continue;
        }
        paused = true;
        poll.forward = (options = {}) => new Promise((resolve, reject) => {
          if (closed) {
            reject(new Error('cut-proxy: the client went away before the poll was forwarded'));
            return;
          }
          capture = {
            chunks: [],
            done(response) {
              const responseHead = parseHead(response);
              const wasCut = deliver(response, options.cutAt, options.how || 'fin');
              if (!wasCut) counters.passed++;
              resolve({ total: response.length, sent: wasCut ? options.cutAt : response.length, cut: wasCut,
                status: Number(responseHead.startLine.split(' ')[1]), cursor: cursorOf(responseHead.headers) });
            },
            abandon() { reject(new Error('cut-proxy: the connection closed before the response was whole')); },
          };
          upstream.write(request);
          paused = false;
          forwardRequests();
        });
        offer(poll);
      }
    }

    function runRandom(request) {
      const { options, next } = random;
      const truncate = next() < options.truncate;
      const hang = next() < options.hang;
      const [low, high] = options.hangMs;
      const hangAfter = low + next() * (high - low);
      const how = next() < 0.5 ? 'fin' : 'rst';
      const cutFraction = next();
      let timer = null;
      const current = {
        chunks: [],
        done(response) {
          clearTimeout(timer);
          if (truncate) counters.truncated++;
          else counters.passed++;
          deliver(response, truncate ? Math.floor(cutFraction * response.length) : undefined, how);
        },
      };
      capture = current;
      if (hang) {
        timer = setTimeout(() => {
          // Still held by the server, not a byte of the answer yet: the connection dies.
          if (capture !== current || current.chunks.length || closed) return;
          counters.hung++;
          cut(Buffer.alloc(0), how);
        }, hangAfter);
      }
      upstream.write(request);
    }

    client.on('data', (chunk) => {
      if (closed) return;
      pending = Buffer.concat([pending, chunk]);
      forwardRequests();
    });
    upstream.on('data', (chunk) => {
      if (closed) return;
      if (!capture) { client.write(chunk); return; }
      capture.chunks.push(chunk);
      const buffer = Buffer.concat(capture.chunks);
      const length = responseLength(buffer);
      if (length < 0) return;
      const { done } = capture;
      capture = null;
      done(buffer.subarray(0, length));
      if (buffer.length > length && !closed) client.write(buffer.subarray(length));
    });
    client.on('end', () => { if (!closed) upstream.end(); });
    upstream.on('end', () => { if (!closed) client.end(); });
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', () => { if (!client.writableEnded) close(); });
  });
  server.on('error', () => {});

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  const { port } = server.address();

  function setRandom(options) {
    if (!options) { random = null; return; }
    const settled = { truncate: 0.1, hang: 0, hangMs: [0, 100], seed: 1, ...options };
    random = { options: settled, next: mulberry32(settled.seed) };
  }

  function stats() {
    return { ...counters, bytesCut: { ...counters.bytesCut } };
  }

  let stopped = null;
  function stop() {
    if (stopped) return stopped;
    stopped = new Promise((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
      for (const taker of waiting.splice(0)) taker(null);
    });
    return stopped;
  }

  return { port, origin: `http://127.0.0.1:${port}`, nextPoll, setRandom, stats, stop };
}

module.exports = { startCutProxy, responseLength, parseHead };
