'use strict';
// Starts a Redis server of its own in the foreground on 127.0.0.1, with nothing persisted,
// for the scale-out tests (two nginx + Nchan instances on one Redis), and stops it again.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { freePort } = require('./nchan.js');

const REDIS = '/usr/bin/redis-server';

function ping(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => { socket.destroy(); resolve(String(data).startsWith('+PONG')); });
    socket.once('error', () => { socket.destroy(); resolve(false); });
  });
}

// Returns { port, url, stop() }; on a free port, or on options.port.
async function startRedis(options = {}) {
  const port = options.port || await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'comet-redis-'));
  const child = spawn(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const killOnExit = () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); };
  process.on('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));
  const started = Date.now();
  while (!(await ping(port))) {
    if (child.exitCode !== null || Date.now() - started > 10000) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not answer on ${port}: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  function stop() {
    return new Promise((resolve) => {
      const done = () => { fs.rmSync(dir, { recursive: true, force: true }); resolve(); };
      if (child.exitCode !== null || child.signalCode !== null) { done(); return; }
      child.once('exit', done);
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 3000).unref();
    });
  }
  return { port, url: `redis://127.0.0.1:${port}`, stop };
}

module.exports = { startRedis };
