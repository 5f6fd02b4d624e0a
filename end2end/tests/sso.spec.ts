import { test, expect, request, Page, APIRequestContext } from '@playwright/test';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { hydrated } from './helpers';

// Single sign-on against the test OpenID provider (oidc/provider.mjs). The main e2e server
// has no SSO, so this spec starts its own provider and its own Shipgate (on the database
// run.sh creates for it) and stops both at the end.
test.describe.configure({ mode: 'serial' });

const root = resolve(__dirname, '..', '..');
const admin = { email: 'admin@example.org', name: 'Ada Admin', password: 'break glass password' };
const viewer = { email: 'vic@example.org', name: 'Vic Viewer', password: 'viewer password 1' };
const carol = {
  login: 'carol', password: 'pw-carol', email: 'carol@example.org', email_verified: true,
  name: 'Carol Captain', groups: ['staff', 'captains'],
};
const dave = {
  login: 'dave', password: 'pw-dave', email: 'dave@example.org', email_verified: true,
  name: 'Dave Contractor', groups: ['contractors'],
};
const secret = 'e2e-client-secret';

let dir = '';
let base = ''; // Shipgate
let issuer = ''; // the provider
let provider: ChildProcess | undefined;
let shipgate: ChildProcess | undefined;
let shipgateLog = '';

/** A port below the ephemeral range (as run.sh picks them) that nothing listens on. */
async function freePort(): Promise<number> {
  for (;;) {
    const port = 10000 + Math.floor(Math.random() * 20000);
    const free = await new Promise<boolean>((done) => {
      const probe = net.createServer();
      probe.once('error', () => done(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => done(true)));
    });
    if (free) return port;
  }
}

/** An account as the provider's config and PUT /test/accounts take it (keyed by login). */
function account(who: typeof carol) {
  const { login, ...rest } = who;
  return rest;
}

async function setAccount(who: typeof carol) {
  const r = await fetch(`${issuer}/test/accounts/${who.login}`, {
    method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(account(who)),
  });
  expect(r.status).toBe(204);
}

/** Roles of whoever the page's context is signed in as (null when nobody is). */
async function roles(page: Page): Promise<string[] | null> {
  const r = await page.request.get(`${base}/api/v1/me`);
  if (r.status() === 401) return null;
  expect(r.status()).toBe(200);
  return (await r.json()).roles;
}

/** Clicks the SSO button on Shipgate's login page; signs in at the provider when asked. */
async function ssoSignIn(page: Page, who?: typeof carol) {
  await page.goto(`${base}/login`);
  await page.getByRole('link', { name: 'Sign in with Example ID' }).click();
  if (who) {
    await expect(page).toHaveURL(new RegExp(`^${issuer}/interaction/`));
    await page.getByLabel('Username').fill(who.login);
    await page.getByLabel('Password').fill(who.password);
    await page.getByRole('button', { name: 'Continue' }).click();
  }
}

async function expectSignedInAs(page: Page, who: { name: string }) {
  await expect(page).toHaveURL(new RegExp(`^${base}/`));
  await expect(page).not.toHaveURL(/\/login/);
  await expect(page.getByRole('link', { name: who.name })).toBeVisible();
  await hydrated(page);
}

/** The admin's API session (break-glass password sign-in is allowed for admins). */
async function adminApi(): Promise<APIRequestContext> {
  const api = await request.newContext({ baseURL: base });
  const r = await api.post('/api/v1/session', { data: { email: admin.email, password: admin.password } });
  expect(r.status()).toBe(200);
  return api;
}

async function audit(action: string): Promise<any[]> {
  const api = await adminApi();
  const r = await api.get(`/api/v1/audit?action=${action}`);
  expect(r.status()).toBe(200);
  const { entries } = await r.json();
  await api.dispose();
  return entries;
}

