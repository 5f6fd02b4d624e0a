import { test, expect, devices } from '@playwright/test';
import { hydrated } from './helpers';
import { waitForMail } from './mail';
import { ensureUser, personPage, releaseInGoNoGo, scrollsSideways, signInAnAdmin } from './release_setup';

// Reaching the signers: when a release enters Go/No-Go, its product owner gets an e-mail
// (through the SMTP sink end2end/run.sh starts) with a link to the sign-off page. Opened on
// a phone that is not signed in, the link leads through the sign-in page and back to the
// sign-off page, which fits the phone's width. The subject is not pinned here: the mail is
// found by its recipient and its link. Makes its own people and release.
test.describe.configure({ mode: 'serial' });

const admin = { email: 'deeplink-admin@example.org', name: 'Dana Deeplinkadmin', password: 'deep link admin 1' };
const captain = { email: 'deeplink-captain@example.org', name: 'Carl Deeplinkcaptain', password: 'deep link captain 1' };
const owner = { email: 'olivia.berger@deeplink.example.org', name: 'Olivia Berger', password: 'deep link owner 1' };
// A phone as Playwright describes a Pixel 7 (412 CSS pixels wide, touch, mobile viewport),
// in the project's Chromium: the browser is launched with the config's executablePath/args.
const { defaultBrowserType: _, ...PHONE } = devices['Pixel 7'];

let releaseId = 0;

test('this file makes its people and a release that enters Go/No-Go', async ({ page, browser }) => {
  await signInAnAdmin(page, admin);
  await ensureUser(page, captain, ['release_captain']);
  await ensureUser(page, owner, ['product_owner']);
  const c = await personPage(browser, captain);
  releaseId = await releaseInGoNoGo(c.page, {
    title: 'Deep link release', environment: 'deeplink-prod', strategy: 'blue_green', window: [30, 32],
    captain: captain.email, owner: owner.email,
  });
  await c.ctx.close();
});

test('the Go/No-Go e-mail leads the product owner, signed out on a phone, to the sign-off page', async ({ browser, baseURL }) => {
  const signPath = `/releases/${releaseId}/sign`;
  const isSignLink = (l: string) => new URL(l).pathname.replace(/\/+$/, '').endsWith(signPath);
  const mail = await waitForMail(owner.email, '', 30_000, (m) => m.links.some(isSignLink));
  const link = mail.links.find(isSignLink)!;
  // The link is built from PUBLIC_BASE_URL, which run.sh sets to this server.
  expect(new URL(link).origin, `the link ${link}`).toBe(new URL(baseURL!).origin);

  const ctx = await browser.newContext({ ...PHONE });
  const page = await ctx.newPage();
  await page.goto(link);
  // Not signed in: the sign-in page, which remembers where the link pointed.
  await expect(page).toHaveURL(/\/login\?/);
  expect(new URL(page.url()).searchParams.get('next')).toBe(signPath);
  await page.getByLabel('Email').fill(owner.email);
  await page.getByLabel('Password').fill(owner.password);
  await page.getByRole('button', { name: 'Sign in' }).click();

  await expect(page).toHaveURL(new RegExp(`${signPath}$`));
  await hydrated(page);
  await expect(page.getByTestId('sign-go')).toBeVisible();
  // The phone's width applies (the page has a viewport meta), and nothing is wider.
  expect(await page.evaluate(() => window.innerWidth)).toBe(PHONE.viewport.width);
  expect(await scrollsSideways(page), 'the sign-off page scrolls sideways').toBe(false);
  await ctx.close();
});
