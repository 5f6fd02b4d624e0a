import { test, expect } from '@playwright/test';
import { berlinLocal, hydrated, signIn } from './helpers';

// Runs after accounts.spec.ts on the same instance: the captain exists.
const captain = { email: 'rc@example.org', password: 'captain password 1' };
const hostile = 'x </title><script>window.__pwned = 1</script>';

test('a hostile release title is text in the tab, the heading and the list', async ({ page }) => {
  let dialogs = 0;
  page.on('dialog', (d) => { dialogs += 1; void d.dismiss(); });
  await signIn(page, captain);
  await page.goto('/releases/new');
  await hydrated(page);
  const form = page.locator('#new-release');
  await form.getByLabel('Title').fill(hostile);
  await form.getByLabel('Version').fill('"><img src=x onerror=alert(2)>');
  await form.getByLabel('Window start (Europe/Berlin)').fill(berlinLocal(30));
  await form.getByLabel('Window end (Europe/Berlin)').fill(berlinLocal(32));
  await form.getByLabel('Release captain (email)').fill(captain.email);
  await form.getByRole('button', { name: 'Create release' }).click();
  await expect(page).toHaveURL(/\/releases\/\d+$/);
  const url = page.url();

  // A full load, as a reader arriving by link gets it from the server.
  await page.goto(url);
  await hydrated(page);
  expect(await page.title()).toContain(hostile);
  await expect(page.getByRole('heading', { name: /window.__pwned/ })).toBeVisible();
  expect(await page.evaluate(() => (window as any).__pwned)).toBeUndefined();
  expect(await page.locator('img[src="x"]').count()).toBe(0);

  await page.goto('/releases');
  await hydrated(page);
  await expect(page.getByText(hostile).first()).toBeVisible();
  expect(await page.evaluate(() => (window as any).__pwned)).toBeUndefined();
  expect(dialogs).toBe(0);
});

test('pages are served with a nonce-based policy and hydrate under it', async ({ page }) => {
  const resp = await page.goto('/login');
  const csp = resp!.headers()['content-security-policy'];
  expect(csp).toMatch(/script-src 'self' 'nonce-[^']+' 'wasm-unsafe-eval'/);
  expect(csp).toContain("frame-ancestors 'none'");
  await hydrated(page);
});
