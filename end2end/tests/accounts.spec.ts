import { test, expect, Page } from '@playwright/test';

// One story on a fresh instance, step by step: each step builds on the one before.
test.describe.configure({ mode: 'serial' });

const admin = { email: 'admin@example.org', name: 'Ada Admin', password: 'first admin password' };
const captain = { email: 'rc@example.org', name: 'Rhea Captain', password: 'captain password 1' };

async function hydrated(page: Page) {
  // Forms work without JavaScript too, but this story checks the interactive path.
  await expect(page.locator('html[data-hydrated="true"]')).toHaveCount(1, { timeout: 30_000 });
}

async function signIn(page: Page, email: string, password: string) {
  await page.goto('/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test('a fresh instance asks for the first admin and signs them in', async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/register$/);
  await expect(page.getByRole('heading', { name: 'Set up Shipgate' })).toBeVisible();

  await page.getByLabel('Name').fill(admin.name);
  await page.getByLabel('Email').fill(admin.email);
  await page.getByLabel('Password (at least 8 characters)').fill(admin.password);
  await page.getByLabel('Repeat the password').fill('a different password');
  await page.getByRole('button', { name: 'Create admin account' }).click();
  await expect(page.getByRole('alert')).toContainText('The two passwords differ');
  // What was typed is kept.
  await expect(page.getByLabel('Email')).toHaveValue(admin.email);

  await page.getByLabel('Password (at least 8 characters)').fill(admin.password);
  await page.getByLabel('Repeat the password').fill(admin.password);
  await page.getByRole('button', { name: 'Create admin account' }).click();

  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole('link', { name: admin.name })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Admin', exact: true })).toBeVisible();
});

test('sign out, then a wrong password is refused and the right one signs in', async ({ page }) => {
  await signIn(page, admin.email, admin.password);
  await expect(page.getByRole('link', { name: admin.name })).toBeVisible();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login/);
  await page.goto('/account');
  await expect(page).toHaveURL(/\/login\?next=%2Faccount/);

  await page.getByLabel('Email').fill(admin.email);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toContainText('Unknown email or wrong password');
  await expect(page.getByLabel('Email')).toHaveValue(admin.email);

  await page.getByLabel('Password').fill(admin.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // Back where they wanted to go.
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByRole('heading', { name: 'Your account' })).toBeVisible();
});

test('the admin creates a release captain, who can then sign in', async ({ page, browser }) => {
  await signIn(page, admin.email, admin.password);
  await page.getByRole('link', { name: 'Admin', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Users' })).toBeVisible();
  await hydrated(page);

  const form = page.locator('#create-user');
  await form.getByLabel('Email').fill(captain.email);
  await form.getByLabel('Name').fill(captain.name);
  await form.getByLabel('Initial password (at least 8 characters)').fill(captain.password);
  await form.getByLabel('Release captain').check();
  await form.getByRole('button', { name: 'Add user' }).click();

  await expect(page.getByRole('status')).toContainText(`Account created: ${captain.email}`);
  // The page shows the new state: the form is empty again, the password gone.
  await expect(form.getByLabel('Initial password (at least 8 characters)')).toHaveValue('');
  await expect(form.getByLabel('Email')).toHaveValue('');
  const row = page.locator(`tr[data-email="${captain.email}"]`);
  await expect(row).toBeVisible();
  await expect(row.getByLabel('Release captain')).toBeChecked();
  await expect(row.getByLabel('Admin')).not.toBeChecked();

  // The new person signs in in a separate browser context.
  const other = await browser.newContext();
  const theirs = await other.newPage();
  await signIn(theirs, captain.email, captain.password);
  await expect(theirs.getByRole('link', { name: captain.name })).toBeVisible();
  // Not an admin: no admin link, and the admin page says so.
  await expect(theirs.getByRole('link', { name: 'Admin', exact: true })).toHaveCount(0);
  await theirs.goto('/admin');
  await expect(theirs.getByRole('alert')).toContainText('needs the admin role');
  await other.close();
});

test('the language switches to German and is remembered', async ({ page }) => {
  await signIn(page, admin.email, admin.password);
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await page.getByRole('button', { name: 'Deutsch' }).click();
  await expect(page.locator('html')).toHaveAttribute('lang', 'de');
  await expect(page.getByRole('link', { name: 'Umgebungen' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Abmelden' })).toBeVisible();

  await page.goto('/account');
  await expect(page.getByRole('heading', { name: 'Ihr Konto' })).toBeVisible();

  await page.getByRole('button', { name: 'English' }).click();
  await expect(page.getByRole('heading', { name: 'Your account' })).toBeVisible();
});
