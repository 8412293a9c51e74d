'use strict';
// Shared fixtures for the browser tests: real nginx + Nchan, real browsers through
// playwright-core (Debian's Chromium, and Debian's Firefox ESR over WebDriver BiDi) and through
// WebKitWebDriver (Debian's WebKitGTK MiniBrowser, behind the same page API: ./webkit.js), and
// small helpers to publish and to wait for what a page saw.
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const http = require('node:http');
const { chromium } = require('playwright-core');
// Playwright 1.65's BiDi backend cannot open a context in Firefox ESR 153: 1.64 can.
const { firefox } = require('playwright-core-firefox');
const { launchWebKit } = require('./webkit.js');
const { startNchan } = require('../env/nchan.js');
const { startAuthorizer } = require('../env/authorizer.js');
const { reportLingering } = require('../env/lingering.js');

reportLingering(require.main ? require.main.filename : 'a browser test file');

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const JQUERY_VERSIONS = ['1', '3', '4'];

const ENGINES = ['chromium', 'firefox', 'webkit'];

// The engines a run covers: all, or COMET_ENGINES=chromium (a comma-separated list) for a
// quicker run while developing. Tests written for several engines loop over these.
function engines() {
  const chosen = (process.env.COMET_ENGINES || ENGINES.join(',')).split(',').map((name) => name.trim()).filter(Boolean);
  for (const name of chosen) if (!ENGINES.includes(name)) throw new Error(`COMET_ENGINES: unknown engine ${name}`);
  return chosen;
}

// What a test may need that an engine's driver cannot give (WebKit's is classic WebDriver:
// no request events or interception, no network emulation, no script before the page's own,
// no renderer crash); what the page's scripts write to the console, and its uncaught errors,
// it has (test/browser/pages/recorder.js).
const LACKS = {
  webkit: {
    requests: 'webkit: no request or response events over classic WebDriver',
    routes: 'webkit: no request interception over classic WebDriver',
    offline: 'webkit: no network emulation (setOffline) over classic WebDriver',
    'init-scripts': "webkit: no script before the page's own (addInitScript) over classic WebDriver",
    crash: 'webkit: no way to crash a renderer over classic WebDriver',
    'browser-console': "webkit: only what the page's scripts log reaches the test, not the browser's own console messages",
  },
  firefox: {
    crash: 'firefox: no way to crash a renderer (that takes CDP, which is Chromium\'s)',
    bfcache: 'firefox: no back/forward cache under Playwright (a page left and gone back to is loaded anew, even a plain one)',
  },
};

// The reason `engine` cannot run a test that needs `feature`, or false: for node:test's skip,
// as in it(name, { skip: needs(engine, 'requests') }, ...) or `if (reason) return t.skip(reason)`.
function needs(engine, ...features) {
  const lacks = LACKS[engine] || {};
  for (const feature of features) if (lacks[feature]) return lacks[feature];
  return false;
}

// Runs `fn` as subtest `name` of test `t`, skipped with `reason` when there is one: the part of
// a test that an engine cannot do is skipped and reported (test/run.js lists every skip with
// its reason), never left out silently.
function part(t, name, reason, fn) {
  return t.test(name, { skip: reason || false }, fn);
}

