import { test, expect, Page } from '@playwright/test';
import { hydrated, setItem, signIn } from './helpers';
import {
  ensureUser, patchItem, personPage, releaseInGoNoGo, signInAnAdmin, signOff,
} from './release_setup';

// The release page as each role reads it: a viewer gets no forms, everyone reads why an
// item was waived and the Go/No-Go preconditions, words instead of codes in English and
// German, one card per name, item forms folded away, no accepted risk for engineers, and
// no rollback before the go-live has started. Makes its own people and release.
test.describe.configure({ mode: 'serial' });

const admin = { email: 'rp-admin@example.org', name: 'Rita Pageadmin', password: 'release page admin 1' };
const captain = { email: 'rp-captain@example.org', name: 'Carl Pagecaptain', password: 'release page captain 1' };
const owner = { email: 'rp-owner@example.org', name: 'Olga Pageowner', password: 'release page owner 1' };
const engineer = { email: 'rp-engineer@example.org', name: 'Emil Pageengineer', password: 'release page engineer 1' };
const viewer = { email: 'rp-viewer@example.org', name: 'Vera Pageviewer', password: 'release page viewer 1' };

const WAIVED = 'smoke_push_notifications';
const REASON = 'No push changes in this release';
// Codes that must never reach a reader.
const CODES = ['product_owner', 'release_captain', 'blue_green', 'canary', 'staging: staging', 'not_applicable', 'accepted_risk'];

let releaseUrl = '';
let releaseId = 0;

async function readsAsWords(page: Page, what: string) {
  const text = await page.locator('main').innerText();
  for (const code of CODES) expect(text, `${what} shows ${code}`).not.toContain(code);
}

test('this file makes its people and a canary release at Go/No-Go with a waived item', async ({ page, browser }) => {
  await signInAnAdmin(page, admin);
  await ensureUser(page, captain, ['release_captain']);
  await ensureUser(page, owner, ['product_owner']);
  await ensureUser(page, engineer, ['engineer']);
  await ensureUser(page, viewer, ['viewer']);

  const c = await personPage(browser, captain);
  releaseId = await releaseInGoNoGo(c.page, {
    title: 'Page release', environment: 'rp-prod', strategy: 'canary', window: [-1, 3],
    captain: captain.email, owner: owner.email, commit_sha: '0123456789abcdef0123456789abcdef01234567',
    down_migration: 'https://git.example/migrations/rp-down',
  });
  releaseUrl = `/releases/${releaseId}`;
  await patchItem(c.page, releaseId, WAIVED, { state: 'not_applicable', reason: REASON });
  const issue = await c.page.request.post(`/api/v1/releases/${releaseId}/known-issues`, {
    data: { key: 'RP-7', severity: 'p2', title: 'Slow avatar upload' },
  });
  expect(issue.status(), await issue.text()).toBe(201);
  await c.ctx.close();
});

test('a viewer reads the release without a single form, the waived item with its reason', async ({ browser }) => {
  const v = await personPage(browser, viewer);
  await v.page.goto(releaseUrl);
  await hydrated(v.page);
  await expect(v.page.getByTestId('phase')).toHaveText('Go/No-Go');
  // The language switch and sign-out live in the header; the page itself has nothing to send.
  await expect(v.page.locator('main form')).toHaveCount(0);
  await expect(v.page.locator('main details.item-edit')).toHaveCount(0);
  const reason = v.page.locator(`li[data-key="${WAIVED}"]`).getByTestId('item-reason');
  await expect(reason).toBeVisible();
  await expect(reason).toContainText(REASON);
  await expect(v.page.getByTestId('preconditions')).toContainText('Oskar');
  await readsAsWords(v.page, 'the viewer\'s page');
  await v.ctx.close();
});

test('the product owner reads preconditions, the way to sign and one card per name, in English and German', async ({ browser }) => {
  const o = await personPage(browser, owner);
  const page = o.page;
  await page.goto(releaseUrl);
  await hydrated(page);

  // The summary stays at the top and says what blocks the go-live.
  const summary = page.getByTestId('release-summary');
  expect(await summary.evaluate((el) => getComputedStyle(el).position)).toBe('sticky');
  await expect(summary.getByTestId('next-gate')).toContainText('Blocks the go-live');
  await expect(page.getByTestId('sign-link')).toHaveAttribute('href', `${releaseUrl}/sign`);

  const pre = page.getByTestId('preconditions');
  await expect(pre).toBeVisible();
  await expect(pre).toContainText('Oskar');
  await expect(pre).toContainText('https://git.example/migrations/rp-down');
  // Only who steers the release edits the preconditions.
  await expect(page.locator('summary', { hasText: 'Edit preconditions' })).toHaveCount(0);

  // The owner may accept the known issue.
  await expect(page.locator('li[data-issue="RP-7"] input[name="accept_reason"]')).toHaveCount(1);

  await expect(page.locator(`li[data-key="${WAIVED}"]`).getByTestId('item-reason')).toContainText(REASON);
  await expect(page.locator('main h2', { hasText: 'Go/No-Go' })).toHaveCount(1);
  await expect(page.locator('main h2', { hasText: 'Go-live decision' })).toHaveCount(0);
  await expect(page.locator('main :is(h2, h3)', { hasText: 'Post-release documentation' })).toHaveCount(1);
  await expect(page.locator('main .release-facts')).toContainText('Canary');
  await readsAsWords(page, 'the English page');

  await page.getByRole('button', { name: 'Deutsch' }).click();
  await expect(page.locator('html')).toHaveAttribute('lang', 'de');
  await hydrated(page);
  await expect(page.getByTestId('phase')).toHaveText('Go/No-Go');
  await expect(page.locator('main h2', { hasText: 'Go/No-Go-Entscheid (T-1h)' })).toHaveCount(1);
  await expect(page.locator('main h2', { hasText: 'Go-Live-Entscheid' })).toHaveCount(0);
  await expect(page.locator('main :is(h2, h3)', { hasText: 'Dokumentation nach dem Release' })).toHaveCount(1);
  await expect(page.getByTestId('go-no-go')).toContainText('Product Owner');
  await expect(page.getByTestId('preconditions')).toContainText('Oskar');
  await expect(page.locator(`li[data-key="${WAIVED}"]`).getByTestId('item-reason')).toContainText(REASON);
  await readsAsWords(page, 'the German page');
  await o.ctx.close();
});

