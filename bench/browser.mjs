// The browser section of `make bench`: three signed-in pages loaded in Debian's Chromium
// under a slow phone's conditions (CDP: 1.6 Mbps down, 750 kbps up, 150 ms latency, CPU 4x
// slower), first cold (a new browser context: empty cache, no connections), then warm (the
// same page reloaded in the same context, cache kept). Prints a table beside the budgets
// and the figures stored in bench/browser-baseline.json; writes its own figures in the same
// structure to $BENCH_BROWSER_OUT when that is set. Budgets are reported, never asserted.
//
// Usage: node bench/browser.mjs APP_PORT RELEASE_ID CAPTAIN_COOKIE OWNER_COOKIE
//   RELEASE_ID: a release in go_no_go with 40 checklist items, owned by OWNER_COOKIE's user.
//   Cookies as `shipgate_session=…`. Environment: CHROMIUM_PATH (/usr/bin/chromium),
//   BENCH_BROWSER_BASELINE (bench/browser-baseline.json), BENCH_BROWSER_OUT,
//   BENCH_BROWSER_SOURCE (what was measured, for the JSON's "source").
import { createRequire } from 'node:module';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');

const KB = 1000;
const LOAD_TIMEOUT_MS = 60_000;
const NETWORK = { offline: false, latency: 150, downloadThroughput: 200_000, uploadThroughput: 93_750 };
const CPU_SLOWDOWN = 4;
const LAUNCH_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking'];
// The sign button: the sign-off page's own test id, else the GO button of the sign form.
const SIGN_BUTTON = ['[data-testid="sign-go"]', 'button[value="go"]'];
// Long-lived responses that never finish and must not hold up "the network is quiet".
const STREAMS = new Set(['EventSource', 'WebSocket']);
const CONDITIONS =
  'Playwright, CDP throttling: 1.6 Mbps down, 750 kbps up, 150 ms latency, CPU 4x slower; ' +
  'cold = new browser context, warm = reload in the same context; 1 KB = 1000 bytes';

const FIELDS = [
  'js_wasm_bytes_cold', 'all_bytes_cold', 'html_bytes_cold', 'all_bytes_warm',
  'hydrated_ms_cold', 'hydrated_ms_warm', 'sign_ready_ms_cold', 'sign_ready_ms_warm',
];

function fail(message, code = 1) {
  console.error(`bench browser: ${message}`);
  process.exit(code);
}

function loadPlaywright() {
  const require = createRequire(path.join(root, 'end2end', 'package.json'));
  for (const name of ['playwright-core', '@playwright/test']) {
    try {
      return require(name);
    } catch (e) {
      if (e.code !== 'MODULE_NOT_FOUND') throw e;
    }
  }
  fail(`Playwright is not installed in ${path.join(root, 'end2end', 'node_modules')}: make tools installs it (npm ci in end2end/)`);
}

/** `shipgate_session=…` as a Playwright cookie for the app's origin. */
function cookieFor(header, base) {
  const eq = header.indexOf('=');
  if (eq < 1) fail(`not a cookie: "${header}" (expected name=value)`, 2);
  return { name: header.slice(0, eq).trim(), value: header.slice(eq + 1).trim(), url: base };
}

const remaining = (deadline) => Math.max(1, deadline - Date.now());
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Each page answers 200 before it is measured (this also has the server render it once, so
 * "cold" is the browser's cold start, not the server's). A sign-off page that answers 404 is
 * measured on the release page instead, where builds before the sign-off page had the form.
 */
async function resolvePage(base, pg) {
  const get = async (p) => {
    const res = await fetch(base + p, {
      headers: { cookie: pg.cookie, 'accept-language': 'en-US,en;q=0.9' },
      redirect: 'manual',
      signal: AbortSignal.timeout(LOAD_TIMEOUT_MS),
    });
    await res.arrayBuffer();
    return res;
  };
  let res = await get(pg.path);
  if (res.status === 404 && pg.fallback) {
    const fb = await get(pg.fallback);
    if (fb.status === 200) {
      pg.note = `${pg.path} answered 404 (no sign-off page in this build), so the sign form on ${pg.fallback} was measured`;
      pg.path = pg.fallback;
      pg.pattern = pg.fallbackPattern;
      res = fb;
    }
  }
  if (res.status >= 300 && res.status < 400) {
    throw new Error(`${pg.path} redirected to ${res.headers.get('location')}: the ${pg.who}'s session cookie was not accepted`);
  }
  if (res.status !== 200) throw new Error(`${pg.path} answered ${res.status} (signed in as the ${pg.who})`);
}

