import { test, expect } from '@playwright/test';
import { signIn, check, ADMIN, AGENT } from './helpers.js';

test('sign-in page: local development user form', async ({ page }) => {
  await page.goto('/console/');
  await expect(page.getByRole('heading', { name: 'Sign in to Contrail' })).toBeVisible();
  await check(page, '01-sign-in');
  await page.getByLabel('Tenant').fill('');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toBeVisible();
  await check(page, '01-sign-in-error');
});

test('agent: sees Contacts only; an admin URL shows the forbidden page', async ({ page }) => {
  await signIn(page, AGENT);
  await expect(page).toHaveURL(/\/console\/contacts$/);
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav.getByRole('link', { name: 'Contacts' })).toBeVisible();
  await expect(nav.getByRole('link', { name: /Reports/ })).toHaveCount(0);
  await expect(nav.getByRole('link', { name: /Activity Logs/ })).toHaveCount(0);
  await expect(page.getByText('No contacts yet.')).toBeVisible();
  await check(page, '02-contacts-empty-agent');

  // By URL (a reload signs out: the token is in memory only), then sign in again.
  await signIn(page, AGENT, '/console/reports/contact');
  await expect(page.getByRole('heading', { name: 'Forbidden' })).toBeVisible();
  await expect(page.getByText('You do not have access')).toBeVisible();
  await check(page, '03-forbidden-agent');
  await signIn(page, AGENT, '/console/manager/activity-logs');
  await expect(page.getByRole('heading', { name: 'Forbidden' })).toBeVisible();
  // The API says the same: 403 for the agent's token.
  const tok = await page.evaluate(async () => (await fetch('/local/dev-token', { method: 'POST', body: JSON.stringify({ tenant: 'x', role: 'agent', name: 'A' }) })).json());
  const r = await page.request.get('/v1/reports/contacts/overview', { headers: { Authorization: 'Bearer ' + tok.token } });
  expect(r.status()).toBe(403);
});

test('admin: lands on the overview; sign out returns to the sign-in page', async ({ page }) => {
  await signIn(page, ADMIN);
  await expect(page).toHaveURL(/\/console\/reports\/contact/);
  await expect(page.getByRole('heading', { name: 'Contact Overview' })).toBeVisible();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in to Contrail' })).toBeVisible();
});
