import { test, expect } from '@playwright/test';
import { signIn, check, token, apiPost, apiGet, ADMIN, AGENT } from './helpers.js';

// Actions of this test's own, through the API, as an agent: the overview must count them
// (and everything else the tenant did in this run) within the freshness bound.
test.beforeAll(async ({ request }) => {
  const agent = await token(request, 'agent', AGENT.name, AGENT.user);
  const mk = (body) => apiPost(request, agent, '/v1/contacts', body);
  const a = await mk({ name: 'Report Api One', source: 'api' });
  await mk({ name: 'Report Api Two', email: 'two@example.com', source: 'api' });
  await mk({ name: 'Report Telegram', source: 'incoming_message', channel: 'telegram' });
  const d = await mk({ name: 'Report To Delete' });
  const p = await mk({ name: 'Report Primary' });
  const m = await mk({ name: 'Report Merged' });
  await apiPost(request, agent, `/v1/contacts/${a.id}/channels`, { channel: 'whatsapp', externalId: 'wa-' + Date.now() });
  const del = await request.delete(`/v1/contacts/${d.id}`, { headers: { Authorization: `Bearer ${agent}` } });
  expect(del.status()).toBe(204);
  await apiPost(request, agent, '/v1/contacts/merge', { primaryId: p.id, mergedIds: [m.id] });
  await apiPost(request, agent, `/v1/contacts/${p.id}/archive`, {});
});

// What the audit log says happened in the tenant (the source of truth the overview must match).
async function expected(request) {
  const admin = await token(request, 'admin', 'Checker', 'u-checker');
  const count = {};
  let cursor = null;
  do {
    const r = await apiGet(request, admin, '/v1/audit-events?category=contact&limit=500' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''));
    for (const e of r.items) count[e.type] = (count[e.type] || 0) + 1;
    cursor = r.nextCursor;
  } while (cursor);
  return { added: count.CONTACT_ADDED || 0, connected: count.CONTACT_CONNECTED || 0, deleted: count.CONTACT_DELETED || 0, merged: count.CONTACT_MERGED || 0, archived: count.CONTACT_ARCHIVED || 0, unarchived: count.CONTACT_UNARCHIVED || 0 };
}

async function totalsOnScreen(page) {
  const out = {};
  for (const k of ['added', 'connected', 'deleted', 'merged', 'archived', 'unarchived']) out[k] = +(await page.locator(`[data-total=${k}] .total-n`).innerText()).replace(/,/g, '');
  return out;
}

async function logRows(page) {
  await expect(page.locator('.loading')).toHaveCount(0);
  if (await page.getByText('No events in this period.').isVisible()) return [];
  return page.locator('#log-table tbody tr').evaluateAll((trs) => trs.map((tr) => Object.fromEntries([...tr.cells].map((td) => [td.dataset.col, td.innerText.trim()]))));
}

test('overview: counts include the actions within the freshness bound; every number drills down to exactly its rows', async ({ page, request }) => {
  const want = await expected(request);
  expect(want.added).toBeGreaterThanOrEqual(6);
  await signIn(page, ADMIN);
  await expect(page.getByRole('heading', { name: 'Contact Overview' })).toBeVisible();
  await expect(page.getByLabel('Time zone')).toHaveValue(await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone));
  // The archive is written within seconds; refresh until the overview is up to date.
  await expect(async () => {
    await page.getByRole('button', { name: 'Refresh' }).click();
    await expect(page.locator('.loading')).toHaveCount(0);
    expect(await totalsOnScreen(page)).toEqual(want);
  }).toPass({ timeout: 60_000, intervals: [1000, 2000] });
  await expect(page.getByText(/Up to date as of/)).toBeVisible();
  await check(page, '13-overview', { docs: 'overview' });

  // presets change the period in the URL and the heading line
  await page.getByLabel('Period', { exact: true }).selectOption('today');
  await expect(page).toHaveURL(/preset=today/);
  await expect(async () => expect(await totalsOnScreen(page)).toEqual(want)).toPass({ timeout: 20_000 });
  await page.getByLabel('Period', { exact: true }).selectOption('custom');
  await expect(page.getByLabel('From')).toBeVisible();
  await check(page, '14-overview-custom-range');
  await page.getByLabel('Period', { exact: true }).selectOption('30d');

  // totals → logs, rows add up to the number clicked
  for (const k of ['added', 'connected', 'deleted', 'merged']) {
    await page.locator(`[data-total=${k}]`).click();
    await expect(page.getByRole('heading', { name: new RegExp(`Contact ${k} Log`, 'i') })).toBeVisible();
    expect((await logRows(page)).length, `${k} log rows`).toBe(want[k]);
    if (k === 'connected') await check(page, '15-log-connected');
    await page.getByRole('link', { name: 'Overview' }).click();
  }
  // archived → the activity log filtered to those events
  await page.locator('[data-total=archived]').click();
  await expect(page.getByRole('heading', { name: 'Activity Logs' })).toBeVisible();
  await expect(page.locator('.loading')).toHaveCount(0);
  await expect(page.locator('#audit-table tbody tr[data-type]')).toHaveCount(want.archived);
  await page.getByRole('link', { name: /Reports/ }).click();

  // a day of the daily chart's table
  await page.getByText('Daily counts as a table').click();
  const today = await page.evaluate(() => new Intl.DateTimeFormat('en-GB', { day: '2-digit', month: 'short', year: 'numeric' }).format(new Date()));
  await page.getByRole('link', { name: `${want.added} added on ${today}` }).click();
  expect((await logRows(page)).length).toBe(want.added);
});