test.beforeAll(async () => {
  test.skip(!process.env.E2E_SSO_DATABASE_URL || !process.env.SHIPGATE_BIN,
    'needs SHIPGATE_BIN and E2E_SSO_DATABASE_URL (end2end/run.sh sets both)');
  test.setTimeout(120_000);
  const bin = process.env.SHIPGATE_BIN!;
  const database = process.env.E2E_SSO_DATABASE_URL!;
  dir = mkdtempSync(join(tmpdir(), 'shipgate-e2e-sso-'));
  const env = { ...process.env, DATABASE_URL: database, LOG_LEVEL: 'info' };

  // The database first, with the break-glass admin and a non-admin who has a password.
  execFileSync(bin, ['migrate', 'up'], { env, stdio: 'pipe' });
  for (const [who, role] of [[admin, 'admin'], [viewer, 'viewer']] as const) {
    execFileSync(bin, ['user', 'add', who.email, '--role', role, '--name', who.name],
      { env, input: `${who.password}\n`, stdio: 'pipe' });
  }

  // The provider needs Shipgate's redirect URIs, Shipgate needs the provider's issuer.
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const config = join(dir, 'provider.json');
  writeFileSync(config, JSON.stringify({
    clients: [{
      client_id: 'shipgate', client_secret: secret,
      redirect_uris: [`${base}/auth/oidc/callback`], post_logout_redirect_uris: [`${base}/login`],
    }],
    accounts: { carol: account(carol), dave: account(dave) },
    kid: 'e2e-1',
  }));
  const providerLog = openSync(join(dir, 'provider.log'), 'w');
  provider = spawn(process.execPath, [join(root, 'end2end', 'oidc', 'provider.mjs'), '--config', config],
    { stdio: ['ignore', 'pipe', providerLog] });
  closeSync(providerLog);
  const first = await new Promise<string>((done) => {
    const lines = createInterface({ input: provider!.stdout! });
    lines.once('line', done);
    provider!.once('exit', () => done(''));
  });
  const m = /^PORT (\d+)$/.exec(first);
  if (!m) throw new Error(`the provider did not start:\n${readFileSync(join(dir, 'provider.log'), 'utf8')}`);
  issuer = `http://127.0.0.1:${m[1]}`;

  // Shipgate as run.sh starts it (from the repository root), plus SSO.
  const siteRoot = process.env.LEPTOS_SITE_ROOT ?? 'target/site';
  shipgateLog = join(dir, 'shipgate.log');
  const log = openSync(shipgateLog, 'w');
  shipgate = spawn(bin, ['serve'], {
    cwd: root,
    stdio: ['ignore', log, log],
    env: {
      ...env,
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: isAbsolute(siteRoot) ? siteRoot : join(root, siteRoot),
      PUBLIC_BASE_URL: base,
      FILE_STORAGE_MODE: 'local',
      FILE_STORAGE_DIR: join(dir, 'evidence'),
      PROBES: 'off',
      OIDC_ISSUER_URL: issuer,
      OIDC_CLIENT_ID: 'shipgate',
      OIDC_CLIENT_SECRET: secret,
      OIDC_DISPLAY_NAME: 'Example ID',
      OIDC_ROLE_MAP: 'admin=shipgate-admins;release_captain=captains;product_owner=po;viewer=*',
      OIDC_ALLOWED_GROUPS: 'staff',
      LOCAL_LOGIN: 'admins-only',
    },
  });
  closeSync(log);
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (shipgate.exitCode !== null || Date.now() > deadline) {
      throw new Error(`Shipgate (SSO) did not start:\n${readFileSync(shipgateLog, 'utf8')}`);
    }
    const up = await fetch(`${base}/health`).then((r) => r.ok, () => false);
    if (up) break;
    await new Promise((r) => setTimeout(r, 200));
  }
});

test.afterAll(async () => {
  for (const child of [shipgate, provider]) {
    if (child && child.exitCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill();
      await gone;
    }
  }
  if (!shipgateLog) return;
  console.log(`sso: the logs of its Shipgate and provider are in ${dir}`);
  rmSync(join(dir, 'evidence'), { recursive: true, force: true });
  // run.sh checks the main server's log; this spec checks its own Shipgate's.
  const violations = readFileSync(shipgateLog, 'utf8').split('\n')
    .filter((l) => l.includes('CSP violation reported'));
  expect(violations, 'CSP violations reported to the SSO Shipgate').toEqual([]);
});

test('the first SSO sign-in creates the account with the mapped roles', async ({ page }) => {
  await page.goto(`${base}/login`);
  await expect(page.locator('a#sso-login')).toHaveText('Sign in with Example ID');
  await ssoSignIn(page, carol);
  await expectSignedInAs(page, carol);
  expect(await roles(page)).toEqual(['release_captain', 'viewer']);

  const created = await audit('user.sso_create');
  expect(created.some((e) => e.actor === carol.email && e.new?.email === carol.email)).toBe(true);
});

