import { test, expect, Page } from '@playwright/test';
import { hydrated, signIn } from './helpers';
import { ensureUser, patchItem, Person, personPage, phase, signInAnAdmin, signOff } from './release_setup';

// What people read is words in their language, never the codes behind them, and times in
// Europe/Berlin: on a German release page (its blockers, plan and trail), the audit log,
// the admin page, a dossier and its Markdown export. Makes its own people and releases,
// so it runs on a fresh instance as well as after the other files.
test.describe.configure({ mode: 'serial' });

// This file's admin (also a release captain) and product owner.
const textAdmin: Person = { email: 'texts-admin@example.org', name: 'Tilda Texts', password: 'texts admin pass 1' };
const textOwner: Person = { email: 'texts-owner@example.org', name: 'Theo Texts', password: 'texts owner pass 1' };

// Codes that must never reach a reader.
const CODES = ['blue_green', 'checklist.item', 'pre_checks', 'product_owner', 'release_captain', 'go_live.step', 'go_no_go.sign_off'];

type Item = { key: string; kind: string; state: string; text_de: string; text_en: string };

async function checklist(page: Page, id: number): Promise<Item[]> {
  const r = await page.request.get(`/api/v1/releases/${id}/checklist`);
  expect(r.status()).toBe(200);
  return r.json();
}

/**
 * A blue/green release of this file's people over the API, its go-live window open now,
 * its preconditions met, held in the staging gate. Its target is an environment no other
 * file freezes or probes.
 */
async function releaseInStagingGate(page: Page, title: string): Promise<number> {
  const now = Date.now();
  const created = await page.request.post('/api/v1/releases', {
    data: {
      title, version: '2.0.0', environment: 'texts-prod', strategy: 'blue_green',
      window_start: new Date(now - 3600_000).toISOString(),
      window_end: new Date(now + 3 * 3600_000).toISOString(),
      release_captain: textAdmin.email, product_owner: textOwner.email,
      last_backup_at: new Date(now - 3600_000).toISOString(),
      last_restore_test_at: new Date(now - 5 * 86400_000).toISOString(),
      on_call: 'Oskar',
      links: { rollback_plan: 'https://wiki.example/rollback', down_migration: 'https://git.example/down' },
    },
  });
  expect(created.status(), await created.text()).toBe(201);
  const id = (await created.json()).id as number;
  await phase(page, id, 'staging_gate');
  return id;
}

/** Passes every staging-gate item (a link as evidence) and moves to Go/No-Go. */
async function toGoNoGo(page: Page, id: number) {
  for (const { key } of (await checklist(page, id)).filter((i) => i.kind === 'staging_gate' && i.state !== 'passed')) {
    await patchItem(page, id, key, { state: 'passed', link: `https://evidence.example/${key}` });
  }
  await phase(page, id, 'go_no_go');
}

/** Switches to German with the top bar's button and waits for the German page. */
async function toGerman(page: Page) {
  await hydrated(page);
  await page.getByRole('button', { name: 'Deutsch' }).click();
  await expect(page.locator('html')).toHaveAttribute('lang', 'de');
}

/** The page's visible text holds none of the codes and no UTC time. */
async function readsAsWords(page: Page, what: string) {
  await hydrated(page);
  const text = await page.locator('body').innerText();
  for (const code of CODES) expect(text, `${what} shows ${code}`).not.toContain(code);
  expect(text, `${what} shows a UTC time`).not.toMatch(/\bUTC\b/);
}

let liveId = 0;
let stoppedId = 0;

test('this file makes its admin and a product owner', async ({ page }) => {
  await signInAnAdmin(page, textAdmin);
  await ensureUser(page, textAdmin, ['admin', 'release_captain']);
  await ensureUser(page, textOwner, ['product_owner']);
});

