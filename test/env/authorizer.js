'use strict';
// The application behind nginx's `nchan_authorize_request` in the tests: a small Node HTTP
// server on 127.0.0.1 that says yes (200) or no (401, 403) to each subscriber poll, as a real
// application's session check would. Nchan asks it once per long poll (a subrequest through
// an internal location that proxy_passes here) and hands a refusal's status, headers and body
// to the client as they are.
//
//   GET /bearer  Authorization: Bearer <token>: 200 for a user's current token; 401 with
//                WWW-Authenticate for a missing, unknown or rotated-away token; 403 with a body
//                that says so for a revoked user.
//   GET /cookie  the same by the cookie `session=<token>` (the cross-origin tests).
//   GET /token?user=<name>  the user's current token, as text (what a page's headers function
//                fetches: nginx serves it on the page's origin as /session/token).
//   GET /token  Cookie: user=<name>  the same as JSON, {"token": "..."}: the README's headers
//                example fetches it as written, $.getJSON('/token') (nginx serves it on the
//                page's origin as /token; the page names its user in that cookie).
//
//   const authorizer = await startAuthorizer();
//   authorizer.token('alice')    the current token (issued on first use)
//   authorizer.rotate('alice')   a new one; the old one is refused from now on
//   authorizer.revoke('alice')   403 from now on, whatever the token
//   authorizer.requests(filter)  what it was asked: [{ path, uri, headers, status }], uri being
//                                the subscriber's own request URI (X-Original-URI); filter: a
//                                string the uri contains
//   authorizer.count(filter), authorizer.lastHeaders(filter), authorizer.tokenRequests(user),
//   await authorizer.stop()
const crypto = require('node:crypto');
const http = require('node:http');

function startAuthorizer() {
  const tokens = new Map();    // user -> current token
  const revoked = new Set();   // users
  const seen = [];

  const newToken = (user) => `${user}.${crypto.randomBytes(12).toString('hex')}`;
  const token = (user) => {
    if (!tokens.has(user)) tokens.set(user, newToken(user));
    return tokens.get(user);
  };
  const userOf = (presented) => {
    for (const [user, current] of tokens) if (current === presented) return user;
    return null;
  };

  // The decision for one presented token: [status, headers, body].
  function decide(presented, scheme) {
    const user = presented ? userOf(presented) : null;
    if (user !== null && revoked.has(user)) {
      return [403, { 'Content-Type': 'text/plain' }, `user ${user} is revoked: access to this channel is forbidden\n`];
    }
    if (user !== null) return [200, {}, ''];
    const challenge = scheme === 'cookie' ? 'Cookie realm="comet"'
      : `Bearer realm="comet", error="invalid_token"`;
    return [401, { 'Content-Type': 'text/plain', 'WWW-Authenticate': challenge },
      presented ? 'token expired or unknown\n' : 'no credentials\n'];
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://authorizer');
    let answer;
    let user = null;
    if (url.pathname === '/token') {
      const cookie = /(?:^|;\s*)user=([^;]+)/.exec(req.headers.cookie || '');
      user = url.searchParams.get('user') || (cookie && decodeURIComponent(cookie[1])) || 'anonymous';
      answer = url.searchParams.has('user')
        ? [200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-store' }, token(user)]
        : [200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }, JSON.stringify({ token: token(user) })];
    } else if (url.pathname === '/bearer') {
      const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization || '');
      answer = decide(match && match[1], 'bearer');
    } else if (url.pathname === '/cookie') {
      const match = /(?:^|;\s*)session=([^;]+)/.exec(req.headers.cookie || '');
      answer = decide(match && decodeURIComponent(match[1]), 'cookie');
    } else {
      answer = [404, { 'Content-Type': 'text/plain' }, 'no such check\n'];
    }
    const [status, headers, body] = answer;
    seen.push({ path: url.pathname, uri: req.headers['x-original-uri'] || '', user, headers: { ...req.headers }, status, at: Date.now() });
    res.writeHead(status, { ...headers, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });

  const requests = (filter = '') => seen.filter((entry) => entry.path !== '/token' && entry.uri.includes(filter));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        port,
        address: `127.0.0.1:${port}`,
        origin: `http://127.0.0.1:${port}`,
        token,
        rotate: (user) => {
          tokens.set(user, newToken(user));
          return tokens.get(user);
        },
        revoke: (user) => { revoked.add(user); },
        requests,
        count: (filter) => requests(filter).length,
        lastHeaders: (filter) => {
          const all = requests(filter);
          return all.length ? all[all.length - 1].headers : null;
        },
        // How many times /token was asked for `user`'s token.
        tokenRequests: (user) => seen.filter((entry) => entry.path === '/token' && entry.user === user).length,
        stop: () => new Promise((done) => {
          server.closeAllConnections();
          server.close(() => done());
        }),
      });
    });
  });
}

module.exports = { startAuthorizer };