test('a group change at the provider shows at the next sign-in', async ({ page }) => {
  await ssoSignIn(page, carol);
  await expectSignedInAs(page, carol);
  expect(await roles(page)).toEqual(['release_captain', 'viewer']);

  await setAccount({ ...carol, groups: ['staff', 'po'] });
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login\?signed_out=sso/);
  expect(await roles(page)).toBeNull();

  // Still signed in at the provider: no form there, straight back with the new groups.
  await ssoSignIn(page);
  await expectSignedInAs(page, carol);
  expect(await roles(page)).toEqual(['product_owner', 'viewer']);
  const changed = await audit('user.sso_roles');
  expect(changed.some((e) => e.actor === carol.email && e.new?.roles?.includes('product_owner')))
    .toBe(true);
});

test('someone outside the allowed groups is refused', async ({ page }) => {
  await ssoSignIn(page, dave);
  await expect(page).toHaveURL(new RegExp(`^${base}/login\\?error=sso_group`));
  await expect(page.getByRole('alert')).toBeVisible();
  await expect(page.getByRole('alert')).toHaveText(/not.*allowed|group/i);
  expect(await roles(page)).toBeNull();
});

test('break-glass: only admins sign in with a password', async ({ page, browser }) => {
  await page.goto(`${base}/login`);
  const local = page.locator('details#local-login');
  await local.locator('summary').click();
  await expect(local.locator('summary')).toHaveText('Sign in with a local account (administrators)');
  await local.getByLabel('Email').fill(admin.email);
  await local.getByLabel('Password').fill(admin.password);
  await local.getByRole('button', { name: 'Sign in' }).click();
  await expectSignedInAs(page, admin);
  expect(await roles(page)).toEqual(['admin']);

  // Carol signs in through the provider and has no password, until the admin sets one:
  // then her right password is refused for what it is (admins only), not as a wrong one.
  const carolTries = async (password: string) => (await (await page.request.post(
    `${base}/api/v1/session`, { data: { email: carol.email, password } })).json()).error.code;
  expect(await carolTries('carols break-glass pw')).toBe('invalid_credentials');
  await page.goto(`${base}/admin`);
  await hydrated(page);
  const row = page.locator(`tr[data-email="${carol.email}"]`);
  await row.locator('details.set-password summary').click();
  await row.getByLabel('New password (at least 8 characters)').fill('carols break-glass pw');
  await row.getByRole('button', { name: 'Set password' }).click();
  await expect(page.getByText("Password set; that person's sessions have ended.")).toBeVisible();
  expect(await carolTries('carols break-glass pw')).toBe('local_login');

  // The right password of a non-admin is refused; a wrong one stays a wrong password.
  const ctx = await browser.newContext();
  const other = await ctx.newPage();
  await other.goto(`${base}/login`);
  const form = other.locator('details#local-login');
  await form.locator('summary').click();
  await form.getByLabel('Email').fill(viewer.email);
  await form.getByLabel('Password').fill(viewer.password);
  await form.getByRole('button', { name: 'Sign in' }).click();
  await expect(other).toHaveURL(/\/login\?error=local_login/);
  await expect(other.getByRole('alert')).toBeVisible();
  expect(await roles(other)).toBeNull();
  const api = await other.request.post(`${base}/api/v1/session`,
    { data: { email: viewer.email, password: viewer.password } });
  expect(api.status()).toBe(403);
  expect((await api.json()).error.code).toBe('local_login');
  const wrong = await other.request.post(`${base}/api/v1/session`,
    { data: { email: viewer.email, password: 'not the password' } });
  expect((await wrong.json()).error.code).toBe('invalid_credentials');
  await ctx.close();
});

test('signing out can end the provider session too', async ({ page }) => {
  await ssoSignIn(page, carol);
  await expectSignedInAs(page, carol);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login\?signed_out=sso/);

  const also = page.locator('a#sso-logout');
  await expect(also).toHaveText('Also sign out at Example ID');
  await also.click();
  await expect(page).toHaveURL(new RegExp(`^${issuer}/session/end`));
  await page.getByRole('button', { name: 'Yes, sign me out' }).click();
  await expect(page).toHaveURL(new RegExp(`^${base}/login`));
  expect(await roles(page)).toBeNull();

  // The provider asks for the password again.
  await page.getByRole('link', { name: 'Sign in with Example ID' }).click();
  await expect(page).toHaveURL(new RegExp(`^${issuer}/interaction/`));
  await expect(page.getByLabel('Username')).toBeVisible();
});