test('a German release page names open items in German and roles by their names', async ({ page, browser }) => {
  test.setTimeout(120_000);
  await signIn(page, textAdmin);
  liveId = await releaseInStagingGate(page, 'Texts release');
  const staging = (await checklist(page, liveId)).filter((i) => i.kind === 'staging_gate');
  const translated = staging.find((i) => !i.text_de.includes(i.text_en) && !i.text_en.includes(i.text_de));
  expect(translated, 'a staging-gate item with its own German text').toBeTruthy();

  await page.goto(`/releases/${liveId}`);
  await toGerman(page);
  const gate = page.getByTestId('staging-gate');
  await expect(gate).toContainText(translated!.text_de);
  await expect(gate).not.toContainText(translated!.text_en);
  await readsAsWords(page, 'the release in the staging gate');

  // At Go/No-Go the missing sign-offs are named by role, in German.
  await toGoNoGo(page, liveId);
  await page.goto(`/releases/${liveId}`);
  await expect(page.getByTestId('go-no-go')).toContainText('Product Owner');
  await readsAsWords(page, 'the release at Go/No-Go');

  // Both sign go; the captain starts the go-live and records the pre-checks by hand.
  await signOff(page, liveId, 'release_captain', 'go');
  const po = await personPage(browser, textOwner);
  await signOff(po.page, liveId, 'product_owner', 'go');
  await po.ctx.close();
  const start = await page.request.post(`/api/v1/releases/${liveId}/go-live/start`, { data: {} });
  expect(start.status(), await start.text()).toBe(200);
  const step = await page.request.post(`/api/v1/releases/${liveId}/go-live/steps`, {
    data: { step: 'pre_checks', note: 'texts-prod checked by hand' },
  });
  expect(step.status(), await step.text()).toBe(200);

  await page.goto(`/releases/${liveId}`);
  await expect(page.locator('html')).toHaveAttribute('lang', 'de');
  await expect(page.getByTestId('phase')).toHaveText('Go-Live');
  await readsAsWords(page, 'the release going live');
});

test('the German audit log and admin page read as words, times in Europe/Berlin', async ({ page }) => {
  expect(liveId, 'the release test ran').toBeGreaterThan(0);
  await signIn(page, textAdmin);
  await page.goto('/admin/audit');
  await toGerman(page);
  await expect(page.getByRole('heading', { name: 'Audit-Log' })).toBeVisible();
  // The rows this file wrote are there, with their codes kept out of sight.
  for (const action of ['checklist.item', 'go_no_go.sign_off', 'go_live.step', 'release.create']) {
    await expect(page.locator(`tr[data-action="${action}"]`).first()).toBeVisible();
  }
  await expect(page.locator('tr[data-action="checklist.item"]').first()).toContainText('Checklistenpunkt aktualisiert');
  await expect(page.locator('tr[data-action="go_live.step"]').first()).toContainText('Pre-Checks');
  await expect(page.locator('tr[data-action="release.create"]').first()).toContainText('Blue/Green');
  await expect(page.locator('main')).toContainText(/\d{2}\.\d{2}\.\d{4} \d{2}:\d{2} CES?T/);
  await readsAsWords(page, 'the audit log');

  await page.goto('/admin');
  await expect(page.locator('main')).toContainText(/\d{2}\.\d{2}\.\d{4} \d{2}:\d{2} CES?T/);
  await readsAsWords(page, 'the admin page');
  await page.goto('/account');
  await readsAsWords(page, 'the account page');
});

test('a dossier and its Markdown export name strategy, roles and outcome in words', async ({ page }) => {
  await signIn(page, textAdmin);
  stoppedId = await releaseInStagingGate(page, 'Texts release, stopped');
  await toGoNoGo(page, stoppedId);
  await signOff(page, stoppedId, 'release_captain', 'no_go', 'Stopped to read the dossier');

  await page.goto(`/releases/${stoppedId}/dossier`);
  await toGerman(page);
  await expect(page.getByTestId('dossier')).toContainText('Blue/Green');
  await readsAsWords(page, 'the dossier page');

  for (const lang of ['de', 'en']) {
    const md = await page.request.get(`/api/v1/releases/${stoppedId}/dossier?format=md&lang=${lang}`);
    expect(md.status()).toBe(200);
    const text = await md.text();
    for (const code of [...CODES, 'no_go', 'staging_gate', 'rolled_back']) {
      // Also as Markdown would escape it, had it been quoted as text.
      for (const shown of [code, code.replace(/_/g, '\\_')]) {
        expect(text, `Markdown (${lang}) shows ${code}`).not.toContain(shown);
      }
    }
    expect(text).toContain('Blue/Green');
    expect(text).not.toMatch(/\bUTC\b/);
  }
});