/** Requests seen by CDP since the last reset: URL, type, frame, bytes on the wire. */
function trackNetwork(cdp) {
  let requests = new Map();
  const net = {
    mainFrame: null,
    reset() {
      requests = new Map();
    },
    totals() {
      let all = 0, jsWasm = 0, html = null;
      for (const r of requests.values()) {
        if (!r.finished || !/^https?:/.test(r.url)) continue;
        all += r.bytes;
        if (/\.(m?js|wasm)$/i.test(new URL(r.url).pathname)) jsWasm += r.bytes;
        if (html === null && r.type === 'Document' && (net.mainFrame === null || r.frameId === net.mainFrame)) html = r.bytes;
      }
      return { all, jsWasm, html };
    },
    pending() {
      return [...requests.values()].filter((r) => !r.finished && !r.failed && !STREAMS.has(r.type) && /^https?:/.test(r.url));
    },
    /** Waits until no request is in flight for `idleMs`, or `capMs` have passed. */
    async quiet(idleMs, capMs) {
      const until = Date.now() + capMs;
      let idleSince = null;
      while (Date.now() < until) {
        if (net.pending().length === 0) {
          idleSince ??= Date.now();
          if (Date.now() - idleSince >= idleMs) return;
        } else idleSince = null;
        await sleep(50);
      }
    },
  };
  cdp.on('Network.requestWillBeSent', (p) => {
    requests.set(p.requestId, { url: p.request.url, type: p.type, frameId: p.frameId, finished: false, failed: false, bytes: 0 });
  });
  cdp.on('Network.responseReceived', (p) => {
    const r = requests.get(p.requestId);
    if (r) r.url = p.response.url;
  });
  cdp.on('Network.loadingFinished', (p) => {
    const r = requests.get(p.requestId);
    if (r) Object.assign(r, { finished: true, bytes: p.encodedDataLength });
  });
  cdp.on('Network.loadingFailed', (p) => {
    const r = requests.get(p.requestId);
    if (r) r.failed = true;
  });
  return net;
}

/**
 * Runs in the page at every animation frame until it returns marks: the time (ms since
 * navigation start) the document was first seen hydrated (the hydrate entry sets
 * data-hydrated="true" on <html> once event handlers are attached) and, where asked, the
 * time it was first seen hydrated with the sign button present.
 */
function readiness({ sign, selectors }) {
  const m = (window.__shipgateBench ??= {});
  const t = performance.now();
  if (m.hydrated == null && document.documentElement.dataset.hydrated === 'true') m.hydrated = t;
  if (sign && m.sign == null && m.hydrated != null && selectors.some((s) => document.querySelector(s))) m.sign = t;
  return m.hydrated != null && (!sign || m.sign != null) ? { hydrated: m.hydrated, sign: m.sign ?? null } : false;
}

/**
 * Polls `readiness` at every animation frame until it holds. Playwright releases before 1.55
 * could not re-run a waitForFunction predicate under a Content-Security-Policy without
 * 'unsafe-eval' (Shipgate's); there the same check is polled through page.evaluate instead.
 */
async function waitReady(page, arg, deadline) {
  try {
    const handle = await page.waitForFunction(readiness, arg, { polling: 'raf', timeout: remaining(deadline) });
    return await handle.jsonValue();
  } catch (e) {
    if (!/unsafe-eval|EvalError/.test(e.message)) throw e;
  }
  while (Date.now() < deadline) {
    const marks = await page.evaluate(readiness, arg).catch(() => false);
    if (marks) return marks;
    await sleep(20);
  }
  throw new Error(`timed out after ${LOAD_TIMEOUT_MS} ms`);
}

/** One load (a navigation or a reload) until interactive and the network quiet. */
async function load(page, net, pg, navigate, errors) {
  net.reset();
  errors.length = 0;
  const deadline = Date.now() + LOAD_TIMEOUT_MS;
  const response = await navigate({ waitUntil: 'commit', timeout: LOAD_TIMEOUT_MS });
  const status = response?.status();
  if (status !== 200 && status !== 304) throw new Error(`${pg.path} answered ${status ?? 'nothing'} in the browser`);
  if (new URL(page.url()).pathname === '/login') throw new Error(`${pg.path} sent the browser to /login: the ${pg.who}'s cookie was not accepted`);
  let marks;
  try {
    marks = await waitReady(page, { sign: pg.sign, selectors: SIGN_BUTTON }, deadline);
  } catch (e) {
    const seen = await page.evaluate((selectors) => ({
      hydrated: document.documentElement.dataset.hydrated ?? '(not set)',
      button: selectors.some((s) => document.querySelector(s)),
    }), SIGN_BUTTON).catch(() => null);
    const state = seen ? ` (data-hydrated: ${seen.hydrated}${pg.sign ? `, sign button present: ${seen.button}` : ''})` : '';
    const why = errors.length ? `; page errors: ${errors.slice(0, 3).join(' | ')}` : '';
    throw new Error(`${pg.path} was not interactive within ${LOAD_TIMEOUT_MS / 1000} s${state}${why} [${e.message.split('\n')[0]}]`);
  }
  await page.waitForLoadState('load', { timeout: remaining(deadline) });
  await net.quiet(500, Math.min(10_000, remaining(deadline)));
  return { ...net.totals(), hydrated: marks.hydrated, sign: marks.sign };
}

