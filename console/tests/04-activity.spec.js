import { test, expect } from '@playwright/test';
import { signIn, check, token, apiPost, ADMIN } from './helpers.js';

test('activity log: filter by type and actor, event detail on demand', async ({ page, request }) => {
  const svc = await token(request, 'service', 'Chat service');
  await apiPost(request, svc, '/v1/audit-events', { events: [
    { type: 'LOGGED_IN', actor: { type: 'user', id: 'u-ari', name: 'Ari Agent' }, data: {} },
    { type: 'SETTINGS_CHANGE', actor: { type: 'user', id: 'u-rina', name: 'Rina Admin' }, data: { configuration: { mfa: 'required' } } },
  ] });
  await signIn(page, ADMIN, '/console/manager/activity-logs');
  await expect(page.getByRole('heading', { name: 'Activity Logs' })).toBeVisible();
  await expect(page.locator('#audit-table tbody tr').first()).toBeVisible();
  await check(page, '20-activity-log');

  await page.getByLabel('Category').selectOption('platform');
  await page.getByLabel('Type').selectOption('SETTINGS_CHANGE');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/type=SETTINGS_CHANGE/);
  const rows = page.locator('#audit-table tbody tr[data-type]');
  await expect(rows).toHaveCount(1);
  await rows.first().getByRole('button', { name: /Details/ }).click();
  await expect(page.locator('.detail-row')).toContainText('"mfa": "required"');
  await check(page, '21-activity-detail', { docs: 'activity' });

  await page.getByRole('link', { name: 'Clear filters' }).click();
  await page.getByLabel('Actor id').fill('u-ari');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page.locator('.loading')).toHaveCount(0);
  const actors = await page.locator('#audit-table tbody tr[data-type] td:nth-child(3)').allInnerTexts();
  expect(actors.length).toBeGreaterThan(0);
  expect(actors.every((a) => a === 'Ari Agent')).toBeTruthy();

  // a time range in the past holds nothing: the empty state says what to do
  await page.getByLabel('From (your time)').fill('2020-01-01T00:00');
  await page.getByLabel('To (your time)').fill('2020-01-02T00:00');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page.getByText('No events match these filters.')).toBeVisible();
  await check(page, '22-activity-empty');
});

test('co-browsing session: events in order, agent and customer told apart, input masked as stored', async ({ page, request }) => {
  const svc = await token(request, 'service', 'Cobrowse service');
  const id = 'sess-' + Date.now();
  const t0 = Date.now() - 60_000;
  const at = (s) => new Date(t0 + s * 1000).toISOString();
  await apiPost(request, svc, `/v1/cobrowse/sessions/${id}/events`, { events: [
    { type: 'PAGECHANGE', occurredAt: at(0), isAgent: false, data: { page: '/checkout' } },
    { type: 'CLICK', occurredAt: at(2), isAgent: true, data: { element: '#help' } },
    { type: 'INPUT', occurredAt: at(4), isAgent: false, data: { element: '#card', text: '**** **** **** 4242' } },
    { type: 'FORM', occurredAt: at(6), isAgent: false, data: { form: 'payment' } },
  ] });
  await signIn(page, ADMIN, '/console/manager/activity-logs');
  await page.getByLabel('Session id').fill(id);
  await page.getByRole('button', { name: 'Open session' }).click();
  await expect(page.getByRole('heading', { name: `Co-browsing session ${id}` })).toBeVisible();
  const items = page.getByRole('list', { name: 'Session events, oldest first' }).locator('li');
  await expect(items).toHaveCount(4);
  expect(await items.evaluateAll((ls) => ls.map((l) => l.dataset.type))).toEqual(['PAGECHANGE', 'CLICK', 'INPUT', 'FORM']);
  expect(await items.locator('.who-tag').allInnerTexts()).toEqual(['CUSTOMER', 'AGENT', 'CUSTOMER', 'CUSTOMER'].map((s) => expect.stringMatching(new RegExp(s, 'i'))));
  // The tenant saved no settings: co-browsing input is stored masked (docs/api.md, Tenant settings).
  await expect(items.nth(2).locator('.input-text')).toHaveText('[masked]');
  await check(page, '23-cobrowse-session', { docs: 'session' });
});

test('keyboard only: sign in, add a contact, comment on it, open its history', async ({ page }) => {
  await page.goto('/console/');
  await expect(page.getByRole('heading', { name: 'Sign in to Contrail' })).toBeFocused();
  await page.keyboard.press('Tab'); // tenant
  await expect(page.getByLabel('Tenant')).toBeFocused();
  await page.keyboard.press('Control+A');
  await page.keyboard.type(process.env.CONSOLE_TEST_TENANT);
  await page.keyboard.press('Tab'); // role group: admin radio
  await page.keyboard.press('ArrowDown'); // agent
  await page.keyboard.press('Tab'); // name
  await expect(page.getByLabel('Display name')).toBeFocused();
  await page.keyboard.press('Control+A');
  await page.keyboard.type('Kim Keyboard');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'Contacts', level: 1 })).toBeFocused();
  // to "Add contact"
  for (let i = 0; i < 12 && !(await page.getByRole('button', { name: 'Add contact' }).evaluate((b) => b === document.activeElement)); i++) await page.keyboard.press('Tab');
  await expect(page.getByRole('button', { name: 'Add contact' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByLabel('Name (required)')).toBeFocused();
  await page.keyboard.type('Keyboard Contact');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'Keyboard Contact', level: 1 })).toBeFocused();
  for (let i = 0; i < 30 && !(await page.getByLabel('Add comment').evaluate((b) => b === document.activeElement)); i++) await page.keyboard.press('Tab');
  await expect(page.getByLabel('Add comment')).toBeFocused();
  await page.keyboard.type('Typed without a mouse');
  await page.keyboard.press('Tab');
  await expect(page.getByRole('button', { name: 'Save comment' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('list', { name: 'History entries' }).locator('li[data-type=COMMENT_ADDED]')).toContainText('Typed without a mouse');
  // a dialog by keyboard: opens with Enter, closes with Escape, focus back on its button
  await page.getByRole('button', { name: 'Invite contact' }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByLabel('Email address (required)')).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(page.getByRole('button', { name: 'Invite contact' })).toBeFocused();
});