test('an engineer opens an item\'s form on demand and is not offered to accept risks', async ({ browser }) => {
  const e = await personPage(browser, engineer);
  const page = e.page;
  await page.goto(releaseUrl);
  await hydrated(page);

  // Evidence is required for this item: an engineer neither accepts its risk nor waives it.
  const item = page.locator('li[data-key="smoke_app_start"]');
  const edit = item.locator('details.item-edit');
  await expect(edit).toHaveJSProperty('open', false);
  await expect(item.locator('select[name="state"]')).toBeHidden();
  await edit.locator('summary').click();
  await expect(edit).toHaveJSProperty('open', true);
  await expect(item.locator('select[name="state"]')).toBeVisible();
  await expect(item.locator('option[value="accepted_risk"]')).toHaveCount(0);
  await expect(item.locator('option[value="not_applicable"]')).toHaveCount(0);
  await expect(item.locator('option[value="passed"]')).toHaveCount(1);
  await expect(edit).toContainText('captain or product owner');

  // The known issue: resolving is for everyone who works on the release, accepting is not.
  const issue = page.locator('li[data-issue="RP-7"]');
  await expect(issue.getByRole('button', { name: 'Mark resolved' })).toBeVisible();
  await expect(issue.locator('input[name="accept_reason"]')).toHaveCount(0);
  await expect(issue).toContainText('Only the release\'s captain or product owner may accept a known issue.');

  // Items are saved through their folded form.
  await setItem(page, 'smoke_role_switch', 'failed', undefined, 'Role switch hangs on Android 12');
  await expect(page.locator('li[data-key="smoke_role_switch"]')).toContainText('Role switch hangs on Android 12');
  // Who set it last is shown with the item, with the time in Europe/Berlin.
  const who = page.locator('li[data-key="smoke_role_switch"]').getByTestId('item-who');
  await expect(who).toContainText(engineer.name);
  await expect(who).toContainText(/CES?T/);
  await e.ctx.close();
});

test('a form is empty again after it succeeded, and keeps what was typed when refused', async ({ browser }) => {
  const c = await personPage(browser, captain);
  const page = c.page;
  await page.goto(releaseUrl);
  await hydrated(page);
  const issues = page.getByTestId('known-issues');
  await issues.locator('summary', { hasText: 'Add a known issue' }).click();
  const form = issues.locator('form', { has: page.locator('input[name="key"]') });
  await form.locator('input[name="key"]').fill('RP-9');
  await form.locator('select[name="severity"]').selectOption('p3');
  await form.locator('input[name="title"]').fill('Typo in the settings screen');
  await form.getByRole('button', { name: 'Add' }).click();
  await expect(page.locator('li[data-issue="RP-9"]')).toContainText('Typo in the settings screen');
  await hydrated(page);
  await issues.locator('summary', { hasText: 'Add a known issue' }).click();
  const again = issues.locator('form', { has: page.locator('input[name="key"]') });
  await expect(again.locator('input[name="key"]')).toHaveValue('');
  await expect(again.locator('input[name="title"]')).toHaveValue('');

  // The same key twice is refused at the form, and what was typed stays.
  await again.locator('input[name="key"]').fill('RP-9');
  await again.locator('input[name="title"]').fill('Typo, reported again');
  await again.getByRole('button', { name: 'Add' }).click();
  await expect(again.getByRole('alert')).toBeVisible();
  await expect(again.locator('input[name="title"]')).toHaveValue('Typo, reported again');
  await c.ctx.close();
});

test('rollback is not offered before the go-live has started, and is once it has', async ({ page, browser }) => {
  await signIn(page, captain);
  await signOff(page, releaseId, 'release_captain', 'go');
  const o = await personPage(browser, owner);
  await signOff(o.page, releaseId, 'product_owner', 'go');

  await o.page.goto(releaseUrl);
  await hydrated(o.page);
  await expect(o.page.getByTestId('phase')).toHaveText('Go-live');
  await expect(o.page.getByTestId('go-live')).toBeVisible();
  await expect(o.page.getByTestId('rollback')).toHaveCount(0);
  await expect(o.page.getByRole('button', { name: 'Roll back' })).toHaveCount(0);

  const start = await page.request.post(`/api/v1/releases/${releaseId}/go-live/start`, { data: {} });
  expect(start.status(), await start.text()).toBe(200);
  await o.page.reload();
  await hydrated(o.page);
  await expect(o.page.getByTestId('rollback')).toBeVisible();
  await o.ctx.close();
});
