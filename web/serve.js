'use strict';
// `npm start`: set up what is missing, build, start nginx + Nchan on 127.0.0.1 with the
// project's config, and serve the demo in web/ through web/demo-server.js.
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

async function main() {
  setup();
  const wanted = Number(process.env.PORT) || 8080;
  const port = (await portIsFree(wanted)) ? wanted : await freePort();
  const demo = await startDemo({ port });
  console.log(`\njquery.comet demo: ${demo.origin}/\n(publish from a shell: curl -d '{"type":"chat","data":{"text":"hi"}}' ` +
    `-H 'Content-Type: application/json' ${demo.origin}/pub/demo)\nCtrl-C stops the server.`);
  const stop = () => demo.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  demo.nchan.child.on('exit', (code) => {
    console.error(`nginx exited (${code})`);
    process.exit(1);
  });
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
