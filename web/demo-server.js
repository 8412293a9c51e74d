'use strict';
// The demo's server: nginx + Nchan on a private port, and in front of it, on the demo's port,
// a small Node pass-through that can misbehave on request, so the page's recovery can be
// watched. POST /demo/misbehave?seconds=N drops the subscriber polls (/activity) waiting at
// that moment and makes those of the next N seconds fail in turn, each of the four at least
// once (the window lasts until all four were served): 429 with Retry-After: 2 (a rate limit,
// waited out exactly), a response cut short (a connection that dies mid-answer), 503 (a
// server restarting: the normal backoff), 500. Everything else, and everything outside that
// window, goes to nginx unchanged (long polls included: a poll the browser abandons is
// abandoned upstream too).
//
// No request can stop it: a target that does not parse gets 400, a request Node's parser
// refuses gets 400 (431 for a header block too large), and nginx not answering gets 502.
//
//   const demo = await startDemo({ port: 8080 });   // demo.origin, demo.nchan, await demo.stop()
const http = require('node:http');
const { startNchan } = require('../test/env/nchan.js');

function plain(res, status, text, headers = {}) {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-store', ...headers });
  res.end(text);
}

// The cut response: a status line and headers announcing a body that never arrives whole. A
// connection reset before the first byte of an answer is no fault a page can see: a browser
// sends a GET again by itself when a reused keep-alive connection closes before any answer
// (Chromium does, so the page never heard of it). Bytes of an answer first, then the reset:
// the browser has to give up, and the client reports status 0 (its Content-Length check says
// the body is incomplete even where the browser would hand the page the part that arrived).
const CUT_BODY = 'the demo is misbehaving: this answer is cut short here -->';
function cut(req, res) {
  const socket = req.socket;
  socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nCache-Control: no-store\r\n' +
    `Content-Length: ${CUT_BODY.length + 100}\r\n\r\n${CUT_BODY}`, () => socket.resetAndDestroy());
}

const FAULTS = [
  (req, res) => plain(res, 429, 'the demo is misbehaving: 429, retry after 2 s\n', { 'Retry-After': '2' }),
  cut,
  (req, res) => plain(res, 503, 'the demo is misbehaving: 503\n'),
  (req, res) => plain(res, 500, 'the demo is misbehaving: 500\n'),
];

// The request target as a URL, or null: an origin-form path ("/x?y", "//x" included, which
// new URL(target, base) would read as a host) or an absolute URL.
function parseTarget(target) {
  try {
    if (target.startsWith('/')) return new URL(`http://demo${target}`);
    if (/^https?:\/\//i.test(target)) return new URL(target);
  } catch (error) {
    // not a URL
  }
  return null;
}

// What Node's own clientError handler answers (it is replaced once a listener is attached).
function refuse(error, socket) {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large'
    : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroySoon();
}

async function startDemo({ port = 0, nchanOptions = {} } = {}) {
  const nchan = await startNchan(nchanOptions);
  const agent = new http.Agent({ keepAlive: true });
  let misbehaveUntil = 0;
  let faults = FAULTS.length;  // served since the last misbehave: the window lasts until all were
  const polls = new Set();  // the /activity polls passing through right now

  function passThrough(req, res) {
    let upstream;
    try {
      upstream = http.request({
        host: '127.0.0.1', port: nchan.port, method: req.method, path: req.url, headers: req.headers, agent,
      });
    } catch (error) {
      // A target or header that Node will not send (it parsed them, but its client is stricter).
      plain(res, 400, `bad request: ${error.message}\n`);
      return;
    }
    upstream.on('response', (answer) => {
      answer.on('error', () => res.destroy());
      try {
        res.writeHead(answer.statusCode, answer.statusMessage, answer.headers);
      } catch (error) {
        answer.destroy();
        plain(res, 502, 'nginx answered with headers the demo cannot pass on\n');
        return;
      }
      answer.pipe(res);
    });
    upstream.on('error', () => plain(res, 502, 'nginx did not answer\n'));
    res.on('close', () => { if (!res.writableFinished) upstream.destroy(); });
    req.on('error', () => upstream.destroy());
    req.pipe(upstream);
  }

  function handle(req, res) {
    res.on('error', () => res.destroy());
    const url = parseTarget(req.url);
    if (!url) {
      plain(res, 400, 'bad request target\n');
      return;
    }
    if (req.method === 'POST' && url.pathname === '/demo/misbehave') {
      const seconds = Math.min(60, Math.max(1, Number(url.searchParams.get('seconds')) || 8));
      misbehaveUntil = Date.now() + seconds * 1000;
      faults = 0;
      // The polls waiting now would only fail at their next round: drop them, as a dying
      // server would, so the trouble starts at once.
      for (const poll of polls) poll.socket.destroy();
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify({ until: misbehaveUntil }));
      return;
    }
    if (url.pathname === '/activity' && (Date.now() < misbehaveUntil || faults < FAULTS.length)) {
      FAULTS[faults++ % FAULTS.length](req, res);
      return;
    }
    if (url.pathname === '/activity') {
      polls.add(res);
      res.on('close', () => polls.delete(res));
    }
    passThrough(req, res);
  }

  const server = http.createServer((req, res) => {
    try {
      handle(req, res);
    } catch (error) {
      // Nothing above should throw; if it does, this request fails, not the demo.
      console.error(`demo server: ${req.method} ${JSON.stringify(req.url)}: ${error.stack}`);
      plain(res, 500, 'the demo server failed on this request\n');
    }
  });
  server.on('clientError', refuse);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  server.on('error', (error) => console.error(`demo server: ${error.message}`));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    nchan,
    server,
    stop: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      agent.destroy();
      await nchan.stop();
    },
  };
}

module.exports = { startDemo };
