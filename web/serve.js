'use strict';
// `npm start`: set up what is missing, build, start nginx + Nchan on 127.0.0.1 with the
// project's config, and serve the demo in web/ through web/demo-server.js.
//
// Ctrl-C (SIGINT, to the whole foreground process group) or SIGTERM stops nginx, removes its
// temporary directory and exits with 0. nginx runs in a process group of its own
// (test/env/nchan.js starts it detached), so the terminal's SIGINT reaches only this process,
// and only stop() ends nginx. nginx exiting on its own is an error: exit code 1.
const { setup } = require('../tools/setup.js');
const { freePort } = require('../test/env/nchan.js');
const { startDemo } = require('./demo-server.js');
const net = require('node:net');

function portIsFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

let demo = null;
let stopping = false;

// Stops what runs and exits with `code`; a second signal meanwhile changes nothing (the stop
// takes at most nginx's 3 s of graceful shutdown).
function shutdown(code) {
  if (stopping) return;
  stopping = true;
  // Before startDemo() has resolved there is nothing to stop yet: main() stops it once it has.
  if (!demo) return;
  demo.stop().then(() => process.exit(code), (error) => {
    console.error(`stopping the demo: ${error.message}`);
    process.exit(1);
  });
}

async function main() {
  // Set first: Node's default for SIGINT would exit at once and leave nginx running.
  process.on('SIGINT', () => shutdown(0));
  process.on('SIGTERM', () => shutdown(0));
  setup();
  const wanted = Number(process.env.PORT) || 8080;
  const port = (await portIsFree(wanted)) ? wanted : await freePort();
  demo = await startDemo({ port });
  demo.nchan.child.on('exit', (code, signal) => {
    if (stopping) return;  // the stop's own doing
    let log = '';
    try {
      log = demo.nchan.log().trim().split('\n').slice(-10).join('\n');
    } catch (error) {
      // no log
    }
    console.error(`nginx exited (${signal || code})${log ? `; the end of its error log:\n${log}` : ''}`);
    shutdown(1);
  });
  if (stopping) {
    // A signal came during the start.
    stopping = false;
    shutdown(0);
    return;
  }
  console.log(`\njquery.comet demo: ${demo.origin}/\n(publish from a shell: curl -d '{"type":"chat","data":{"text":"hi"}}' ` +
    `-H 'Content-Type: application/json' ${demo.origin}/pub/demo)\nCtrl-C stops the server.`);
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
