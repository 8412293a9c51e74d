'use strict';
// Publishes to the project's Nchan over keep-alive connections, as fast as Node can: the
// tests and the benchmark that push thousands of messages use this instead of fetch().
const http = require('node:http');

// Returns { post(channel, body, contentType?) -> Promise, close() }.
function keepAlivePublisher(origin, { connections = 1 } = {}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const url = new URL(origin);
  const post = (channel, body, contentType = 'application/json') => new Promise((resolve, reject) => {
    const request = http.request({
      host: url.hostname, port: url.port, path: `/pub/${channel}`, method: 'POST', agent,
      headers: { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) },
    }, (response) => {
      response.resume();
      response.on('end', () => (response.statusCode < 300 ? resolve()
        : reject(new Error(`publish to ${channel}: HTTP ${response.statusCode}`))));
    });
    request.on('error', reject);
    request.end(body);
  });
  return { post, close: () => agent.destroy() };
}

module.exports = { keepAlivePublisher };
