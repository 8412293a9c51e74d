'use strict';
// A test file whose tests are all done but whose process does not end (a socket, a child's
// pipe or a timer still open) waits for test/run.js's time limit and fails without a word of
// why. Required by a file's fixtures, this names what still keeps the process alive
// `afterMs` after its last test; the timer itself keeps nothing alive.
const { after } = require('node:test');

function describeHandle(handle) {
  const name = handle.constructor ? handle.constructor.name : typeof handle;
  if (name === 'ChildProcess') return `child process ${handle.pid} (${(handle.spawnargs || []).join(' ').slice(0, 120)})`;
  if (name === 'Server' && handle.address) {
    const address = handle.address();
    return `server ${address && typeof address === 'object' ? `${address.address}:${address.port}` : address}`;
  }
  if (name === 'Socket') {
    if (handle.remotePort) return `socket ${handle.localPort} -> ${handle.remoteAddress}:${handle.remotePort}${handle.destroyed ? ' (destroyed)' : ''}`;
    if (handle._handle && handle._handle.fd >= 0) return `pipe fd ${handle._handle.fd}${handle === process.stdout || handle === process.stderr ? ' (stdout/stderr)' : ''}`;
    return 'socket';
  }
  return name;
}

function reportLingering(label, afterMs = 10000) {
  after(() => {
    setTimeout(() => {
      const handles = process._getActiveHandles().map(describeHandle);
      const resources = process.getActiveResourcesInfo();
      process.stderr.write(`${label}: still running ${afterMs} ms after its last test; kept alive by: ` +
        `${handles.join('; ')} (resources: ${resources.join(', ')})\n`);
    }, afterMs).unref();
  });
}

module.exports = { reportLingering };
