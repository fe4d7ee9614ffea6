import { expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { mkdirSync } from 'node:fs';

export const TENANT = process.env.CONSOLE_TEST_TENANT;
export const SHOTS = new URL('../test-results/screenshots/', import.meta.url).pathname;
mkdirSync(SHOTS, { recursive: true });

export const ADMIN = { role: 'admin', name: 'Rina Admin', user: 'u-rina' };
export const AGENT = { role: 'agent', name: 'Ari Agent', user: 'u-ari' };

// Signs in through the form, as a person would; `path` is where to go (a sign-in redirect).
export async function signIn(page, who, path = '/console/', tenant = TENANT) {
  await page.goto(path);
  await expect(page.getByRole('heading', { name: 'Sign in to Contrail' })).toBeVisible();
  await page.getByLabel('Tenant').fill(tenant);
  await page.getByRole('radio', { name: new RegExp('^' + who.role, 'i') }).check();
  await page.getByLabel('Display name').fill(who.name);
  await page.getByLabel('User id (optional)').fill(who.user);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('.who-name')).toHaveText(who.name);
}

// No serious or critical accessibility violation, then a screenshot for the reviewer.
// CONSOLE_DOCS_SHOTS=1 also writes the README's pictures (docs/console/<docs>.png, the viewport).
export async function check(page, name, { fullPage = true, docs } = {}) {
  await expect(page.locator('[role=status] .spinner')).toHaveCount(0);
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`), `accessibility of ${name}`).toEqual([]);
  await page.screenshot({ path: SHOTS + name + '.png', fullPage });
  if (docs && process.env.CONSOLE_DOCS_SHOTS) {
    mkdirSync(DOCS, { recursive: true });
    await page.evaluate(() => { document.activeElement?.blur(); scrollTo(0, 0); });
    await page.screenshot({ path: DOCS + docs + '.png', clip: { x: 0, y: 0, width: 1280, height: 680 } });
  }
}
const DOCS = new URL('../../docs/console/', import.meta.url).pathname;

// A token for direct API calls (setup and cross-checks), from the local gateway.
export async function token(request, role, name = role, user, tenant = TENANT) {
  const r = await request.post('/local/dev-token', { data: { tenant, role, name, ...(user ? { user } : {}) } });
  expect(r.ok()).toBeTruthy();
  return (await r.json()).token;
}

export async function apiPost(request, tok, path, data) {
  const r = await request.post(path, { data, headers: { Authorization: `Bearer ${tok}` } });
  expect(r.status(), `${path}: ${await r.text()}`).toBeLessThan(300);
  return r.status() === 204 ? null : r.json();
}

export async function apiGet(request, tok, path) {
  const r = await request.get(path, { headers: { Authorization: `Bearer ${tok}` } });
  expect(r.status(), `${path}: ${await r.text()}`).toBe(200);
  return r.json();
}
