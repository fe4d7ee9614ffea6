import { test, expect } from '@playwright/test';
import { gunzipSync } from 'node:zlib';
import { signIn, check, token, apiPost, ADMIN, TENANT } from './helpers.js';

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
  await expect(rows.first().locator('.summary')).toHaveText('configuration {"mfa":"required"}');
  await rows.first().getByRole('button', { name: /Details/ }).click();
  await expect(page.locator('.detail-row')).toContainText('"mfa": "required"');
  await check(page, '21-activity-detail', { docs: 'activity' });

  // The detail's link opens the log at that event: its row marked and open, whoever follows it.
  const linkTo = page.locator('.detail-row').getByRole('link', { name: /Link to this event/ });
  const url = await linkTo.getAttribute('href');
  expect(url).toMatch(/[?&]event=[0-9A-Z]{26}(&|$)/);
  await signIn(page, ADMIN, url); // whoever follows the link signs in first and lands on the event
  await expect(page).toHaveURL(/[?&]event=/);
  const linked = page.locator('#audit-table tbody tr.linked');
  await expect(linked).toHaveCount(1);
  await expect(linked).toHaveAttribute('data-type', 'SETTINGS_CHANGE');
  await expect(page.locator('.detail-row')).toContainText('"mfa": "required"');
  await check(page, '21b-activity-linked-event');

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

test('activity log: export the period as OCSF; verify an event in the signed log, and a changed leaf or checkpoint fails', async ({ page, request }) => {
  // A tenant of its own, so the file's events are known; the export reads the archive, and the
  // log's checkpoint covering both events says they are archived.
  const tenant = TENANT + '-ocsf';
  const svc = await token(request, 'service', 'Chat service', undefined, tenant);
  const admin = await token(request, 'admin', 'Rina Admin', 'u-rina', tenant);
  await apiPost(request, svc, '/v1/audit-events', { events: [
    { type: 'LOGGED_IN', actor: { type: 'user', id: 'u-ari', name: 'Ari Agent' }, data: {} },
    { type: 'ROLE_CHANGE', actor: { type: 'user', id: 'u-rina', name: 'Rina Admin' }, data: { roleName: 'supervisor', tenantUser: 'u-ari' } },
  ] });
  await expect.poll(async () => {
    const r = await request.get('/v1/log/checkpoint', { headers: { Authorization: `Bearer ${admin}` } });
    return r.status() === 200 ? (await r.json()).size : 0;
  }, { message: 'both events archived and in the log', timeout: 45_000, intervals: [1000] }).toBeGreaterThanOrEqual(2);

  await signIn(page, ADMIN, '/console/manager/activity-logs', tenant);
  await page.getByRole('button', { name: 'Export this period' }).click();
  const dlg = page.getByRole('dialog', { name: 'Export and email me' });
  await expect(dlg).toContainText('Exports every event of the last 30 days');
  await dlg.getByLabel('Format').selectOption('ocsf');
  await dlg.getByRole('button', { name: 'Start export' }).click();
  await expect(dlg.locator('[data-status]')).toHaveText('done', { timeout: 45_000 });
  await check(page, '22b-activity-export-ocsf', { fullPage: false });
  const rows = Number((await dlg.locator('[role=status] p').first().innerText()).match(/(\d+) rows/)[1]);
  const file = await request.get(await dlg.getByRole('link', { name: 'Download the file' }).getAttribute('href'));
  expect(file.headers()['content-type']).toBe('application/gzip');
  const lines = gunzipSync(await file.body()).toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
  expect(lines.length).toBe(rows);
  const byType = Object.fromEntries(lines.map((e) => [e.unmapped.type, e]));
  expect(lines.every((e) => e.metadata.tenant_uid === tenant && e.metadata.version === '1.1.0')).toBeTruthy();
  expect([byType.LOGGED_IN.class_uid, byType.LOGGED_IN.activity_name, byType.LOGGED_IN.user]).toEqual([3002, 'Logon', { uid: 'u-ari', name: 'Ari Agent', type: 'User', type_id: 1 }]);
  expect([byType.ROLE_CHANGE.type_uid, byType.ROLE_CHANGE.user, byType.ROLE_CHANGE.privileges]).toEqual([300501, { name: 'u-ari' }, ['supervisor']]);
  await dlg.getByRole('button', { name: 'Close' }).click();

  // The login verified in the browser against the signed log, by keyboard.
  const login = page.locator('#audit-table tbody tr[data-type=LOGGED_IN]');
  await login.getByRole('button', { name: /Details/ }).focus();
  await page.keyboard.press('Enter');
  const detail = page.locator('.detail-row');
  await detail.getByRole('button', { name: 'Verify in the signed log' }).focus();
  await page.keyboard.press('Enter');
  await expect(detail.locator('[data-verified]')).toHaveAttribute('data-verified', 'true', { timeout: 15_000 });
  await expect(detail.locator('[data-verified]')).toContainText(/Verified in this browser: leaf \d+ of the log of \d+ events/);
  await check(page, '22c-activity-verified', { fullPage: false });

  // As an attacker would: a leaf changed on the way, then a checkpoint with another signature.
  await page.route('**/v1/log/proof/inclusion**', async (route) => {
    const r = await route.fetch();
    const j = await r.json();
    await route.fulfill({ response: r, json: { ...j, leaf: j.leaf.replace('"LOGGED_IN"', '"LOGGED_OUT"') } });
  });
  await detail.getByRole('button', { name: 'Verify in the signed log' }).click();
  await expect(detail.locator('[data-verified]')).toHaveAttribute('data-verified', 'false');
  await expect(detail.locator('[data-verified]')).toContainText(/Does not verify: the inclusion proof of leaf \d+ does not lead to the checkpoint's root\./);
  await check(page, '22d-activity-not-verified', { fullPage: false });
  await page.unroute('**/v1/log/proof/inclusion**');
  await page.route('**/v1/log/checkpoint', async (route) => {
    const r = await route.fetch();
    const j = await r.json();
    await route.fulfill({ response: r, json: { ...j, checkpoint: j.checkpoint.replace(/\n\d+\n/, (m) => '\n' + (Number(m.trim()) + 1) + '\n') } });
  });
  await detail.getByRole('button', { name: 'Verify in the signed log' }).click();
  await expect(detail.locator('[data-verified]')).toContainText(/Does not verify: the checkpoint's signature by contrail\+[0-9a-f]{8}\+\S+ does not verify\./);
  await page.unroute('**/v1/log/checkpoint');

  // An event the sequencer has not reached yet (the proof route's 404) is said to be pending.
  await page.route('**/v1/log/proof/inclusion**', (route) => route.fulfill({ status: 404, json: { error: { code: 'not_found', message: 'No event with this id is in your log.' } } }));
  await detail.getByRole('button', { name: 'Verify in the signed log' }).click();
  await expect(detail.locator('[data-verified]')).toHaveAttribute('data-verified', 'pending');
  await expect(detail.locator('[data-verified]')).toHaveText('Not in the signed log yet: an event is sequenced within a minute or so of being archived. Try again shortly.');
  await check(page, '22e-activity-verify-pending', { fullPage: false });
});
