'use strict';
// The demo's server: nginx + Nchan on a private port, and in front of it, on the demo's port,
// a small Node pass-through that can misbehave on request, so the page's recovery can be
// watched. POST /demo/misbehave?seconds=N drops the subscriber polls (/activity) waiting at
// that moment and makes those of the next N seconds fail in turn: 429 with Retry-After: 2 (a
// rate limit, waited out exactly), a connection reset, 503 (a server restarting: the normal
// backoff), 500. Everything else,
// and everything outside that window, goes to nginx unchanged (long polls included: a poll the
// browser abandons is abandoned upstream too).
//
//   const demo = await startDemo({ port: 8080 });   // demo.origin, demo.nchan, await demo.stop()
const http = require('node:http');
const { startNchan } = require('../test/env/nchan.js');

const FAULTS = [
  (req, res) => {
    res.writeHead(429, { 'Retry-After': '2', 'Content-Type': 'text/plain', 'Cache-Control': 'no-store' });
    res.end('the demo is misbehaving: 429, retry after 2 s\n');
  },
  (req) => req.socket.destroy(),
  (req, res) => {
    res.writeHead(503, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-store' });
    res.end('the demo is misbehaving: 503\n');
  },
  (req, res) => {
    res.writeHead(500, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-store' });
    res.end('the demo is misbehaving: 500\n');
  },
];

async function startDemo({ port = 0 } = {}) {
  const nchan = await startNchan();
  const agent = new http.Agent({ keepAlive: true });
  let misbehaveUntil = 0;
  let faults = 0;
  const polls = new Set();  // the /activity polls passing through right now

  function passThrough(req, res) {
    const upstream = http.request({
      host: '127.0.0.1', port: nchan.port, method: req.method, path: req.url, headers: req.headers, agent,
    }, (answer) => {
      res.writeHead(answer.statusCode, answer.statusMessage, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    res.on('close', () => { if (!res.writableFinished) upstream.destroy(); });
    req.pipe(upstream);
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://demo');
    if (req.method === 'POST' && url.pathname === '/demo/misbehave') {
      const seconds = Math.min(60, Math.max(1, Number(url.searchParams.get('seconds')) || 8));
      misbehaveUntil = Date.now() + seconds * 1000;
      // The polls waiting now would only fail at their next round: drop them, as a dying
      // server would, so the trouble starts at once.
      for (const poll of polls) poll.socket.destroy();
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ until: misbehaveUntil }));
      return;
    }
    if (url.pathname === '/activity' && Date.now() < misbehaveUntil) {
      FAULTS[faults++ % FAULTS.length](req, res);
      return;
    }
    if (url.pathname === '/activity') {
      polls.add(res);
      res.on('close', () => polls.delete(res));
    }
    passThrough(req, res);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    nchan,
    stop: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      agent.destroy();
      await nchan.stop();
    },
  };
}

module.exports = { startDemo };
