import { test, expect, Page } from '@playwright/test';
import { hydrated, signIn } from './helpers';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

// Runs after accounts.spec.ts on the same instance: the admin exists.
test.describe.configure({ mode: 'serial' });

const admin = { email: 'admin@example.org', password: 'first admin password' };

test('the status view follows an environment going down, without a reload', async ({ page }) => {
  // A probe target on loopback that this test steers.
  let failing = false;
  const target = http.createServer((_req, res) => {
    res.writeHead(failing ? 503 : 200, { 'content-type': 'text/plain' });
    res.end(failing ? 'down' : 'ok');
  });
  await new Promise<void>((done) => target.listen(0, '127.0.0.1', done));
  const port = (target.address() as AddressInfo).port;
  try {
    await signIn(page, admin);
    // Registered through the environments page, probed every second.
    await page.goto('/environments');
    await hydrated(page);
    const form = page.locator('details.add-environment');
    await form.getByText('Add an environment').click();
    await form.getByLabel('Name', { exact: true }).fill('e2e-staging');
    await form.getByLabel('Base URL').fill(`http://127.0.0.1:${port}`);
    await form.getByLabel('Interval (s)').fill('1');
    await form.getByLabel('Timeout (ms)').fill('1000');
    await form.getByRole('button', { name: 'Add environment' }).click();
    await expect(page.locator('tr[data-environment="e2e-staging"]')).toBeVisible();

    await page.goto('/status');
    await hydrated(page);
    const env = page.locator('article[data-environment="e2e-staging"]');
    await expect(env).toHaveAttribute('data-state', 'up', { timeout: 30_000 });
    await expect(page.locator('.status-board')).toHaveAttribute('data-live', 'connected');
    // Times read in Europe/Berlin, like everywhere else.
    await expect(page.locator('.status-board')).not.toContainText('UTC');
    await page.evaluate(() => ((window as any).__sameDocument = true));

    failing = true;
    await expect(env).toHaveAttribute('data-state', 'down', { timeout: 30_000 });
    await expect(env.locator('[data-testid="open-alerts"]')).toContainText('P1');
    await expect(env.locator('.endpoint[data-kind="readiness"]')).toContainText('status 503');
    // The page changed in place: the marker set before is still there.
    expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);

    // Answering again: no longer down (the alert window still remembers the failures).
    failing = false;
    const health = env.locator('.endpoint[data-kind="health"]');
    await expect(health).toContainText('HTTP 200', { timeout: 30_000 });
    await expect(health).toHaveAttribute('data-state', /^(up|degraded)$/, { timeout: 30_000 });
    expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);
  } finally {
    target.close();
  }
});
