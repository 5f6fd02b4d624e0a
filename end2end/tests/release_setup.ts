import { expect, Browser, Page } from '@playwright/test';
import { hydrated, signIn } from './helpers';

// People and releases for release_page.spec.ts and sign.spec.ts, made over the API so
// each file runs on a fresh instance as well as after the others.

export type Person = { email: string; name: string; password: string };

// The admin the accounts story registers; only asked when the instance is not fresh.
const firstAdmin = { email: 'admin@example.org', password: 'first admin password' };

/** An admin signed in on `page`: the instance's first (registered here on a fresh one). */
export async function signInAnAdmin(page: Page, own: Person) {
  await page.goto('/');
  if (new URL(page.url()).pathname === '/register') {
    await page.getByLabel('Name').fill(own.name);
    await page.getByLabel('Email').fill(own.email);
    await page.getByLabel('Password (at least 8 characters)').fill(own.password);
    await page.getByLabel('Repeat the password').fill(own.password);
    await page.getByRole('button', { name: 'Create admin account' }).click();
    await expect(page).not.toHaveURL(/\/register/);
    await hydrated(page);
    return;
  }
  for (const who of [own, firstAdmin]) {
    const r = await page.request.post('/api/v1/session', { data: { email: who.email, password: who.password } });
    if (r.status() === 200) return;
  }
  throw new Error('the instance is not fresh and no known admin can sign in');
}

/** An account with these roles, made by the signed-in admin unless it exists. */
export async function ensureUser(page: Page, who: Person, roles: string[]) {
  const users = await page.request.get('/api/v1/users');
  expect(users.status()).toBe(200);
  const found = ((await users.json()) as { id: number; email: string }[]).find((u) => u.email === who.email);
  if (found) {
    const r = await page.request.patch(`/api/v1/users/${found.id}`, { data: { roles } });
    expect(r.status(), await r.text()).toBe(200);
    return;
  }
  const r = await page.request.post('/api/v1/users', { data: { ...who, roles } });
  expect(r.status(), await r.text()).toBe(201);
}

/** A browser context of its own with `who` signed in (a phone's screen when asked). */
export async function personPage(browser: Browser, who: Person, viewport?: { width: number; height: number }) {
  const ctx = await browser.newContext(viewport ? { viewport } : {});
  const page = await ctx.newPage();
  await signIn(page, who);
  return { ctx, page };
}

export type NewRelease = {
  title: string;
  environment: string;
  strategy: 'blue_green' | 'canary';
  /** The go-live window, in hours from now. */
  window: [number, number];
  captain: string;
  owner: string;
  commit_sha?: string;
  down_migration?: string;
};

/**
 * A release over the API with the captain's session (on `page`), its preconditions met,
 * every staging-gate item passed with a link, moved to Go/No-Go.
 */
export async function releaseInGoNoGo(page: Page, r: NewRelease): Promise<number> {
  const now = Date.now();
  const created = await page.request.post('/api/v1/releases', {
    data: {
      title: r.title, version: '4.2.0', environment: r.environment, strategy: r.strategy,
      window_start: new Date(now + r.window[0] * 3600_000).toISOString(),
      window_end: new Date(now + r.window[1] * 3600_000).toISOString(),
      release_captain: r.captain, product_owner: r.owner,
      artifact_version: 'app-4.2.0+build.1187', commit_sha: r.commit_sha,
      last_backup_at: new Date(now - 3600_000).toISOString(),
      last_restore_test_at: new Date(now - 5 * 86400_000).toISOString(),
      on_call: 'Oskar',
      links: {
        rollback_plan: 'https://wiki.example/rollback',
        down_migration: r.down_migration ?? 'https://git.example/down',
      },
    },
  });
  expect(created.status(), await created.text()).toBe(201);
  const id = (await created.json()).id as number;
  await phase(page, id, 'staging_gate');
  const checklist = await page.request.get(`/api/v1/releases/${id}/checklist`);
  expect(checklist.status()).toBe(200);
  const items = (await checklist.json()) as { key: string; kind: string; state: string }[];
  for (const { key } of items.filter((i) => i.kind === 'staging_gate' && i.state !== 'passed')) {
    await patchItem(page, id, key, { state: 'passed', link: `https://evidence.example/${key}` });
  }
  await phase(page, id, 'go_no_go');
  return id;
}

export async function phase(page: Page, id: number, to: string) {
  const r = await page.request.post(`/api/v1/releases/${id}/phase`, { data: { to } });
  expect(r.status(), await r.text()).toBe(200);
}

export async function patchItem(page: Page, id: number, key: string, change: Record<string, string>) {
  const r = await page.request.patch(`/api/v1/releases/${id}/checklist/${key}`, { data: change });
  expect(r.status(), await r.text()).toBe(200);
}

export async function signOff(page: Page, id: number, role: string, decision: string, comment = '') {
  const r = await page.request.post(`/api/v1/releases/${id}/sign-offs`, { data: { role, decision, comment } });
  expect(r.status(), await r.text()).toBe(201);
}

/** Whether the page is wider than the window (it scrolls sideways). */
export async function scrollsSideways(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
}
