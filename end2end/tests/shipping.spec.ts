import { test, expect, Page, Browser } from '@playwright/test';
import { berlinLocal, hydrated, setItem, signIn } from './helpers';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Go-live, rollback, freeze windows, the archive and the sealed dossier. Runs after
// accounts.spec.ts and releases.spec.ts on the same instance: admin, captain and owner exist.
test.describe.configure({ mode: 'serial' });

const admin = { email: 'admin@example.org', password: 'first admin password' };
const captain = { email: 'rc@example.org', password: 'captain password 1' };
const owner = { email: 'po@example.org', password: 'owner password 12' };

async function ownerPage(browser: Browser) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await signIn(page, owner);
  return { ctx, page };
}

/** Over the API with the captain's (and the owner's) browser sessions: a release in go-live. */
async function releaseInGoLive(captainPage: Page, ownerSession: Page, title: string, windowHours: [number, number]) {
  const now = Date.now();
  const created = await captainPage.request.post('/api/v1/releases', {
    data: {
      title, version: '8.0.0', environment: 'prod', strategy: 'blue_green',
      window_start: new Date(now + windowHours[0] * 3600_000).toISOString(),
      window_end: new Date(now + windowHours[1] * 3600_000).toISOString(),
      release_captain: captain.email, product_owner: owner.email,
      last_backup_at: new Date(now - 3600_000).toISOString(),
      last_restore_test_at: new Date(now - 5 * 86400_000).toISOString(),
      on_call: 'Oskar',
      links: { rollback_plan: 'https://wiki.example/rollback', down_migration: 'https://git.example/down' },
    },
  });
  expect(created.status()).toBe(201);
  const id = (await created.json()).id;
  expect((await captainPage.request.post(`/api/v1/releases/${id}/phase`, { data: { to: 'staging_gate' } })).status()).toBe(200);
  for (const key of ['staging_deploy', 'staging_smoke_tests', 'staging_health', 'staging_known_issues']) {
    const r = await captainPage.request.patch(`/api/v1/releases/${id}/checklist/${key}`, {
      data: { state: 'passed', link: `https://evidence.example/${key}` },
    });
    expect(r.status()).toBe(200);
  }
  expect((await captainPage.request.post(`/api/v1/releases/${id}/phase`, { data: { to: 'go_no_go' } })).status()).toBe(200);
  for (const [p, role] of [[ownerSession, 'product_owner'], [captainPage, 'release_captain']] as const) {
    const r = await p.request.post(`/api/v1/releases/${id}/sign-offs`, { data: { role, decision: 'go', comment: '' } });
    expect(r.status()).toBe(201);
  }
  return id as number;
}

async function record(page: Page, label: RegExp, note?: string) {
  const button = page.getByTestId('record-step');
  await expect(button).toContainText(label);
  if (note) await page.locator('.step-form input[name="note"]').fill(note);
  await expect(button).toBeEnabled({ timeout: 90_000 });
  await button.click();
  await expect(page.getByTestId('go-live-plan').locator('li.done', { hasText: label })).toHaveCount(1);
}

let shippedId = 0;
let rolledBackId = 0;