/** Cold load in a fresh context, then the warm reload in the same context. */
async function measure(browser, base, pg) {
  const context = await browser.newContext({ locale: 'en-US' });
  try {
    await context.addCookies([cookieFor(pg.cookie, base)]);
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e.message).split('\n')[0]));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text().split('\n')[0]));
    const cdp = await context.newCDPSession(page);
    const net = trackNetwork(cdp);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: false });
    await cdp.send('Network.emulateNetworkConditions', NETWORK);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU_SLOWDOWN });
    net.mainFrame = (await cdp.send('Page.getFrameTree').catch(() => null))?.frameTree?.frame?.id ?? null;
    const cold = await load(page, net, pg, (o) => page.goto(base + pg.path, o), errors);
    const warm = await load(page, net, pg, (o) => page.reload(o), errors);
    return {
      js_wasm_bytes_cold: cold.jsWasm, all_bytes_cold: cold.all, html_bytes_cold: cold.html, all_bytes_warm: warm.all,
      hydrated_ms_cold: cold.hydrated, hydrated_ms_warm: warm.hydrated,
      sign_ready_ms_cold: pg.sign ? cold.sign : null, sign_ready_ms_warm: pg.sign ? warm.sign : null,
    };
  } finally {
    await context.close().catch(() => {});
  }
}

function readBaseline(file) {
  if (!existsSync(file)) {
    console.error(`bench browser: no baseline at ${file}; the baseline column shows n/a`);
    return null;
  }
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    console.error(`bench browser: ${file} is not readable JSON (${e.message}); the baseline column shows n/a`);
    return null;
  }
}

const bytes = (v) => (v == null ? 'n/a' : `${(v / KB).toFixed(1)} KB`);
const secs = (v) => (v == null ? 'n/a' : `${(v / 1000).toFixed(2)} s`);

