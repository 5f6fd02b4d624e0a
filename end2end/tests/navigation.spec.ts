import { test, expect, Page, Request } from '@playwright/test';
import { hydrated, signIn } from './helpers';
import { ensureUser, NewRelease, Person, releaseInGoNoGo, signInAnAdmin, signOff } from './release_setup';

// From every kind of page, every link of the top bar (the brand, the main navigation, the
// account link) leads to a page that loads without an error: no document, server-function
// or API answer of 400 or more, no console error, no uncaught exception. Makes its own
// people and releases, so it runs on a fresh instance as well as after the other files.
test.describe.configure({ mode: 'serial' });

// This file's admin (also a release captain) and product owner.
const navAdmin: Person = { email: 'nav-admin@example.org', name: 'Nadia Navigator', password: 'navigation admin 1' };
const navOwner: Person = { email: 'nav-owner@example.org', name: 'Otto Navigator', password: 'navigation owner 1' };

const TOP_BAR = 'header a.brand, header nav.main-nav a, header a[href="/account"]';

/** A blue/green release of this file's people, its window a day ahead. */
function release(title: string): NewRelease {
  return {
    title, environment: 'prod', strategy: 'blue_green', window: [30, 32],
    captain: navAdmin.email, owner: navOwner.email,
  };
}

let openId = 0;
let sealedId = 0;

test('this file makes its admin, a product owner, an open and an ended release', async ({ page }) => {
  await signInAnAdmin(page, navAdmin);
  await ensureUser(page, navAdmin, ['admin', 'release_captain']);
  await ensureUser(page, navOwner, ['product_owner']);
  await page.context().clearCookies();
  await signIn(page, navAdmin);
  openId = await releaseInGoNoGo(page, release('Navigation release'));
  // A captain's no-go ends a release: it is sealed and has a dossier.
  sealedId = await releaseInGoNoGo(page, release('Navigation release, stopped'));
  await signOff(page, sealedId, 'release_captain', 'no_go', 'Stopped to test the navigation');
  const dossier = await page.request.get(`/api/v1/releases/${sealedId}/dossier`);
  expect(dossier.status()).toBe(200);
});

/** What went wrong on `page` since it was watched, and a wait for its requests to end. */
function watch(page: Page) {
  const problems: string[] = [];
  const watched = (type: string) => ['document', 'fetch', 'xhr'].includes(type);
  const inFlight = new Set<Request>();
  page.on('request', (r) => { if (watched(r.resourceType())) inFlight.add(r); });
  page.on('requestfinished', (r) => inFlight.delete(r));
  page.on('requestfailed', (r) => inFlight.delete(r));
  page.on('response', (r) => {
    if (r.status() >= 400 && watched(r.request().resourceType())) {
      problems.push(`${r.status()} ${r.request().method()} ${r.url()}`);
    }
  });
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  const settled = async () => {
    await expect.poll(() => inFlight.size, { timeout: 20_000 }).toBe(0);
    // A server function may start right after hydration: look again a moment later.
    await page.waitForTimeout(300);
    await expect.poll(() => inFlight.size, { timeout: 20_000 }).toBe(0);
  };
  return { problems, settled };
}

const PAGES: [string, () => string][] = [
  ['the release list', () => '/releases'],
  ['a release page', () => `/releases/${openId}`],
  ['a sign page', () => `/releases/${openId}/sign`],
  ['a dossier page', () => `/releases/${sealedId}/dossier`],
  ['the status view', () => '/status'],
  ['the archive', () => '/archive'],
  ['the delivery metrics', () => '/delivery'],
  ['the environments', () => '/environments'],
  ['the admin page', () => '/admin'],
  ['the checklist templates', () => '/admin/templates'],
  ['the audit log', () => '/admin/audit'],
  ['the account page', () => '/account'],
];

for (const [name, path] of PAGES) {
  test(`every top-bar link from ${name} loads without an error`, async ({ page }) => {
    test.setTimeout(180_000);
    expect(openId, 'the set-up test ran').toBeGreaterThan(0);
    await signIn(page, navAdmin);
    const { problems, settled } = watch(page);
    await page.goto(path());
    await hydrated(page);
    await settled();
    expect(problems, `opening ${path()}`).toEqual([]);

    const links = page.locator(TOP_BAR);
    const count = await links.count();
    // The brand, six sections for an admin, the account.
    expect(count).toBeGreaterThanOrEqual(8);
    for (let i = 0; i < count; i++) {
      if (i > 0) {
        await page.goto(path());
        await hydrated(page);
        await settled();
      }
      const link = page.locator(TOP_BAR).nth(i);
      const href = (await link.getAttribute('href')) ?? '';
      const target = new URL(href, page.url()).pathname;
      await link.click();
      await page.waitForURL((u) => u.pathname === target || (target === '/' && u.pathname === '/releases'));
      await page.waitForLoadState('load');
      await hydrated(page);
      await settled();
      await expect(page.locator('main')).toBeVisible();
      expect(problems, `${path()} → ${href}`).toEqual([]);
    }
  });
}
