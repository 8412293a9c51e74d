'use strict';
// WebKit for the browser tests: Debian's WebKitGTK MiniBrowser, driven through WebKitWebDriver
// (classic WebDriver: Playwright drives only its own patched WebKit) in an Xvfb display, behind
// the part of Playwright's Browser/BrowserContext/Page API that the tests use, so that a test
// is written once for every engine.
//
// What it is: one WebDriver session per browser; a context is a set of windows in it, a page
// is a window. WebDriver runs one command at a time on the session's current window, so every
// command here goes through one queue that switches to the page's window first. Contexts are
// not isolated from each other: they share cookies and storage (as pages of one Playwright
// context do).
//
// What a page offers: goto, evaluate (a function, run with its argument, awaited; its result
// as JSON), waitForFunction, textContent, $eval, $$eval, fill, click, screenshot, url, reload, goBack,
// context (newContext({ viewport }) sizes its windows' content to it), close, isClosed, and
// on('pageerror' | 'console') through a recorder in the page (test/browser/pages/recorder.js,
// the first script of the test pages, or run after the load where a page lacks it): classic
// WebDriver reports neither uncaught errors nor the console. The recorder sees what the page's
// scripts write to the console, not the browser's own messages (a blocked request, a CSP
// violation). What WebDriver cannot do at all (see the list in UNAVAILABLE) throws, saying so:
// a test that needs it skips WebKit with support.js's needs().
const { processGroupAlive } = require('../env/processes.js');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { Builder, By } = require('selenium-webdriver');
const { freePort } = require('../env/nchan.js');

const XVFB = '/usr/bin/Xvfb';
const DRIVER = '/usr/bin/WebKitWebDriver';
const MINIBROWSER = '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
const RECORDER = fs.readFileSync(path.join(__dirname, 'pages', 'recorder.js'), 'utf8');

// Page events and methods of Playwright's that classic WebDriver has no way to provide.
const UNAVAILABLE = {
  request: 'no request events over classic WebDriver',
  requestfinished: 'no request events over classic WebDriver',
  requestfailed: 'no request events over classic WebDriver',
  response: 'no response events over classic WebDriver',
  crash: 'no crash event over classic WebDriver',
  close: 'no close event over classic WebDriver',
  websocket: 'no WebSocket events over classic WebDriver',
  dialog: 'no dialog events here',
};

// --- Processes ----------------------------------------------------------------------------------

function killGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
  } catch {
    // gone
  }
}

