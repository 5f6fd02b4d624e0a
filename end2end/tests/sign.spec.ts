import { test, expect } from '@playwright/test';
import { hydrated } from './helpers';
import {
  ensureUser, patchItem, personPage, releaseInGoNoGo, scrollsSideways, signInAnAdmin,
} from './release_setup';

// The Go/No-Go sign-off on a phone (360 × 740): the product owner reaches the sign-off page
// from the release page, reads what is signed without scrolling sideways (a long e-mail
// address, a full commit hash), signs GO with a big button, and is asked again once what
// was signed changes. Makes its own people and release.
test.describe.configure({ mode: 'serial' });

const PHONE = { width: 360, height: 740 };
const admin = { email: 'sign-admin@example.org', name: 'Sina Signadmin', password: 'sign page admin 1' };
const captain = { email: 'sign-captain@example.org', name: 'Sam Signcaptain', password: 'sign page captain 1' };
const owner = {
  email: 'paula.product-owner.mobile-release-train@platform-engineering.department.example.org',
  name: 'Paula Longaddress',
  password: 'sign page owner 1',
};
const COMMIT = 'f3a9c1d2e4b5a6978877665544332211aabbccdd';

let releaseId = 0;

test('this file makes its people and a release waiting for the Go/No-Go', async ({ page, browser }) => {
  await signInAnAdmin(page, admin);
  await ensureUser(page, captain, ['release_captain']);
  await ensureUser(page, owner, ['product_owner']);
  const c = await personPage(browser, captain);
  releaseId = await releaseInGoNoGo(c.page, {
    title: 'Sign release', environment: 'sign-prod', strategy: 'blue_green', window: [30, 32],
    captain: captain.email, owner: owner.email, commit_sha: COMMIT,
    down_migration: 'https://git.example/platform/mobile-backend/-/blob/main/migrations/0042_profiles_down.sql',
  });
  await c.ctx.close();
});

test('on a phone the product owner reads what is signed and signs GO', async ({ browser }) => {
  const o = await personPage(browser, owner, PHONE);
  const page = o.page;
  await page.goto(`/releases/${releaseId}`);
  await hydrated(page);
  expect(await scrollsSideways(page), 'the release page scrolls sideways').toBe(false);
  await page.getByTestId('sign-link').click();
  await expect(page).toHaveURL(new RegExp(`/releases/${releaseId}/sign$`));
  await hydrated(page);

  const signPage = page.getByTestId('sign-page');
  await expect(signPage).toContainText('Sign release');
  await expect(signPage).toContainText(COMMIT);
  await expect(signPage).toContainText(owner.email);
  await expect(page.getByTestId('staging-result')).toHaveText('passed');
  await expect(page.getByTestId('preconditions')).toContainText('Oskar');
  await expect(page.getByTestId('content-hash')).toHaveText(/^[0-9a-f]{12}$/);
  await expect(page.getByTestId('content-hash')).toHaveAttribute('title', /^[0-9a-f]{64}$/);
  // Only what is signed: no checklist here.
  await expect(page.locator('main li[data-key]')).toHaveCount(0);
  expect(await scrollsSideways(page), 'the sign-off page scrolls sideways').toBe(false);

  const go = page.getByTestId('sign-go');
  const box = await go.boundingBox();
  expect(box, 'the GO button is on the page').not.toBeNull();
  expect(box!.height).toBeGreaterThanOrEqual(44);
  expect(box!.width).toBeGreaterThanOrEqual(PHONE.width * 0.75);

  await go.click();
  const row = page.locator('li[data-role="product_owner"]');
  await expect(row).toContainText('GO');
  await expect(row).toContainText(owner.email);
  await expect(page.getByTestId('sign-go')).toHaveCount(0);
  await expect(page.getByTestId('sign-closed')).toBeVisible();
  expect(await scrollsSideways(page), 'the signed page scrolls sideways').toBe(false);
  await o.ctx.close();
});

test('a change after signing asks the product owner to sign again', async ({ browser }) => {
  const c = await personPage(browser, captain);
  await patchItem(c.page, releaseId, 'smoke_app_start', { note: 'retested on iOS 18' });
  await c.ctx.close();

  const o = await personPage(browser, owner, PHONE);
  const page = o.page;
  await page.goto(`/releases/${releaseId}`);
  await hydrated(page);
  // "Sign again" stands where the phase is read.
  await expect(page.getByTestId('release-summary').getByTestId('sign-again')).toBeVisible();
  await expect(page.getByTestId('phase')).toHaveClass(/phase-stale/);

  await page.goto(`/releases/${releaseId}/sign`);
  await hydrated(page);
  await expect(page.getByTestId('stale')).toBeVisible();
  // A No-Go needs a reason: refused at the form, nothing recorded.
  await page.getByTestId('sign-no-go').click();
  await expect(page.getByRole('alert')).toContainText('Comment');
  await expect(page.getByTestId('sign-go')).toBeVisible();
  await page.getByTestId('sign-go').click();
  await expect(page.getByTestId('stale')).toHaveCount(0);
  await expect(page.locator('li[data-role="product_owner"]')).toContainText('GO');
  await o.ctx.close();
});
