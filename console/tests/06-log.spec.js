import { test, expect } from '@playwright/test';
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { signIn, check, token, apiPost, apiGet, SHOTS, TENANT, ADMIN, AGENT } from './helpers.js';

// A tenant of its own: the other specs give the run's tenant events, and this one starts empty.
const LOG_TENANT = TENANT + '-log';
const PATH = '/console/manager/log-integrity';
const ROOT = new URL('../../', import.meta.url).pathname;
// Where the downloads go that contrail-verify reads.
const dir = join(SHOTS, '..', 'verify');
mkdirSync(dir, { recursive: true });

// contrail-verify as a tenant installs it, built from this checkout.
function verifier() {
  const bin = join(ROOT, '.local', 'contrail-verify');
  execFileSync('go', ['build', '-o', bin, './cmd/contrail-verify'], { cwd: ROOT, stdio: 'inherit' });
  return bin;
}
const nextDay = (d) => new Date(Date.parse(d + 'T00:00:00Z') + 86400e3).toISOString().slice(0, 10);
// fmtDate's format of a date.
const day = (page, d) => page.evaluate((x) => new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', day: '2-digit', month: 'short', year: 'numeric' }).format(new Date(x + 'T00:00:00Z')), d);
const INSTALL = 'go install github.com/contrail/contrail/cmd/contrail-verify@latest';
const SUBTITLE = 'Every audit event of your tenant is a leaf of an append-only log that Contrail signs at least hourly. With the public key and a verifiable export, you or your auditor can check offline that no event was changed, removed or reordered.';

// The checkpoint the screen was drawn from: the response to its own request.
const checkpointResponse = (page) => page.waitForResponse((r) => new URL(r.url()).pathname === '/v1/log/checkpoint' && r.request().method() === 'GET');

// The "Latest checkpoint" card as [term, description] pairs, as seen.
const details = (page) => page.locator('#checkpoint').evaluate((dl) => [...dl.querySelectorAll('dt')].map((dt) => [dt.innerText, dt.nextElementSibling.innerText]));

// fmtTime's format (en-GB, the browser's time zone), computed in the browser.
const shown = (page, iso) => page.evaluate((t) => new Intl.DateTimeFormat('en-GB', { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(new Date(t)), iso);

async function firstCheckpoint(request, tok) {
  await expect.poll(async () => (await request.get('/v1/log/checkpoint', { headers: { Authorization: `Bearer ${tok}` } })).status(), {
    message: 'the local sequencer signs a checkpoint within 30 s of the first event', timeout: 45_000, intervals: [1000],
  }).toBe(200);
}

test('log integrity: empty log, then the latest checkpoint, its key, the saved file and how to verify', async ({ page, request, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await signIn(page, ADMIN, PATH, LOG_TENANT);
  await expect(page.getByRole('heading', { name: 'Log integrity', level: 1 })).toBeFocused();
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Log integrity' })).toHaveAttribute('aria-current', 'page');
  await expect(page.locator('.subtitle')).toHaveText(SUBTITLE);
  await expect(page.locator('.empty')).toHaveText("No checkpoint yet: this tenant's log is empty." +
    "Contrail signs the first checkpoint within minutes of the tenant's first audit event (adding a contact is one). Then its key, a verifiable export and the steps to verify it appear here.");
  await check(page, '40-log-empty');

  // The first event; the sequencer puts it in a signed checkpoint.
  const tok = await token(request, 'admin', 'Rina Admin', 'u-rina', LOG_TENANT);
  await apiPost(request, tok, '/v1/contacts', { name: 'Logged Contact' });
  await firstCheckpoint(request, tok);

  // Three minutes on from now: a checkpoint signed in the last minute reads "3 minutes ago".
  await page.clock.setFixedTime(Date.now() + 3 * 60e3);
  const [res] = await Promise.all([checkpointResponse(page), page.getByRole('button', { name: 'Check again' }).click()]);
  expect(res.status()).toBe(200);
  const cp = await res.json();
  expect(cp.origin).toBe('contrail/' + LOG_TENANT);
  expect(cp.verifierKeys).toHaveLength(1);
  const [key] = cp.verifierKeys;
  expect(await details(page)).toEqual([
    ['Log', cp.origin],
    ['Tree size', `${cp.size} ${cp.size === 1 ? 'event' : 'events'}`],
    ['Signed', `${await shown(page, cp.time)} (3 minutes ago)`],
    ['Root hash', cp.rootHash],
  ]);
  await expect(page.locator('.keys li code')).toHaveText([key]);
  await expect(page.locator('#cmd-install')).toHaveText(INSTALL);
  await expect(page.locator('.steps > li > p')).toHaveText([
    'Install contrail-verify (Go 1.26; it needs no account, credentials or network):',
    `In the folder that holds the downloaded export and the saved checkpoint (${LOG_TENANT}.checkpoint), run this, with the export's file name in place of bundle.json.gz:`,
    `It prints one line starting with OK and exits with status 0 when every event is there, in order and unchanged; otherwise a line starting with FAIL, then which event or range is wrong and why. It replaces ${LOG_TENANT}.checkpoint only when everything verified: keep that file for the next run (without a saved checkpoint the first time, leave out -saved).`,
  ]);
  await expect(page.locator('#cmd-verify')).toHaveText(`contrail-verify -key ${key} -tenant ${LOG_TENANT} -saved ${LOG_TENANT}.checkpoint -save ${LOG_TENANT}.checkpoint bundle.json.gz`);
  await expect(page.locator('.notice.warn')).toHaveCount(0);
  await check(page, '41-log-checkpoint', { docs: 'log' });

  // "Save this checkpoint": the signed note byte for byte, which contrail-verify -saved reads.
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Save this checkpoint' }).click()]);
  expect(dl.suggestedFilename()).toBe(`${LOG_TENANT}.checkpoint`);
  const saved = join(dir, `first-${LOG_TENANT}.checkpoint`);
  await dl.saveAs(saved);
  expect(readFileSync(saved, 'utf8')).toBe(cp.checkpoint);

  // Copy buttons put the exact text on the clipboard.
  await page.getByRole('button', { name: 'Copy key' }).click();
  await expect(page.locator('.notice.ok')).toHaveText('Key copied.');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);
  await page.getByRole('button', { name: 'Copy install command' }).click();
  await expect(page.locator('.notice.ok')).toHaveText('Install command copied.');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(INSTALL);

  // Three hours on, the checkpoint is older than contrail-verify's default -max-age: the screen says so.
  await page.clock.setFixedTime(Date.parse(cp.time) + 3 * 3600e3);
  const [res2] = await Promise.all([checkpointResponse(page), page.getByRole('button', { name: 'Refresh' }).click()]);
  const cp2 = await res2.json();
  expect((await details(page))[2]).toEqual(['Signed', `${await shown(page, cp2.time)} (${Math.floor((Date.parse(cp.time) + 3 * 3600e3 - Date.parse(cp2.time)) / 3600e3)} hours ago)`]);
  await expect(page.locator('.notice.warn')).toHaveText("This checkpoint is more than 2 hours old: Contrail signs one at least hourly, so contrail-verify's freshness check fails on an export made now. Try again in a few minutes; if it stays old, contact support.");
});

test('log integrity: a verifiable export requested by keyboard verifies with the command shown', async ({ page, request }) => {
  const tok = await token(request, 'admin', 'Rina Admin', 'u-rina', LOG_TENANT);
  await apiPost(request, tok, '/v1/contacts', { name: 'Exported Contact' });
  await firstCheckpoint(request, tok);
  const [res] = await Promise.all([checkpointResponse(page), signIn(page, ADMIN, PATH, LOG_TENANT)]);
  const cp = await res.json();
  await expect(page.getByRole('heading', { name: 'Log integrity', level: 1 })).toBeFocused();
  await expect(page.locator('#checkpoint')).toBeVisible();

  // Keyboard only, from the heading: Refresh, Save this checkpoint, Copy key, From, To, Request
  // (a date field takes a Tab per part: month, day, year).
  const order = [];
  for (let i = 0; i < 16 && order.at(-1) !== 'Request verifiable export'; i++) {
    await page.keyboard.press('Tab');
    const now = await page.evaluate(() => { const a = document.activeElement; return a.id || a.textContent; });
    if (now !== order.at(-1)) order.push(now);
    if (now === 'Save this checkpoint') {
      const [dl] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
      await dl.saveAs(join(dir, `${LOG_TENANT}.checkpoint`));
    }
  }
  expect(order).toEqual(['Refresh', 'Save this checkpoint', 'Copy key', 'vx-from', 'vx-to', 'Request verifiable export']);
  const { from, to, tz } = await page.evaluate(() => ({ from: document.getElementById('vx-from').value, to: document.getElementById('vx-to').value, tz: Intl.DateTimeFormat().resolvedOptions().timeZone }));
  const [req] = await Promise.all([page.waitForRequest((r) => new URL(r.url()).pathname === '/v1/exports' && r.method() === 'POST'), page.keyboard.press('Enter')]);
  expect(req.postDataJSON()).toEqual({ report: 'audit', format: 'bundle', from, to: nextDay(to), tz });
  const id = (await (await req.response()).json()).id;

  // The export is listed, watched until done, and its file is the bundle.
  const row = page.locator(`#exports-table tr[data-export="${id}"]`);
  await expect(row.locator('[data-status]')).toHaveText('done', { timeout: 60_000 });
  const job = await apiGet(request, tok, '/v1/exports/' + id);
  expect(job).toMatchObject({ id, status: 'done', report: 'audit', format: 'bundle' });
  expect(await row.locator('td').allTextContents()).toEqual([id, `${await day(page, from)} – ${await day(page, to)} (${tz})`, 'done', String(job.rows), `Download bundle ${id}`]);
  await check(page, '42-log-export-done');
  const [dl] = await Promise.all([page.waitForEvent('download'), row.getByRole('link', { name: `Download bundle ${id}` }).click()]);
  const file = `contrail-log-${LOG_TENANT}-${from}-${nextDay(to)}.json.gz`;
  expect(dl.suggestedFilename()).toBe(file);
  await dl.saveAs(join(dir, file));

  // The command on the screen, run as shown in a folder holding the two files: it verifies.
  await expect(page.locator('.steps > li').nth(1).locator('p')).toHaveText(`In the folder that holds the downloaded export and the saved checkpoint (${LOG_TENANT}.checkpoint), run:`);
  const cmd = (await page.locator('#cmd-verify').innerText()).split(' ');
  expect(cmd).toEqual(['contrail-verify', '-key', cp.verifierKeys[0], '-tenant', LOG_TENANT, '-saved', `${LOG_TENANT}.checkpoint`, '-save', `${LOG_TENANT}.checkpoint`, file]);
  const run = spawnSync(verifier(), cmd.slice(1), { cwd: dir, encoding: 'utf8' });
  expect(run.stderr).toBe('');
  expect(run.status, run.stdout).toBe(0);
  const [verdict, savedLine] = run.stdout.trimEnd().split('\n');
  expect(verdict).toMatch(new RegExp(`^OK contrail/${LOG_TENANT}: ${job.rows} events \\[\\d+,\\d+\\) verified against checkpoint \\d+ signed \\S+, consistent with saved checkpoint ${cp.size} signed ${cp.time}$`));
  expect(savedLine).toMatch(new RegExp(`^saved checkpoint \\d+ signed \\S+ to ${LOG_TENANT}\\.checkpoint: pass it with -saved next time$`));

  // A period the API refuses: the form shows its sentence and field messages, and nothing is listed.
  await page.locator('#vx-from').fill(to);
  await page.locator('#vx-to').fill(from);
  const [bad] = await Promise.all([page.waitForResponse((r) => new URL(r.url()).pathname === '/v1/exports' && r.request().method() === 'POST'), page.getByRole('button', { name: 'Request verifiable export' }).click()]);
  expect(bad.status()).toBe(400);
  const { error } = await bad.json();
  const alert = page.locator('section[aria-labelledby=export-h] [role=alert]');
  await expect(alert.locator('p')).toHaveText(['Please check', error.message]);
  await expect(alert.locator('li')).toHaveText(Object.entries(error.fields).map(([k, v]) => `${k}: ${v}`));
  await expect(page.locator('#exports-table tbody tr')).toHaveCount(1);
  await check(page, '43-log-export-refused');
});

test('log integrity: loading, the API down and a 500 each say so; Try again recovers', async ({ page, request }) => {
  const tok = await token(request, 'admin', 'Rina Admin', 'u-rina', LOG_TENANT);
  await apiPost(request, tok, '/v1/contacts', { name: 'Another Contact' });
  await firstCheckpoint(request, tok);
  await signIn(page, ADMIN, '/console/contacts', LOG_TENANT);

  // Loading: the answer is held back until the screenshot is taken.
  let release;
  const held = new Promise((r) => { release = r; });
  await page.route('**/v1/log/checkpoint', async (route) => { await held; await route.continue(); });
  await page.getByRole('link', { name: 'Log integrity' }).click();
  await expect(page.locator('.loading')).toHaveText('Loading the latest checkpoint…');
  await page.screenshot({ path: SHOTS + '44-log-loading.png' });
  release();
  await expect(page.locator('#checkpoint')).toBeVisible();
  await page.unroute('**/v1/log/checkpoint');

  // The API does not answer.
  await page.route('**/v1/log/checkpoint', (route) => route.abort('connectionrefused'));
  await page.getByRole('button', { name: 'Refresh' }).click();
  const alert = page.getByRole('alert');
  await expect(alert.locator('p')).toHaveText(['Cannot reach Contrail', 'The Contrail API did not answer. Check your connection (locally: is `make run` still running?) and try again.']);
  await check(page, '45-log-api-down');
  await page.unroute('**/v1/log/checkpoint');

  // A 500, with the body the API sends for one (shared/httpapi/errors.go).
  await page.route('**/v1/log/checkpoint', (route) => route.fulfill({ status: 500, contentType: 'application/json', body: '{"error":{"code":"internal_error","message":"Something went wrong on our side; try again later."}}' }));
  await page.getByRole('button', { name: 'Try again' }).click();
  await expect(alert.locator('p')).toHaveText(['Contrail could not do this', 'Something went wrong on our side; try again later.']);
  await check(page, '46-log-error');
  await page.unroute('**/v1/log/checkpoint');

  await page.getByRole('button', { name: 'Try again' }).focus();
  await page.keyboard.press('Enter');
  await expect(page.locator('#checkpoint')).toBeVisible();
  await expect(page.getByRole('alert')).toHaveCount(0);
});

test('log integrity: an agent has no such screen, and the API refuses the agent', async ({ page, request }) => {
  await signIn(page, AGENT, PATH, LOG_TENANT);
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Log integrity' })).toHaveCount(0);
  await expect(page.getByRole('heading', { name: 'Forbidden', level: 1 })).toBeVisible();
  await expect(page.locator('.forbidden .error-title')).toHaveText('You do not have access to this admin screen.');
  const tok = await token(request, 'agent', 'Ari Agent', 'u-ari', LOG_TENANT);
  const r = await request.get('/v1/log/checkpoint', { headers: { Authorization: `Bearer ${tok}` } });
  expect(r.status()).toBe(403);
});