test('overview breakdowns drill down by source, channel and user', async ({ page }) => {
  await signIn(page, ADMIN);
  await expect(page.locator('#by-source tbody tr').first()).toBeVisible({ timeout: 30_000 });
  await check(page, '16-overview-breakdowns');
  const cases = [
    ['#by-source', 'api', 'added', (r) => r.source === 'api'],
    ['#by-channel', 'whatsapp', 'connected', (r) => r.channel === 'whatsapp'],
    ['#by-channel', 'telegram', 'added', () => true],
    ['#by-user', 'Ari Agent', 'added', (r) => r.user === 'Ari Agent'],
  ];
  for (const [box, key, kind, ok] of cases) {
    const link = page.locator(box).getByRole('link', { name: new RegExp(`^\\d+ ${kind} by ${key}$`) });
    const n = +(await link.innerText());
    await link.click();
    await expect(page.getByRole('list', { name: 'Active filters' })).toBeVisible();
    const rows = await logRows(page);
    expect(rows.length, `${box} ${key} ${kind}`).toBe(n);
    expect(rows.every(ok)).toBeTruthy();
    await page.getByRole('link', { name: 'Overview' }).click();
  }
});

test('log paging without loss or repeats; CSV of the rows on screen equals the table', async ({ page }) => {
  await signIn(page, ADMIN, '/console/reports/contact/added');
  await page.getByLabel('Rows per page').selectOption('10');
  const all = [];
  let pageNo = 1;
  for (;;) {
    const rows = await logRows(page);
    all.push(...rows);
    if (pageNo === 1) {
      // CSV download of exactly what is on screen
      const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV (rows on screen)' }).click()]);
      const text = (await (await import('node:fs/promises')).readFile(await dl.path(), 'utf8')).replace(/^\ufeff/, '');
      const lines = text.trim().split('\r\n').map((l) => l.split(','));
      expect(lines[0]).toEqual(['Created At', 'Contact ID', 'Contact Name', 'Source', 'User']);
      expect(lines.slice(1).map((l) => [l[1], l[2], l[3], l[4]])).toEqual(rows.map((r) => [r.contactId, r.contactName, r.source, r.user]));
      await check(page, '17-log-added-paged');
    }
    const next = page.getByRole('button', { name: 'Next →' });
    if (await next.isDisabled()) break;
    await next.click();
    pageNo++;
    await expect(page.locator('.pager span')).toHaveText(new RegExp(`^Page ${pageNo} `));
  }
  const ids = all.map((r) => r.contactId + r.createdAt);
  expect(new Set(ids).size).toBe(ids.length);
  const total = +(await (async () => { await page.getByRole('link', { name: 'Overview' }).click(); return page.locator('[data-total=added] .total-n').innerText(); })());
  expect(all.length).toBe(total);
  // newest first
  await page.goto('about:blank');
});

test('export and email me; export schedules create, list, delete', async ({ page }) => {
  await signIn(page, ADMIN, '/console/reports/contact/added');
  await page.getByRole('button', { name: 'Export and email me' }).click();
  const dlg = page.getByRole('dialog', { name: 'Export and email me' });
  await dlg.getByLabel('Email the link to').fill('rina@example.com');
  await dlg.getByRole('button', { name: 'Start export' }).click();
  await expect(dlg.locator('[data-status]')).toHaveText('done', { timeout: 45_000 });
  await expect(dlg.getByRole('link', { name: 'Download the file' })).toBeVisible();
  await check(page, '18-export-done', { fullPage: false });
  await dlg.getByRole('button', { name: 'Close' }).click();

  await page.getByRole('link', { name: 'Export schedules' }).click();
  await expect(page.getByText('No export schedules yet.')).toBeVisible();
  await page.getByLabel('Name').fill('weekly-added');
  await page.getByLabel('Recipients').fill('not-an-email');
  await page.getByRole('button', { name: 'Save schedule' }).click();
  await expect(page.locator('.schedule-form [role=alert]')).toContainText(/recipients/i);
  await page.getByLabel('Recipients').fill('rina@example.com, ops@example.com');
  await page.getByRole('button', { name: 'Save schedule' }).click();
  await expect(page.getByText('Schedule “weekly-added” saved.')).toBeVisible();
  await expect(page.getByLabel('Time zone')).not.toHaveValue(''); // a zone the browser's list lacks (UTC) is still an option
  const row = page.locator('#schedules-table tbody tr', { hasText: 'weekly-added' });
  await expect(row).toContainText('rina@example.com, ops@example.com');
  await check(page, '19-schedules');
  // OCSF is the audit report's: another report is refused on the format field, then saved for audit.
  await page.getByLabel('Name').fill('siem');
  await page.getByLabel('Recipients').fill('soc@example.com');
  await page.getByLabel('Format', { exact: true }).selectOption('ocsf');
  await page.getByRole('button', { name: 'Save schedule' }).click();
  await expect(page.locator('#sc-format-error')).toContainText('exports the audit report only');
  await page.getByLabel('Report', { exact: true }).selectOption('audit');
  await page.getByRole('button', { name: 'Save schedule' }).click();
  await expect(page.getByText('Schedule “siem” saved.')).toBeVisible();
  await expect(page.locator('#schedules-table tbody tr', { hasText: 'siem' })).toContainText('ocsf');
  await check(page, '19b-schedules-ocsf');
  await page.locator('#schedules-table tbody tr', { hasText: 'siem' }).getByRole('button', { name: 'Delete schedule siem' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete schedule' }).click();
  await expect(page.getByText('Schedule “siem” deleted.')).toBeVisible();
  await row.getByRole('button', { name: 'Delete schedule weekly-added' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete schedule' }).click();
  await expect(page.getByText('Schedule “weekly-added” deleted.')).toBeVisible();
  await expect(page.locator('#schedules-table')).toHaveCount(0);
});