function printTable(results, baseline, pages, version) {
  const row = (key, field, label, fmt, budget) => {
    const value = results[key]?.[field] ?? null;
    const base = baseline?.pages?.[key]?.[field] ?? null;
    const met = budget == null ? '' : value == null ? 'n/a' : value <= budget.limit ? 'yes' : 'NO';
    return [label, budget ? budget.text : '-', fmt(value), fmt(base), met];
  };
  const kb = (n) => ({ limit: n * KB, text: `<= ${n} KB` });
  const s = (n) => ({ limit: n * 1000, text: `<= ${n.toFixed(1)} s` });
  const rows = [
    row('sign', 'js_wasm_bytes_cold', 'sign-off: JS+WASM transferred, cold', bytes, kb(300)),
    row('sign', 'all_bytes_cold', 'sign-off: all bytes transferred, cold', bytes, kb(400)),
    row('sign', 'html_bytes_cold', 'sign-off: HTML transferred, cold', bytes),
    row('sign', 'all_bytes_warm', 'sign-off: all bytes transferred, warm', bytes),
    row('sign', 'sign_ready_ms_cold', 'sign-off: sign button works, cold', secs, s(3)),
    row('sign', 'sign_ready_ms_warm', 'sign-off: sign button works, warm', secs, s(1)),
    row('release', 'js_wasm_bytes_cold', 'release page: JS+WASM transferred, cold', bytes, kb(300)),
    row('release', 'all_bytes_cold', 'release page: all bytes transferred, cold', bytes),
    row('release', 'html_bytes_cold', 'release page: HTML transferred (40 items)', bytes, kb(40)),
    row('release', 'hydrated_ms_cold', 'release page: hydrated, cold', secs),
    row('release', 'hydrated_ms_warm', 'release page: hydrated, warm', secs),
    row('status', 'js_wasm_bytes_cold', '/status: JS+WASM transferred, cold', bytes, kb(300)),
    row('status', 'all_bytes_cold', '/status: all bytes transferred, cold', bytes),
    row('status', 'html_bytes_cold', '/status: HTML transferred, cold', bytes),
    row('status', 'hydrated_ms_cold', '/status: hydrated, cold', secs),
    row('status', 'hydrated_ms_warm', '/status: hydrated, warm', secs),
  ];
  const head = ['browser (throttled, signed in)', 'budget', 'this build', 'baseline (old main)', 'met?'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('   ').trimEnd();
  console.log();
  console.log(line(head));
  for (const r of rows) console.log(line(r));
  for (const pg of pages) {
    const was = baseline?.pages?.[pg.key]?.path;
    const then = was && was !== pg.pattern ? `; baseline measured ${was}` : '';
    console.log(`  ${pg.label}: ${pg.pattern} as the ${pg.who}${then}${pg.note ? `. ${pg.note}` : ''}`);
  }
  console.log(`  Chromium ${version}; ${CONDITIONS}`);
  const measured = FIELDS.some((f) => Object.values(baseline?.pages ?? {}).some((p) => p?.[f] != null));
  console.log(measured
    ? `  baseline: ${baseline.source ?? '(no source given)'}, measured on ${baseline.measured_on ?? '(no date given)'}`
    : '  baseline: not measured yet (bench/browser-baseline.json holds no figures)');
}

async function main() {
  const [port, id, captainCookie, ownerCookie] = process.argv.slice(2);
  if (!port || !/^\d+$/.test(id ?? '') || !captainCookie || !ownerCookie) {
    fail('usage: node bench/browser.mjs APP_PORT RELEASE_ID CAPTAIN_COOKIE OWNER_COOKIE', 2);
  }
  const base = `http://127.0.0.1:${port}`;
  const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (!existsSync(executablePath)) fail(`no Chromium at ${executablePath}: apt-get install -y chromium`);
  const pages = [
    { key: 'sign', label: 'sign-off page', path: `/releases/${id}/sign`, pattern: '/releases/{id}/sign', cookie: ownerCookie, who: 'product owner', sign: true,
      fallback: `/releases/${id}`, fallbackPattern: '/releases/{id}' },
    { key: 'release', label: 'release page', path: `/releases/${id}`, pattern: '/releases/{id}', cookie: captainCookie, who: 'release captain', sign: false },
    { key: 'status', label: 'status page', path: '/status', pattern: '/status', cookie: captainCookie, who: 'release captain', sign: false },
  ];
  const { chromium } = loadPlaywright();
  let browser;
  try {
    browser = await chromium.launch({ executablePath, headless: true, args: LAUNCH_ARGS, timeout: LOAD_TIMEOUT_MS });
  } catch (e) {
    fail(`could not start Chromium at ${executablePath}: ${e.message.split('\n')[0]}`);
  }
  const version = browser.version();
  const results = {};
  const failures = [];
  try {
    for (const pg of pages) {
      try {
        await resolvePage(base, pg);
        console.error(`bench: browser: ${pg.path} as the ${pg.who}, cold then warm…`);
        try {
          results[pg.key] = await measure(browser, base, pg);
        } catch (e) {
          // A page in a fresh context sometimes never hydrates (see end2end/tests/helpers.ts);
          // a second fresh context is as cold as the first, so the figures stay comparable.
          if (!/not interactive/.test(e.message)) throw e;
          console.error(`bench browser: warning: ${e.message}; measuring once more in a fresh context`);
          results[pg.key] = await measure(browser, base, pg);
        }
      } catch (e) {
        failures.push(`${pg.key}: ${e.message.split('\n')[0]}`);
        console.error(`bench browser: ${pg.key}: ${e.message}`);
      }
    }
  } finally {
    await browser.close().catch(() => {});
  }

  const baselineFile = path.resolve(process.env.BENCH_BROWSER_BASELINE || path.join(here, 'browser-baseline.json'));
  printTable(results, readBaseline(baselineFile), pages, version);

  const out = process.env.BENCH_BROWSER_OUT;
  if (out) {
    const doc = {
      measured_on: new Date().toISOString().slice(0, 10),
      source: process.env.BENCH_BROWSER_SOURCE || `bench/browser.mjs against ${base}`,
      chromium: version,
      conditions: CONDITIONS,
      pages: Object.fromEntries(pages.map((pg) => [pg.key, {
        path: pg.pattern,
        ...Object.fromEntries(FIELDS.map((f) => [f, results[pg.key]?.[f] == null ? null : Math.round(results[pg.key][f])])),
      }])),
    };
    writeFileSync(path.resolve(out), JSON.stringify(doc, null, 2) + '\n');
    console.error(`bench browser: figures written to ${path.resolve(out)}`);
  }
  if (failures.length) fail(`not measured: ${failures.join('; ')}`);
}

main().catch((e) => fail(e.stack || String(e)));