test('the whole release: staging gate with evidence, both sign-offs, canary with its hold, done, archived, dossier exported', async ({ page, browser }) => {
  test.setTimeout(300_000);
  await signIn(page, captain);
  await page.goto('/releases/new');
  await hydrated(page);
  const form = page.locator('#new-release');
  await form.getByLabel('Title').fill('Aurora release');
  await form.getByLabel('Version').fill('7.0.0');
  await form.getByLabel('Window start (Europe/Berlin)').fill(berlinLocal(-1));
  await form.getByLabel('Window end (Europe/Berlin)').fill(berlinLocal(3));
  await form.getByLabel('Strategy').selectOption('canary');
  await form.getByLabel('Release captain (email)').fill(captain.email);
  await form.getByLabel('Product owner (email)').fill(owner.email);
  await form.getByRole('button', { name: 'Create release' }).click();
  await expect(page).toHaveURL(/\/releases\/\d+$/);
  shippedId = Number(new URL(page.url()).pathname.split('/').pop());
  await hydrated(page);

  // A shortened stability hold: one minute.
  await page.locator('summary', { hasText: 'Edit release' }).click();
  await page.locator('#edit-release').getByLabel('Stability hold (minutes)').fill('1');
  await page.locator('#edit-release').getByRole('button', { name: 'Save release' }).click();
  await page.locator('summary', { hasText: 'Edit release' }).click();
  await expect(page.locator('#edit-release').getByLabel('Stability hold (minutes)')).toHaveValue('1');

  await page.getByRole('button', { name: 'Start staging gate' }).click();
  await expect(page.getByTestId('phase')).toHaveText('Staging gate');
  // The phase change loaded the page again: the upload island is ready once it hydrated
  // (a file picked before that is sent when it does).
  await hydrated(page);
  // Evidence: a smoke-test log attached to its item through the file picker.
  const smoke = page.locator('li[data-key="staging_smoke_tests"]');
  await smoke.locator('input[type="file"]').setInputFiles({
    name: 'smoke.log', mimeType: 'text/plain', buffer: Buffer.from('INFO all smoke tests green\n'),
  });
  // When the file has landed the page loads again, with the file listed under its item.
  await expect(smoke.locator('li[data-evidence]')).toHaveCount(1);
  await hydrated(page);
  await setItem(page, 'staging_smoke_tests', 'passed');
  for (const key of ['staging_deploy', 'staging_health', 'staging_known_issues']) {
    await setItem(page, key, 'passed', `https://evidence.example/${key}`);
  }
  await page.getByRole('button', { name: 'Move to Go/No-Go' }).click();
  await expect(page.getByTestId('phase')).toHaveText('Go/No-Go');
  await page.locator('summary', { hasText: 'Preconditions' }).click();
  await page.getByLabel('Last successful backup (Europe/Berlin)').fill(berlinLocal(-2));
  await page.getByLabel('Last restore test (Europe/Berlin)').fill(berlinLocal(-24 * 3));
  await page.getByLabel('On-call person').fill('Oskar');
  await page.getByLabel('Down-migration link').fill('https://git.example/migrations/70-down');
  await page.getByRole('button', { name: 'Save preconditions' }).click();
  await expect(page.getByTestId('go-no-go')).not.toContainText('Last backup older than 24 h');

  const po = await ownerPage(browser);
  await po.page.goto(`/releases/${shippedId}`);
  await hydrated(po.page);
  await po.page.getByRole('button', { name: 'Sign GO' }).click();
  await expect(po.page.locator('li[data-role="product_owner"]')).toContainText('GO');
  await po.ctx.close();
  await page.reload();
  await hydrated(page);
  await page.getByRole('button', { name: 'Sign GO' }).click();
  await expect(page.getByTestId('phase')).toHaveText('Go-live');

  // Go-live, guided and recorded.
  const panel = page.getByTestId('go-live');
  await expect(panel.getByTestId('target-health')).toContainText('not probed');
  await panel.getByRole('button', { name: 'Start go-live' }).click();
  await expect(panel.locator('li[data-event="start"]')).toContainText(captain.email);
  await record(page, /Pre-checks/, 'Grafana green, all pods ready, backup 2 h old');
  await record(page, /Deploy to Green/);
  await record(page, /Smoke tests on Green/);
  await record(page, /Canary 10 %/);
  await record(page, /Canary 50 %/);
  // The last stage waits for the hold; the page counts it down.
  await expect(page.getByTestId('hold')).toContainText('left');
  await expect(page.getByTestId('record-step')).toBeDisabled();
  await record(page, /Canary 100 %/);
  await expect(page.getByTestId('hold')).toContainText('left');
  await record(page, /Mark Green as new prod/);

  // Completing needs the post-release documentation.
  await expect(page.getByTestId('complete-blockers')).toContainText('Documentation missing');
  await expect(panel.getByRole('button', { name: 'Complete go-live' })).toBeDisabled();
  await setItem(page, 'post_dashboards', 'passed', 'https://grafana.example/d/release-70');
  await setItem(page, 'post_alert_logs', 'passed', 'https://alerts.example/release-70');
  await page.getByTestId('go-live').getByRole('button', { name: 'Complete go-live' }).click();
  await expect(page.getByTestId('phase')).toHaveText('Done');

  // Found in the archive.
  await page.goto('/archive');
  await hydrated(page);
  await page.getByLabel('Search').fill('aurora');
  await page.getByRole('button', { name: 'Search' }).click();
  const row = page.locator(`tr[data-release="${shippedId}"]`);
  await expect(row).toHaveAttribute('data-outcome', 'done');
  await row.getByRole('link', { name: 'Dossier' }).click();

  // The dossier: printable, exported, verifiable, and a changed byte is caught.
  await expect(page.getByTestId('dossier')).toContainText('Aurora release');
  await expect(page.getByTestId('dossier-go-live')).toContainText('Canary 100 %');
  await expect(page.getByTestId('dossier-staging')).toContainText('smoke.log');
  const seal = (await page.getByTestId('seal').textContent())!.trim();
  const json = await page.request.get(`/api/v1/releases/${shippedId}/dossier`);
  expect(json.status()).toBe(200);
  const text = await json.text();
  expect(JSON.parse(text).sha256).toBe(seal);
  const md = await page.request.get(`/api/v1/releases/${shippedId}/dossier?format=md&lang=de`);
  expect(await md.text()).toContain('Staging-Gate-Protokoll (T-12h)');

  const dir = mkdtempSync(join(tmpdir(), 'dossier-'));
  const file = join(dir, 'dossier.json');
  writeFileSync(file, text);
  const bin = process.env.SHIPGATE_BIN!;
  const env = { ...process.env, DATABASE_URL: '' };
  delete env.DATABASE_URL;
  expect(execFileSync(bin, ['dossier', 'verify', file], { env }).toString()).toContain('OK');
  const bytes = readFileSync(file);
  const at = bytes.indexOf('Aurora');
  bytes[at] = 'a'.charCodeAt(0);
  writeFileSync(file, bytes);
  let failed = false;
  try {
    execFileSync(bin, ['dossier', 'verify', file], { env, stdio: 'pipe' });
  } catch (e: any) {
    failed = e.status === 1 && String(e.stderr).includes('CHANGED');
  }
  expect(failed).toBe(true);
});

