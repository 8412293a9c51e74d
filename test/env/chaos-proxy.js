'use strict';
// A TCP proxy for the fault-injection tests that cuts connections on demand. It listens on
// 127.0.0.1 and forwards every connection to 127.0.0.1:targetPort (nginx + Nchan or the fault
// server), so a page loaded through it is same-origin with its polls. With cutting off it is a
// transparent pipe (half-closes and resets are passed on). With cutting on, every open
// connection repeatedly draws a window of [minMs, maxMs] and, with `probability`, is reset at
// the end of it: both sockets destroyed abruptly, like a flaky network or a dying middlebox.
// The draws come from a seeded PRNG per connection (mulberry32(seed + n-th connection)), so a
// run is reproducible as far as the order of connections is.
//
//   const proxy = await startChaosProxy({ targetPort: server.port, seed: 42 });
//   proxy.setCutting({ probability: 0.3, minMs: 20, maxMs: 400 });
//   proxy.setCutting(false);
//   proxy.stats();  // { connections, open, cuts, bytesUp, bytesDown }
//   await proxy.stop();
const net = require('node:net');
const { resetSocket } = require('./sockets.js');

const DEFAULT_CUTTING = { probability: 0.3, minMs: 20, maxMs: 400 };

function mulberry32(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Returns { port, origin, stop(), setCutting(options | false), stats() }.
async function startChaosProxy({ targetPort, seed = 1, port: listenPort = 0 } = {}) {
  if (!targetPort) throw new Error('startChaosProxy: targetPort is required');
  const counters = { connections: 0, cuts: 0, bytesUp: 0, bytesDown: 0 };
  const links = new Set(); // { client, upstream, random, timer }
  let cutting = null;

  function cut(link) {
    if (link.done) return;
    counters.cuts++;
    finish(link);
    resetSocket(link.client);
    resetSocket(link.upstream);
  }

  function schedule(link) {
    clearTimeout(link.timer);
    link.timer = null;
    if (!cutting || link.done) return;
    const { probability, minMs, maxMs } = cutting;
    const delay = minMs + link.random() * (maxMs - minMs);
    const hit = link.random() < probability;
    link.timer = setTimeout(() => {
      link.timer = null;
      if (hit) cut(link);
      else schedule(link);
    }, delay);
  }

  function finish(link) {
    if (link.done) return;
    link.done = true;
    clearTimeout(link.timer);
    link.timer = null;
    links.delete(link);
  }

  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    counters.connections++;
    const upstream = net.connect({ port: targetPort, host: '127.0.0.1', allowHalfOpen: true });
    const link = {
      client, upstream, timer: null, done: false,
      random: mulberry32((seed + Math.imul(counters.connections, 0x9E3779B9)) >>> 0),
    };
    links.add(link);

    client.on('data', (chunk) => { counters.bytesUp += chunk.length; });
    upstream.on('data', (chunk) => { counters.bytesDown += chunk.length; });
    client.pipe(upstream); // passes a half-close (FIN) on, as end() after the data
    upstream.pipe(client);
    // An abrupt end on one side becomes an abrupt end on the other.
    const onError = (other) => () => { finish(link); resetSocket(other); };
    client.on('error', onError(upstream));
    upstream.on('error', onError(client));
    // A side that closes without having passed its FIN on went away abruptly.
    const onClose = (other) => () => {
      if (!other.destroyed && !other.writableEnded) resetSocket(other);
      if (client.destroyed && upstream.destroyed) finish(link);
    };
    client.on('close', onClose(upstream));
    upstream.on('close', onClose(client));
    schedule(link);
  });
  server.on('error', () => {});

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  const { port } = server.address();

  function setCutting(options) {
    if (options === false || options === null || options === undefined) cutting = null;
    else {
      const given = options === true ? {} : options;
      cutting = { ...DEFAULT_CUTTING, ...given };
      if (!(cutting.minMs >= 0 && cutting.maxMs >= cutting.minMs)) throw new Error('setCutting: need 0 <= minMs <= maxMs');
    }
    for (const link of links) schedule(link);
  }

  function stats() {
    return { ...counters, open: links.size };
  }

  let stopped = null;
  function stop() {
    if (stopped) return stopped;
    cutting = null;
    stopped = new Promise((resolve) => {
      server.close(() => resolve());
      for (const link of [...links]) {
        finish(link);
        link.client.destroy();
        link.upstream.destroy();
      }
    });
    return stopped;
  }

  return { port, origin: `http://127.0.0.1:${port}`, stop, setCutting, stats };
}

module.exports = { startChaosProxy, mulberry32 };
