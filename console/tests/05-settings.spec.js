import { test, expect } from '@playwright/test';
import { signIn, check, ADMIN, AGENT } from './helpers.js';

// An admin reads and changes the co-browsing setting by keyboard; the change is saved with who
// made it and shows in the activity log; an agent has no settings screen.
test('settings: an admin changes co-browsing input text and back', async ({ page }) => {
  await signIn(page, ADMIN, '/console/manager/settings');
  await expect(page.getByRole('heading', { name: 'Settings', level: 1 })).toBeVisible();
  const masked = page.getByRole('radio', { name: /Masked \(recommended\)/ });
  const clear = page.getByRole('radio', { name: /Clear text/ });
  await expect(masked).toBeChecked();
  await expect(page.getByRole('button', { name: 'Save settings' })).toBeDisabled();
  await expect(page.getByText('Never changed: the defaults apply.', { exact: false })).toBeVisible();
  await check(page, '24-settings');

  await masked.focus();
  await page.keyboard.press('ArrowDown'); // radios move by arrow keys
  await expect(clear).toBeChecked();
  await page.keyboard.press('Tab');
  await expect(page.getByRole('button', { name: 'Save settings' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByText('Settings saved. The change is in the activity log.')).toBeVisible();
  await expect(page.getByText(/Last changed by Rina Admin/)).toBeVisible();
  await expect(clear).toBeChecked();
  await check(page, '25-settings-saved');

  await page.getByRole('link', { name: 'Manager › Activity Logs' }).click();
  const row = page.locator('[data-type=SETTINGS_UPDATED]').first();
  await expect(row).toContainText('cobrowse.inputText from masked to clear');

  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('radio', { name: /Masked \(recommended\)/ }).check();
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByText('Settings saved. The change is in the activity log.')).toBeVisible();
  await expect(page.getByRole('radio', { name: /Masked \(recommended\)/ })).toBeChecked();
});

test('settings: an agent sees no settings', async ({ page }) => {
  await signIn(page, AGENT, '/console/manager/settings');
  await expect(page.getByRole('link', { name: 'Settings' })).toHaveCount(0);
  await expect(page.getByRole('heading', { level: 1 })).toContainText(/not allowed|access|Forbidden|admin/i);
});
