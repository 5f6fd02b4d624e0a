import { test, expect } from '@playwright/test';
import { hydrated } from './helpers';
import { ensureUser, personPage, signInAnAdmin } from './release_setup';

// A person's e-mail choices at /account/notifications (where every e-mail's unsubscribe
// link points), and the outbox at /admin/outbox for admins only. Makes its own people.
test.describe.configure({ mode: 'serial' });

const admin = { email: 'notify-admin@example.org', name: 'Nora Notifyadmin', password: 'notifications admin 1' };
const person = { email: 'notify-engineer@example.org', name: 'Ned Notified', password: 'notifications engineer 1' };

test('this file makes its people', async ({ page }) => {
  await signInAnAdmin(page, admin);
  await ensureUser(page, admin, ['admin']);
  await ensureUser(page, person, ['engineer']);
});

test('a person turns go-live e-mails off, switches to English, and the choices are kept', async ({ browser }) => {
  const p = await personPage(browser, person);
  const page = p.page;
  await page.goto('/account/notifications');
  await hydrated(page);
  await expect(page.getByTestId('prefs-intro')).toContainText(`You receive e-mails at ${person.email}`);
  await expect(page.getByTestId('prefs-intro')).toContainText('Turn off what you do not need.');
  const form = page.getByTestId('notification-prefs');
  // Every e-mail on and German until the person says otherwise (a second run of this file
  // finds the first run's choices, so it starts from there).
  if (!(await form.getByTestId('email-go_live').isChecked())) {
    await form.getByTestId('email-go_live').check();
    await form.getByTestId('prefs-lang').selectOption('de');
    await form.getByRole('button', { name: 'Save' }).click();
    await expect(page.getByTestId('flash')).toContainText('Notification settings saved.');
    await hydrated(page);
    // Once more, so the note is gone before the next save brings its own.
    await page.reload();
    await hydrated(page);
  }
  for (const group of ['assignment', 'staging_gate', 'go_no_go', 'go_live', 'alerts']) {
    await expect(form.getByTestId(`email-${group}`)).toBeChecked();
  }
  await expect(form.getByTestId('prefs-lang')).toHaveValue('de');
  await expect(page.getByTestId('flash')).toHaveCount(0);

  await form.getByTestId('email-go_live').uncheck();
  await form.getByTestId('prefs-lang').selectOption('en');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByTestId('flash')).toContainText('Notification settings saved.');
  await hydrated(page);

  await page.reload();
  await hydrated(page);
  const kept = page.getByTestId('notification-prefs');
  await expect(kept.getByTestId('email-go_live')).not.toBeChecked();
  for (const group of ['assignment', 'staging_gate', 'go_no_go', 'alerts']) {
    await expect(kept.getByTestId(`email-${group}`)).toBeChecked();
  }
  await expect(kept.getByTestId('prefs-lang')).toHaveValue('en');
  await p.ctx.close();
});

test('an admin opens the outbox from the admin area and filters it', async ({ browser }) => {
  const a = await personPage(browser, admin);
  const page = a.page;
  await page.goto('/admin');
  await hydrated(page);
  await page.getByRole('link', { name: 'Outbox', exact: true }).click();
  await expect(page).toHaveURL(/\/admin\/outbox$/);
  await hydrated(page);
  await expect(page.getByRole('heading', { name: 'Outbox' })).toBeVisible();
  await expect(page.getByTestId('outbox')).toBeVisible();
  await expect(page.getByTestId('outbox').getByRole('columnheader', { name: 'Recipient' })).toBeVisible();

  await page.getByRole('link', { name: 'failed', exact: true }).click();
  await expect(page).toHaveURL(/\/admin\/outbox\?state=failed$/);
  await hydrated(page);
  await expect(page.getByTestId('outbox')).toBeVisible();
  await expect(page.locator('[data-testid="outbox-row"]:not([data-state="failed"])')).toHaveCount(0);
  await a.ctx.close();
});

test('a person without the admin role is refused the outbox', async ({ browser }) => {
  const p = await personPage(browser, person);
  const page = p.page;
  const resp = await page.goto('/admin/outbox');
  expect(resp!.status()).toBe(403);
  await expect(page.getByRole('alert')).toContainText('needs the admin role');
  await expect(page.getByTestId('outbox')).toHaveCount(0);
  await p.ctx.close();
});

test('a person takes a calendar feed link from the account page, and revoking it ends the feed', async ({ browser }) => {
  const p = await personPage(browser, person);
  const page = p.page;
  await page.goto('/account');
  await hydrated(page);
  const personal = page.getByTestId('calendar-feed-personal');
  await personal.getByRole('button', { name: /Create feed link|New link/ }).click();
  // Shown once, in place, without a reload.
  const url = (await page.getByTestId('calendar-url').textContent())!.trim();
  expect(url).toMatch(/\/calendar\.ics\?token=sgcal_[0-9a-f]{64}$/);
  const feed = await page.request.get(url);
  expect(feed.status()).toBe(200);
  expect(feed.headers()['content-type']).toContain('text/calendar');
  expect(await feed.text()).toMatch(/^BEGIN:VCALENDAR\r\n/);
  // No team feed for a person who is not an admin.
  await expect(page.getByTestId('calendar-feed-team')).toHaveCount(0);

  await page.reload();
  await hydrated(page);
  await personal.getByRole('button', { name: 'Revoke' }).click();
  await expect(personal.getByRole('button', { name: 'Revoke' })).toHaveCount(0);
  expect((await page.request.get(url)).status()).toBe(404);
  await p.ctx.close();
});