// Ends a process group started here: SIGTERM, then SIGKILL after `grace` ms; resolves when no
// process of it is left.
async function endGroup(pgid, grace = 3000) {
  killGroup(pgid, 'SIGTERM');
  const deadline = Date.now() + grace;
  let killed = false;
  while (processGroupAlive(pgid)) {
    if (!killed && Date.now() > deadline) {
      killGroup(pgid, 'SIGKILL');
      killed = true;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// Groups still to end if the test process exits without closing its browsers.
const live = new Set();
process.on('exit', () => { for (const pgid of live) killGroup(pgid, 'SIGKILL'); });

function start(command, args, options) {
  const child = spawn(command, args, { ...options, detached: true });
  live.add(child.pid);
  child.stderrText = '';
  if (child.stderr) child.stderr.on('data', (chunk) => { child.stderrText = (child.stderrText + chunk).slice(-4000); });
  return child;
}

// Xvfb on a display it chooses itself: it writes the number to fd 3 once it accepts clients.
function startXvfb() {
  const xvfb = start(XVFB, ['-displayfd', '3', '-screen', '0', '1920x1600x24', '-nolisten', 'tcp'],
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let text = '';
    xvfb.stdio[3].on('data', (chunk) => {
      text += chunk;
      if (text.includes('\n')) resolve({ process: xvfb, display: `:${text.trim()}` });
    });
    xvfb.on('error', reject);
    xvfb.on('exit', (code, signal) => reject(new Error(`Xvfb exited (${code ?? signal}) before naming its display: ${xvfb.stderrText}`)));
  });
}

// WebKitWebDriver on a free port, once its /status says it is ready for a session.
async function startDriver(display, timeout = 20000) {
  const port = await freePort();
  const driver = start(DRIVER, [`--port=${port}`, '--host=127.0.0.1'],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, DISPLAY: display } });
  let exited = null;
  driver.on('exit', (code, signal) => { exited = code ?? signal; });
  const started = Date.now();
  for (;;) {
    if (exited !== null) throw new Error(`WebKitWebDriver exited (${exited}) before it was ready: ${driver.stderrText}`);
    try {
      const answer = await fetch(`http://127.0.0.1:${port}/status`);
      if ((await answer.json()).value.ready) return { process: driver, port };
    } catch {
      // not listening yet
    }
    if (Date.now() - started > timeout) throw new Error(`WebKitWebDriver on port ${port} not ready after ${timeout} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// --- The page's side of evaluate ------------------------------------------------------------------

// The body of an asynchronous WebDriver script that runs `expression` (a function's source,
// called with the argument, or an expression), awaits it and hands back, as one JSON string,
// its value or its exception, and what the recorder kept meanwhile. Built here, not with eval
// in the page: a Content-Security-Policy without 'unsafe-eval' forbids that.
function scriptFor(expression, isFunction) {
  return `
    const done = arguments[arguments.length - 1];
    const arg = arguments[0] === '' ? undefined : JSON.parse(arguments[0]);
    const describe = (error) => (error instanceof Error || (error && typeof error.message === 'string')
      ? { name: String(error.name), message: String(error.message), stack: String(error.stack || '') }
      : { name: '', message: String(error), stack: '' });
    const send = (outcome) => {
      outcome.recorded = window.__cometRecorder ? window.__cometRecorder.drain() : null;
      let text;
      try {
        text = JSON.stringify(outcome);
      } catch (error) {
        // A cycle: leave out what repeats.
        const seen = new WeakSet();
        text = JSON.stringify(outcome, (key, value) => {
          if (value && typeof value === 'object') {
            if (seen.has(value)) return undefined;
            seen.add(value);
          }
          return value;
        });
      }
      done(text);
    };
    try {
      Promise.resolve(${isFunction ? `(${expression})(arg)` : `(${expression})`})
        .then((value) => send({ value }), (error) => send({ error: describe(error) }));
    } catch (error) {
      send({ error: describe(error) });
    }`;
}

// A function that returns truthy, polled in the page every `polling` ms for up to `slice` ms:
// resolves true once it does, false when the slice ends first.
function pollFor(expression, polling, slice) {
  return `(arg) => new Promise((resolve, reject) => {
    const fn = (${expression});
    const until = Date.now() + ${slice};
    const check = () => {
      let value;
      try {
        value = fn(arg);
      } catch (error) {
        reject(error);
        return;
      }
      if (value) resolve(true);
      else if (Date.now() >= until) resolve(false);
      else setTimeout(check, ${polling});
    };
    check();
  })`;
}

// --- Browser, context, page -------------------------------------------------------------------------

class WebKitPage {
  constructor(context, handle) {
    this._context = context;
    this._browser = context._browser;
    this._handle = handle;
    this._closed = false;
    this._listeners = { pageerror: [], console: [] };
  }

  _run(command) {
    if (this._closed) return Promise.reject(new Error('webkit: the page is closed'));
    return this._browser._run(this._handle, command);
  }

  // Hands what the recorder kept to the listeners.
  _deliver(recorded) {
    if (!recorded) return;
    for (const error of recorded.errors) {
      const delivered = Object.assign(new Error(error.message), { name: error.name || 'Error', stack: error.stack });
      for (const listener of this._listeners.pageerror) listener(delivered);
    }
    for (const line of recorded.console) {
      const message = { type: () => line.type, text: () => line.text, args: () => [] };
      for (const listener of this._listeners.console) listener(message);
    }
  }

  async _execute(expression, isFunction, arg, what) {
    const argument = arg === undefined ? '' : JSON.stringify(arg);
    const text = await this._run((driver) => driver.executeAsyncScript(scriptFor(expression, isFunction), argument));
    const outcome = JSON.parse(text);
    this._deliver(outcome.recorded);
    if (outcome.error) {
      const error = new Error(`${what}: ${outcome.error.name ? `${outcome.error.name}: ` : ''}${outcome.error.message}`);
      error.pageStack = outcome.error.stack;
      throw error;
    }
    return outcome.value;
  }

  // Runs the recorder where the page has none of its own (from its load on, then).
  async _ensureRecorder() {
    this.recorderLate = await this._run((driver) => driver.executeScript(
      `if (window.__cometRecorder) return false; ${RECORDER}; return true;`));
  }

  async goto(url) {
    await this._run((driver) => driver.get(url));
    this._url = await this._run((driver) => driver.getCurrentUrl());
    await this._ensureRecorder();
  }

  async reload() {
    await this._run((driver) => driver.navigate().refresh());
    await this._ensureRecorder();
  }

  // Back in the window's history (the page may come from the back/forward cache, its recorder
  // with it); Playwright's waitUntil is not needed: WebDriver waits for the navigation.
  async goBack() {
    await this._run((driver) => driver.navigate().back());
    this._url = await this._run((driver) => driver.getCurrentUrl());
    await this._ensureRecorder();
  }

  // As Playwright's, at once: the URL of the last goto (about:blank before one); a navigation
  // of the page's own is not seen here.
  url() {
    return this._url || 'about:blank';
  }

  evaluate(fn, arg) {
    return typeof fn === 'function'
      ? this._execute(fn.toString(), true, arg, 'page.evaluate')
      : this._execute(String(fn), false, arg, 'page.evaluate');
  }

  // Polls in the page in slices of at most a second, so that other pages' commands get their
  // turn between them.
  async waitForFunction(fn, arg, { timeout = 30000, polling = 100 } = {}) {
    const every = typeof polling === 'number' ? polling : 16;  // 'raf': about a frame
    const source = typeof fn === 'function' ? fn.toString() : `() => (${fn})`;
    const deadline = Date.now() + timeout;
    for (;;) {
      const slice = Math.max(0, Math.min(1000, deadline - Date.now()));
      if (await this._execute(pollFor(source, every, slice), true, arg, 'page.waitForFunction')) return true;
      if (Date.now() >= deadline) throw new Error(`page.waitForFunction: Timeout ${timeout}ms exceeded.`);
    }
  }

  // Reads back what the recorder kept: the 'pageerror' listeners (the tests' page.errors) have
  // seen every error so far.
  async readErrors() {
    await this.evaluate(() => undefined);
  }

  textContent(selector) {
    return this.evaluate((s) => {
      const element = document.querySelector(s);
      return element ? element.textContent : null;
    }, selector);
  }

  // fn(element, arg) for the first element `selector` matches (an error if none does), as
  // Playwright's page.$eval; $$eval: fn(elements, arg) for all of them.
  $eval(selector, fn, arg) {
    return this._execute(`([selector, arg]) => {
      const element = document.querySelector(selector);
      if (!element) throw new Error('no element matches ' + selector);
      return (${fn.toString()})(element, arg);
    }`, true, [selector, arg], 'page.$eval');
  }

  $$eval(selector, fn, arg) {
    return this._execute(`([selector, arg]) => (${fn.toString()})([...document.querySelectorAll(selector)], arg)`,
      true, [selector, arg], 'page.$$eval');
  }

  // As a user would: WebDriver's own clear, typing and click on the element.
  fill(selector, value) {
    return this._run(async (driver) => {
      const element = await driver.findElement(By.css(selector));
      await element.clear();
      await element.sendKeys(value);
    });
  }

  click(selector) {
    return this._run(async (driver) => (await driver.findElement(By.css(selector))).click());
  }

  // The window's content as PNG, written to `path` if given; resolves to its bytes.
  async screenshot({ path: file } = {}) {
    const png = Buffer.from(await this._run((driver) => driver.takeScreenshot()), 'base64');
    if (file) fs.writeFileSync(file, png);
    return png;
  }

  // Makes the window's content (innerWidth x innerHeight) `width` x `height`: WebDriver sets
  // the outer size, so the frame around the content is measured first and added.
  async _setViewport({ width, height }) {
    await this._run(async (driver) => {
      const window = driver.manage().window();
      const outer = await window.getRect();
      const inner = await driver.executeScript('return [window.innerWidth, window.innerHeight];');
      await window.setRect({ width: width + (outer.width - inner[0]), height: height + (outer.height - inner[1]) });
    });
  }

  on(event, listener) {
    if (!this._listeners[event]) throw new Error(`webkit: page.on('${event}'): ${UNAVAILABLE[event] || 'not provided here'}`);
    this._listeners[event].push(listener);
    return this;
  }

  once(event, listener) {
    const wrapped = (...args) => {
      this.off(event, wrapped);
      listener(...args);
    };
    return this.on(event, wrapped);
  }

  off(event, listener) {
    if (this._listeners[event]) this._listeners[event] = this._listeners[event].filter((l) => l !== listener);
    return this;
  }

  addInitScript() {
    throw new Error('webkit: page.addInitScript: no script before a page\'s own over classic WebDriver');
  }

  route() {
    throw new Error('webkit: page.route: no request interception over classic WebDriver');
  }

  context() {
    return this._context;
  }

  isClosed() {
    return this._closed;
  }

  async close() {
    if (this._closed) return;
    await this._browser._run(this._handle, async (driver) => {
      await driver.close();
      this._browser._current = null;
    });
    this._closed = true;
    this._context._pages.delete(this);
  }
}

class WebKitContext {
  constructor(browser, { viewport = null } = {}) {
    this._browser = browser;
    this._pages = new Set();
    this._viewport = viewport;
  }

  async newPage() {
    // From the first window: the current one may have been closed.
    const handle = await this._browser._run(this._browser._anchor, async (driver) => {
      await driver.switchTo().newWindow('window');
      const opened = await driver.getWindowHandle();
      this._browser._current = opened;
      return opened;
    });
    const page = new WebKitPage(this, handle);
    this._pages.add(page);
    if (this._viewport) await page._setViewport(this._viewport);
    return page;
  }

  pages() {
    return [...this._pages];
  }

  setOffline() {
    throw new Error('webkit: context.setOffline: no network emulation over classic WebDriver');
  }

  newCDPSession() {
    throw new Error('webkit: no CDP');
  }

  async close() {
    for (const page of [...this._pages]) await page.close();
    this._browser._contexts.delete(this);
  }
}

class WebKitBrowser {
  constructor({ driver, xvfb, webdriver, anchor }) {
    this._driver = driver;
    this._xvfb = xvfb;
    this._webdriver = webdriver;
    this._anchor = anchor;     // the session's first window: never closed, so the session lives
    this._current = anchor;
    this._queue = Promise.resolve();
    this._contexts = new Set();
    this._closed = false;
  }

  // Runs command(driver) after the commands before it, on window `handle`.
  _run(handle, command) {
    const turn = this._queue.then(async () => {
      if (this._closed) throw new Error('webkit: the browser is closed');
      if (handle && this._current !== handle) {
        await this._driver.switchTo().window(handle);
        this._current = handle;
      }
      return command(this._driver);
    });
    this._queue = turn.catch(() => {});
    return turn;
  }

  async newContext(options = {}) {
    const context = new WebKitContext(this, options);
    this._contexts.add(context);
    return context;
  }

  async newPage() {
    return (await this.newContext()).newPage();
  }

  contexts() {
    return [...this._contexts];
  }

  browserType() {
    return { name: () => 'webkit' };
  }

  version() {
    return this._version;
  }

  // Ends the session, WebKitWebDriver (and the MiniBrowser it started) and Xvfb; resolves when
  // none of their processes is left.
  async close() {
    if (this._closed) return;
    await this._queue;
    this._closed = true;
    // At most 10 s for the session to end; the timer goes once it has, or it would keep the
    // test file's process alive that long after its last test.
    let timer;
    await Promise.race([this._driver.quit().catch(() => {}), new Promise((resolve) => { timer = setTimeout(resolve, 10000); })]);
    clearTimeout(timer);
    for (const child of [this._webdriver, this._xvfb]) {
      await endGroup(child.pid);
      live.delete(child.pid);
    }
  }
}

// Starts Xvfb, WebKitWebDriver and a MiniBrowser session; `timings` gets what each took.
async function launchWebKit({ timings = {} } = {}) {
  const started = Date.now();
  const xvfb = await startXvfb();
  timings.xvfb = Date.now() - started;
  let webdriver;
  try {
    webdriver = await startDriver(xvfb.display);
    timings.driver = Date.now() - started;
    const driver = await new Builder().usingServer(`http://127.0.0.1:${webdriver.port}`).withCapabilities({
      browserName: 'MiniBrowser',
      'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] },
    }).build();
    // evaluate has no time limit of its own (as in Playwright): the test's is the one that counts.
    await driver.manage().setTimeouts({ script: 600000, pageLoad: 60000 });
    const anchor = await driver.getWindowHandle();
    timings.session = Date.now() - started;
    const browser = new WebKitBrowser({ driver, xvfb: xvfb.process, webdriver: webdriver.process, anchor });
    browser._version = (await driver.getCapabilities()).get('browserVersion');
    return browser;
  } catch (error) {
    for (const child of [webdriver && webdriver.process, xvfb.process].filter(Boolean)) {
      await endGroup(child.pid);
      live.delete(child.pid);
    }
    throw error;
  }
}

module.exports = { launchWebKit, UNAVAILABLE };