test('a rollback from the go-live, by the product owner', async ({ page, browser }) => {
  await signIn(page, captain);
  const po = await ownerPage(browser);
  rolledBackId = await releaseInGoLive(page, po.page, 'Borealis release', [-1, 2]);
  await page.goto(`/releases/${rolledBackId}`);
  await hydrated(page);
  await page.getByTestId('go-live').getByRole('button', { name: 'Start go-live' }).click();
  await expect(page.locator('li[data-event="start"]')).toHaveCount(1);

  await po.page.goto(`/releases/${rolledBackId}`);
  await hydrated(po.page);
  const rb = po.page.getByTestId('rollback');
  await expect(rb).toContainText('https://wiki.example/rollback');
  await rb.getByLabel('Status page updated').check();
  await rb.getByLabel('Reason for the rollback').fill('Login errors after the switch to Green');
  // Without the confirmation the browser does not send the rollback.
  await rb.getByRole('button', { name: 'Roll back' }).click();
  await expect(po.page.getByTestId('phase')).toHaveText('Go-live');
  await rb.getByTestId('confirm-rollback').check();
  await rb.getByRole('button', { name: 'Roll back' }).click();
  await expect(po.page.getByTestId('phase')).toHaveText('Rolled back');
  await po.page.getByTestId('dossier-link').click();
  const section = po.page.getByTestId('dossier-rollback');
  await expect(section).toContainText('Login errors after the switch to Green');
  await expect(section).toContainText(owner.email);
  await po.ctx.close();
});

test('the window and a freeze refuse the go-live; the captain overrides the window', async ({ page, browser }) => {
  await signIn(page, captain);
  const po = await ownerPage(browser);
  const id = await releaseInGoLive(page, po.page, 'Cirrus release', [30, 32]);
  await po.ctx.close();
  await page.goto(`/releases/${id}`);
  await hydrated(page);
  await expect(page.getByTestId('start-blockers')).toContainText('Outside the go-live window');

  // An admin freezes prod.
  const adm = await browser.newContext();
  const ap = await adm.newPage();
  await signIn(ap, admin);
  await ap.goto('/environments');
  await hydrated(ap);
  const freeze = ap.locator('#add-freeze');
  await freeze.getByLabel('Environment').fill('prod');
  await freeze.getByLabel('From (Europe/Berlin)').fill(berlinLocal(-1));
  await freeze.getByLabel('To (Europe/Berlin)').fill(berlinLocal(2));
  await freeze.getByLabel('Reason').fill('Board meeting demo');
  await freeze.getByRole('button', { name: 'Add freeze' }).click();
  await expect(ap.getByTestId('freeze-windows')).toContainText('Board meeting demo');

  // A reader's rendered page is reused for up to 2 s; the freeze shows on the next one.
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId('freezes')).toContainText('Board meeting demo', { timeout: 1000 });
  }).toPass({ timeout: 15_000 });
  await hydrated(page);
  // The freeze holds even against the captain's override, and says why.
  await expect(page.getByTestId('start-blockers')).toContainText('Freeze on prod');
  await expect(page.getByTestId('start-blockers')).toContainText('Board meeting demo');
  await page.getByLabel('Reason to start outside the window').fill('Security fix, approved by the CTO');
  await expect(page.getByRole('button', { name: 'Start go-live' })).toBeDisabled();

  await ap.getByTestId('freeze-windows').getByRole('button', { name: 'Remove' }).click();
  await expect(ap.getByTestId('freeze-windows')).not.toContainText('Board meeting demo');
  await adm.close();
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId('freezes')).toHaveCount(0, { timeout: 1000 });
  }).toPass({ timeout: 15_000 });
  await hydrated(page);
  await page.getByLabel('Reason to start outside the window').fill('Security fix, approved by the CTO');
  await page.getByRole('button', { name: 'Start go-live' }).click();
  await expect(page.locator('li[data-event="start"]')).toContainText('Security fix, approved by the CTO');
});

test('archive filters find the ended releases by outcome, environment and person', async ({ page }) => {
  await signIn(page, captain);
  await page.goto('/archive?outcome=rolled_back');
  await expect(page.locator(`tr[data-release="${rolledBackId}"]`)).toBeVisible();
  await expect(page.locator(`tr[data-release="${shippedId}"]`)).toHaveCount(0);
  await page.goto('/archive?outcome=done&environment=prod&person=po%40example.org');
  await expect(page.locator(`tr[data-release="${shippedId}"]`)).toBeVisible();
  await expect(page.locator(`tr[data-release="${rolledBackId}"]`)).toHaveCount(0);
  await page.goto('/archive?q=borealis');
  await expect(page.locator('table.archive tbody tr')).toHaveCount(1);
  await page.goto('/archive?environment=nowhere');
  await expect(page.locator('table.archive tbody tr')).toHaveCount(0);
});
