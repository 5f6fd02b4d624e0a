import { expect, Page } from '@playwright/test';

export type Person = { email: string; password: string };

/** Signs in through the login form and waits to leave it. */
export async function signIn(page: Page, who: Person) {
  await page.goto('/login');
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).not.toHaveURL(/\/login/);
}

/** Waits until the page is interactive (the browser bundle marks the document). */
export async function hydrated(page: Page) {
  await expect(page.locator('html[data-hydrated="true"]')).toHaveCount(1, { timeout: 30_000 });
}
