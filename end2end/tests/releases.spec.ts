import { test, expect, Browser } from '@playwright/test';
import { berlinLocal, hydrated, setItem, signIn } from './helpers';

// Runs after accounts.spec.ts on the same instance: the admin and the captain exist.
test.describe.configure({ mode: 'serial' });

const admin = { email: 'admin@example.org', password: 'first admin password' };
const captain = { email: 'rc@example.org', password: 'captain password 1' };
const owner = { email: 'po@example.org', name: 'Paula Owner', password: 'owner password 12' };

let releaseUrl = '';

test('the admin adds a product owner', async ({ page }) => {
  await signIn(page, admin);
  await page.goto('/admin');
  await hydrated(page);
  const form = page.locator('#create-user');
  await form.getByLabel('Email').fill(owner.email);
  await form.getByLabel('Name').fill(owner.name);
  await form.getByLabel('Initial password (at least 8 characters)').fill(owner.password);
  await form.getByLabel('Product owner').check();
  await form.getByRole('button', { name: 'Add user' }).click();
  await expect(page.locator(`tr[data-email="${owner.email}"]`)).toBeVisible();
});

test('the release captain creates a release and completes the staging gate', async ({ page }) => {
  await signIn(page, captain);
  await page.goto('/releases');
  await page.getByRole('link', { name: 'New release' }).click();
  await hydrated(page);
  const form = page.locator('#new-release');
  await form.getByLabel('Title').fill('Winter release');
  await form.getByLabel('Version').fill('3.1.0');
  await form.getByLabel('Window start (Europe/Berlin)').fill(berlinLocal(30));
  await form.getByLabel('Window end (Europe/Berlin)').fill(berlinLocal(32));
  await form.getByLabel('Strategy').selectOption('canary');
  await form.getByLabel('Release captain (email)').fill(captain.email);
  await form.getByLabel('Product owner (email)').fill(owner.email);
  await form.getByRole('button', { name: 'Create release' }).click();

  await expect(page).toHaveURL(/\/releases\/\d+$/);
  releaseUrl = new URL(page.url()).pathname;
  await expect(page.getByRole('heading', { name: /Winter release/ })).toBeVisible();
  await expect(page.getByTestId('phase')).toHaveText('Draft');
  await hydrated(page);

  // Editing: a window that ends before it starts is refused with the field named.
  await page.locator('summary', { hasText: 'Edit release' }).click();
  await page.locator('#edit-release').getByLabel('Window end (Europe/Berlin)').fill(berlinLocal(29));
  await page.locator('#edit-release').getByRole('button', { name: 'Save release' }).click();
  await expect(page.getByRole('alert')).toContainText('Window end');
  // The page re-renders after the attempt; open the form again if it closed.
  await page.locator('details', { has: page.locator('#edit-release') })
    .evaluate((d) => { (d as HTMLDetailsElement).open = true; });
  await page.locator('#edit-release').getByLabel('Window end (Europe/Berlin)').fill(berlinLocal(32));
  await page.locator('#edit-release').getByLabel('Title').fill('Winter release (mobile)');
  await page.locator('#edit-release').getByRole('button', { name: 'Save release' }).click();
  await expect(page.getByRole('heading', { name: /Winter release \(mobile\)/ })).toBeVisible();

  await page.getByRole('button', { name: 'Start staging gate' }).click();
  await expect(page.getByTestId('phase')).toHaveText('Staging gate');
  // The gate lists what is missing, and the next step waits for it.
  await expect(page.getByTestId('staging-gate')).toContainText('blocked');
  await expect(page.getByRole('button', { name: 'Move to Go/No-Go' })).toBeDisabled();

  for (const key of ['staging_deploy', 'staging_smoke_tests', 'staging_health', 'staging_known_issues']) {
    await setItem(page, key, 'passed', `https://evidence.example/${key}`);
  }
  await expect(page.getByTestId('staging-gate')).toContainText('passed');
  await page.getByRole('button', { name: 'Move to Go/No-Go' }).click();
  await expect(page.getByTestId('phase')).toHaveText('Go/No-Go');

  // Preconditions of the Go/No-Go decision.
  await page.locator('summary', { hasText: 'Preconditions' }).click();
  await page.getByLabel('Last successful backup (Europe/Berlin)').fill(berlinLocal(-3));
  await page.getByLabel('Last restore test (Europe/Berlin)').fill(berlinLocal(-24 * 5));
  await page.getByLabel('On-call person').fill('Oskar');
  await page.getByLabel('Down-migration link').fill('https://git.example/migrations/42-down');
  await page.getByRole('button', { name: 'Save preconditions' }).click();
  await expect(page.getByTestId('go-no-go')).not.toContainText('Last backup older than 24 h');
});

async function signAs(browser: Browser, who: { email: string; password: string }, phone = false) {
  const ctx = await browser.newContext(phone ? { viewport: { width: 390, height: 844 }, isMobile: true } : {});
  const page = await ctx.newPage();
  await signIn(page, who);
  await page.goto(releaseUrl);
  await hydrated(page);
  await page.getByRole('button', { name: 'Sign GO' }).click();
  return { ctx, page };
}

test('product owner (on a phone) and release captain sign GO and the release goes live', async ({ browser }) => {
  const po = await signAs(browser, owner, true);
  await expect(po.page.locator('li[data-role="product_owner"]')).toContainText('GO');
  await expect(po.page.getByTestId('phase')).toHaveText('Go/No-Go');

  const rc = await signAs(browser, captain);
  await expect(rc.page.getByTestId('phase')).toHaveText('Go-live');
  await expect(rc.page.locator('li[data-role="release_captain"]')).toContainText('GO');

  // An edit after signing makes both sign-offs stale.
  await setItem(rc.page, 'smoke_app_start', 'passed', 'https://evidence.example/smoke', 'retested on iOS 18');
  await expect(rc.page.locator('li[data-key="smoke_app_start"]')).toContainText('retested on iOS 18');
  await expect(rc.page.getByTestId('stale')).toHaveCount(2);
  await po.page.reload();
  await expect(po.page.getByTestId('stale')).toHaveCount(2);
  await po.ctx.close();
  await rc.ctx.close();
});

test('the admin edits a checklist template', async ({ page }) => {
  await signIn(page, admin);
  await page.goto('/admin');
  await page.getByRole('link', { name: 'Checklist templates' }).click();
  await hydrated(page);
  const form = page.locator('#add-template-item');
  await form.getByLabel('Checklist').selectOption('go_live');
  await form.getByLabel('Text (German)').fill('Statuspage-Wartung angekündigt');
  await form.getByLabel('Text (English)').fill('Status page maintenance announced');
  await form.getByLabel('Evidence required').check();
  await form.getByRole('button', { name: 'Add' }).click();

  const goLive = page.locator('section[data-template-kind="go_live"]');
  const item = goLive.locator('li', { hasText: 'Status page maintenance announced' });
  await expect(item).toContainText('evidence required');
  await expect(goLive.locator('li').last()).toContainText('Status page maintenance announced');
  await item.getByRole('button', { name: '↑' }).click();
  await expect(goLive.locator('li').last()).not.toContainText('Status page maintenance announced');
  await goLive.locator('li', { hasText: 'Status page maintenance announced' }).getByRole('button', { name: 'Remove' }).click();
  await expect(goLive).not.toContainText('Status page maintenance announced');
});