function launchBrowser(engine = 'chromium') {
  if (engine === 'webkit') return launchWebKit();
  if (engine === 'firefox') {
    return firefox.launch({ channel: 'moz-firefox', executablePath: '/usr/bin/firefox-esr', headless: true });
  }
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

function channel(prefix = 'ch') {
  return `${prefix}-${crypto.randomBytes(6).toString('hex')}`;
}

// Starts the server and the browser (Chromium unless told) once per test file; with
// `authorizer`, first the application that the server's authorized locations ask
// (test/env/authorizer.js), as env.authorizer.
function fixture({ engine = 'chromium', authorizer = false } = {}) {
  const env = { server: null, browser: null, authorizer: null, pages: [], engine };
  env.start = async () => {
    if (authorizer) env.authorizer = await startAuthorizer();
    [env.server, env.browser] = await Promise.all([startNchan({ authorizer: env.authorizer }), launchBrowser(engine)]);
  };
  env.stop = async () => {
    await Promise.all([env.browser && env.browser.close(), env.server && env.server.stop()]);
    if (env.authorizer) await env.authorizer.stop();
  };
  // Opens a page and records every uncaught error it produces. `path` is on the server's
  // origin, or a whole URL (a page served through a proxy).
  env.open = async (path) => {
    const context = await env.browser.newContext();
    const page = await context.newPage();
    page.errors = [];
    page.on('pageerror', (error) => page.errors.push(error.message));
    await page.goto(/^https?:/.test(path) ? path : env.server.origin + path);
    return page;
  };
  // The test page with jQuery `jq`, ready; from the server, or from `origin` (a proxy's).
  env.harness = async (jq = '3', origin = env.server.origin) => {
    const page = await env.open(`${origin}/test/harness.html?jq=${jq}`);
    await page.evaluate(() => $.comet.ready);
    return page;
  };
  env.publish = (...args) => env.server.publish(...args);
  env.channelInfo = (name) => env.server.channelInfo(name);
  return env;
}

// Installs recorders in the page: window.seen (every comet.message), window.errors (onError
// calls and comet.error events).
async function record(page) {
  await page.evaluate(() => {
    window.seen = [];
    window.errors = [];
    window.cometErrors = [];
    $(document).bind('comet.message', (event, data, type) => { window.seen.push({ data, type }); });
    $(document).bind('comet.error', (event, info) => {
      window.cometErrors.push({ status: info.status, textStatus: info.textStatus, message: info.message, retryIn: info.retryIn });
    });
    window.onErrorRecorder = (xhr, textStatus, thrown) => {
      window.errors.push({
        status: xhr.status, textStatus, thrown: String(thrown && thrown.message || thrown),
        thrownIsError: thrown instanceof Error, responseText: xhr.responseText,
        contentType: xhr.getResponseHeader('Content-Type'),
      });
    };
  });
}

// Records in the page every XHR it sends (the library's polls): window.sentAt, when each was
// sent by the page's own clock, and window.ended, how each ended ('load', 'error', 'abort' or
// 'timeout'; absent while it is out). The same in every engine, the server's view aside.
async function recordSends(page) {
  await page.evaluate(() => {
    window.sentAt = [];
    window.ended = [];
    const send = XMLHttpRequest.prototype.send;
    XMLHttpRequest.prototype.send = function (...args) {
      const index = window.sentAt.push(performance.now()) - 1;
      for (const type of ['load', 'error', 'abort', 'timeout']) {
        this.addEventListener(type, () => { window.ended[index] = type; });
      }
      return send.apply(this, args);
    };
  });
}

async function waitFor(page, fn, arg, timeout = 5000) {
  try {
    await page.waitForFunction(fn, arg, { timeout, polling: 20 });
  } catch (error) {
    const state = await page.evaluate(() => ({ seen: window.seen, errors: window.errors })).catch(() => null);
    throw new Error(`timed out waiting for ${fn}: ${JSON.stringify(state).slice(0, 8000)}`);
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Polls the server (the fixture's, or any startNchan() server) until the channel's subscriber
// count is `count`.
async function waitForSubscribers(server, name, count, timeout = 5000) {
  const started = Date.now();
  let info;
  for (;;) {
    info = await server.channelInfo(name);
    if (info.subscribers === count) return info;
    if (Date.now() - started > timeout) {
      assert.fail(`channel ${name}: expected ${count} subscribers, server says ${info.subscribers}`);
    }
    await sleep(25);
  }
}

// The channel's subscriber count, asked over a new connection, or -1 while nothing answers:
// during a reload an old worker may close a connection under a request, and only the new
// workers accept one, so an answer also says the server is back.
function subscribers(server, name) {
  return new Promise((resolve) => {
    const request = http.get(`${server.origin}/pub/${name}`, { agent: false, headers: { Accept: 'text/json' } }, (response) => {
      let text = '';
      response.on('data', (chunk) => { text += chunk; });
      response.on('end', () => {
        if (response.statusCode === 404) resolve(0);
        else if (response.statusCode !== 200) resolve(-1);
        else resolve(JSON.parse(text).subscribers);
      });
    });
    request.on('error', () => resolve(-1));
  });
}

// Firefox reports each cross-origin request that got no answer (a refused port) to the page as
// an error of its own, the console's "(Reason: CORS request did not succeed)", not an exception
// of the page's (the page is told status 0, as in the other engines, which report nothing of
// the kind). Drops those for URLs containing `url` from page.errors, in Firefox only.
function dropFirefoxCorsErrors(page, engine, url) {
  if (engine !== 'firefox') return;
  page.errors = page.errors.filter((message) => !(message.includes('CORS request did not succeed') && message.includes(url)));
}

// A WebKit page learns of its errors only when it asks the page: then this returns a promise
// (await it); in the other engines it checks at once.
function assertNoPageErrors(page) {
  const check = () => assert.deepEqual(page.errors, [], 'the page threw uncaught errors');
  if (page.readErrors && !page.isClosed()) return page.readErrors().then(check);
  return check();
}

module.exports = { fixture, record, recordSends, waitFor, waitForSubscribers, subscribers, channel, sleep, assertNoPageErrors, JQUERY_VERSIONS,
  launchBrowser, CHROMIUM_ARGS, engines, ENGINES, needs, part, dropFirefoxCorsErrors };
