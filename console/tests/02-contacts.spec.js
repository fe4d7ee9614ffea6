import { test, expect } from '@playwright/test';
import { signIn, check, AGENT, ADMIN } from './helpers.js';

// Each action from the contact's page shows in its History, newest first, with who and when.
test('contact page: create, then every action shows in History', async ({ page }) => {
  await signIn(page, AGENT);
  await page.getByRole('button', { name: 'Add contact' }).click();
  const dlg = page.getByRole('dialog', { name: 'Add contact' });
  await check(page, '04-contact-create-dialog', { fullPage: false });
  await dlg.getByLabel('Email').fill('not-an-email');
  await dlg.getByRole('button', { name: 'Add contact' }).click();
  await expect(dlg.getByRole('alert')).toContainText(/name/i); // the API's field errors, in words
  await dlg.getByLabel('Name (required)').fill('Ada Lovelace');
  await dlg.getByLabel('Email').fill('ada@example.com');
  await dlg.getByRole('button', { name: 'Add contact' }).click();
  await expect(page.getByRole('heading', { name: 'Ada Lovelace', level: 1 })).toBeVisible();
  await expect(page.getByText('Contact “Ada Lovelace” added.')).toBeVisible();
  const history = page.getByRole('list', { name: 'History entries' });
  await expect(history.locator('li[data-type=CONTACT_ADDED]')).toContainText('by Ari Agent');

  // archive / unarchive
  await page.getByRole('button', { name: 'Archive contact' }).click();
  await expect(page.getByText('archived', { exact: true })).toBeVisible();
  await page.getByRole('button', { name: 'Unarchive contact' }).click();
  await expect(page.getByText('Contact unarchived.')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Archive contact' })).toBeVisible();
  await expect(page.locator('.loading')).toHaveCount(0);
  // invite (email field)
  await page.getByRole('button', { name: 'Invite contact' }).click();
  await page.getByRole('dialog', { name: 'Invite contact' }).getByLabel(/Email address/).fill('ada.invite@example.com');
  await page.getByRole('button', { name: 'Send invitation' }).click();
  await expect(page.getByText('Invitation to ada.invite@example.com queued.')).toBeVisible();
  // message
  await page.getByLabel('Message').fill('Hello Ada, your order shipped.');
  await page.getByRole('button', { name: 'Send message' }).click();
  await expect(page.getByText('Message queued for sending.')).toBeVisible();
  // share via email
  await page.getByRole('button', { name: 'Share via email' }).click();
  const share = page.getByRole('dialog', { name: 'Share via email' });
  await share.getByLabel('Send to').fill('team@example.com');
  await share.getByLabel('Note (optional)').fill('VIP customer');
  await share.getByRole('button', { name: 'Share' }).click();
  await expect(page.getByText('Contact details shared with team@example.com.')).toBeVisible();
  // comment
  await page.getByLabel('Add comment').fill('Called her back, all good.');
  await page.getByRole('button', { name: 'Save comment' }).click();
  await expect(page.getByText('Comment added.')).toBeVisible();
  // connect channel, then the same identity elsewhere is refused in words
  await page.getByRole('button', { name: 'Connect channel' }).click();
  const conn = page.getByRole('dialog', { name: 'Connect a channel' });
  await conn.getByLabel('Channel', { exact: true }).selectOption('whatsapp');
  await conn.getByLabel(/Identity on that channel/).fill('+6281234567');
  await conn.getByRole('button', { name: 'Connect' }).click();
  await expect(page.getByText('Connected whatsapp +6281234567.')).toBeVisible();

  const types = ['CONTACT_ADDED', 'CONTACT_ARCHIVED', 'CONTACT_UNARCHIVED', 'CONTACT_INVITED', 'MESSAGE_SENT', 'CONTACT_SHARED', 'COMMENT_ADDED', 'CONTACT_CONNECTED'];
  for (const t of types) await expect(history.locator(`li[data-type=${t}]`)).toHaveCount(1);
  // newest first: the order on screen is the reverse of the order of the actions
  const onScreen = (await history.locator('li').evaluateAll((ls) => ls.map((l) => l.dataset.type))).filter((t) => types.includes(t));
  expect(onScreen).toEqual([...types].reverse());
  await expect(history.locator('li[data-type=COMMENT_ADDED]')).toContainText('Called her back, all good.');
  await expect(history.locator('li[data-type=MESSAGE_SENT]')).toContainText('by Ari Agent');
  // email delivery outcomes arrive from the mailer within seconds
  for (const t of ['CONTACT_INVITED', 'MESSAGE_SENT', 'CONTACT_SHARED']) {
    await expect(history.locator(`li[data-type=${t}] .delivery`)).toContainText('Email delivered', { timeout: 30_000 });
  }
  await check(page, '05-contact-page-history', { docs: 'contact' });

  // a second contact cannot take the same channel identity: the API's 409 in words
  await page.getByRole('link', { name: 'Contacts' }).first().click();
  await page.getByRole('button', { name: 'Add contact' }).click();
  await page.getByRole('dialog', { name: 'Add contact' }).getByLabel('Name (required)').fill('Grace Hopper');
  await page.getByRole('dialog', { name: 'Add contact' }).getByRole('button', { name: 'Add contact' }).click();
  await expect(page.getByRole('heading', { name: 'Grace Hopper', level: 1 })).toBeVisible();
  await page.getByLabel('Message').fill('Hi');
  await page.getByRole('button', { name: 'Send message' }).click();
  await expect(page.locator('.text-action [role=alert]')).toContainText(/email/i);
  await page.getByRole('button', { name: 'Connect channel' }).click();
  await page.getByRole('dialog', { name: 'Connect a channel' }).getByLabel(/Identity on that channel/).fill('+6281234567');
  await page.getByRole('dialog', { name: 'Connect a channel' }).getByRole('button', { name: 'Connect' }).click();
  await expect(page.getByRole('dialog', { name: 'Connect a channel' }).getByRole('alert')).toContainText(/another contact|already/i);
  await check(page, '06-contact-error-in-words', { fullPage: false });
  await page.keyboard.press('Escape');
});

test('merge two contacts: the primary shows both histories', async ({ page }) => {
  await signIn(page, AGENT);
  const add = async (name, email) => {
    await page.getByRole('link', { name: 'Contacts' }).first().click();
    await page.getByRole('button', { name: 'Add contact' }).click();
    const d = page.getByRole('dialog', { name: 'Add contact' });
    await d.getByLabel('Name (required)').fill(name);
    await d.getByLabel('Email').fill(email);
    await d.getByRole('button', { name: 'Add contact' }).click();
    await expect(page.getByRole('heading', { name, level: 1 })).toBeVisible();
    return page.url().split('/').pop().split('?')[0];
  };
  const dupId = await add('Linus Dup', 'linus.dup@example.com');
  await page.getByLabel('Add comment').fill('Comment on the duplicate');
  await page.getByRole('button', { name: 'Save comment' }).click();
  await expect(page.getByText('Comment added.')).toBeVisible();
  await add('Linus Torvalds', 'linus@example.com');
  await page.getByLabel('Add comment').fill('Comment on the primary');
  await page.getByRole('button', { name: 'Save comment' }).click();
  await expect(page.getByText('Comment added.')).toBeVisible();

  await page.getByRole('button', { name: 'Merge contacts' }).click();
  const dlg = page.getByRole('dialog', { name: /Merge contacts into Linus Torvalds/ });
  await dlg.getByRole('checkbox', { name: /Linus Dup/ }).check();
  await check(page, '07-merge-dialog', { fullPage: false });
  await dlg.getByRole('button', { name: /Merge 1 into this contact/ }).click();
  await expect(page.getByText('Merged 1 contact into Linus Torvalds.')).toBeVisible();
  const history = page.getByRole('list', { name: 'History entries' });
  await expect(history.locator('li[data-type=CONTACT_MERGED]')).toHaveCount(1);
  await expect(history.locator('li[data-type=COMMENT_ADDED]')).toHaveCount(2);
  await expect(history.locator('li', { hasText: 'Comment on the duplicate' })).toContainText('from contact “Linus Dup”');
  await expect(history.locator('li[data-type=CONTACT_ADDED]')).toHaveCount(2);
  await check(page, '08-merged-history');
  // the merged contact's page points to the primary
  await page.goto('/console/contacts/' + dupId);
  await signIn(page, AGENT, '/console/contacts/' + dupId);
  await expect(page.getByRole('heading', { name: 'Contact merged' })).toBeVisible();
  await page.getByRole('link', { name: 'Open the contact it was merged into' }).click();
  await expect(page.getByRole('heading', { name: 'Linus Torvalds', level: 1 })).toBeVisible();
});

test('import a CSV: per-row errors; list filter and paging; delete with confirmation', async ({ page }) => {
  await signIn(page, AGENT);
  await page.getByRole('button', { name: 'Import CSV' }).click();
  const dlg = page.getByRole('dialog', { name: 'Import contacts from CSV' });
  await dlg.getByLabel('Or paste the CSV').fill('name,email,phone\nImported One,one@example.com,\n,nobody@example.com,\nImported Two,not-an-email,\nImported Three,three@example.com,+62 812-3456-7890\n' +
    Array.from({ length: 10 }, (_, i) => `Bulk ${i + 1},bulk${i + 1}@example.com,\n`).join(''));
  await dlg.getByRole('button', { name: 'Import' }).click();
  await expect(dlg.getByText('12 imported, 2 rows not imported:')).toBeVisible();
  const failed = dlg.getByRole('table', { name: 'Rows not imported' });
  await expect(failed.locator('tbody tr')).toHaveCount(2);
  await check(page, '09-import-row-errors', { fullPage: false });
  await dlg.getByRole('button', { name: 'Close' }).click();

  // paging: 10 a page, without loss or repeats; while a page loads (slowed here), the pager
  // says so and its buttons wait, so Next never runs on the page before's cursor
  await page.getByLabel('Rows per page').selectOption('10');
  const slow = /\/v1\/contacts\?/;
  await page.route(slow, async (route) => { await new Promise((r) => setTimeout(r, 700)); await route.continue(); });
  const seen = [];
  for (;;) {
    await expect(page.locator('.loading')).toHaveCount(0);
    seen.push(...(await page.locator('table.data tbody tr td:first-child').allInnerTexts()));
    const next = page.getByRole('button', { name: 'Next →' });
    if (await next.isDisabled()) break;
    await next.click();
    await expect(page.locator('.pager span')).toHaveText(`Page ${seen.length / 10 + 1} · loading`);
    await expect(next).toBeDisabled();
    await expect(page.getByRole('button', { name: '← Previous' })).toBeDisabled();
    await expect(page.locator('table.data')).toHaveAttribute('aria-busy', 'true');
  }
  await page.unroute(slow);
  expect(new Set(seen).size).toBe(seen.length);
  expect(seen).toEqual(expect.arrayContaining(['Imported One', 'Imported Three', 'Bulk 1', 'Bulk 10']));
  expect(seen.length).toBeGreaterThan(10);
  expect(seen).not.toContain('Linus Dup');
  await check(page, '10-contacts-list');

  // delete: the confirmation says it cannot be undone and needs the word typed
  await page.getByRole('link', { name: 'Contacts' }).first().click();
  await page.getByLabel('Rows per page').selectOption('100');
  await page.getByRole('link', { name: 'Imported Three' }).click();
  await page.getByRole('button', { name: 'Delete contact' }).click();
  const del = page.getByRole('dialog', { name: 'Delete this contact?' });
  await expect(del).toContainText('This cannot be undone.');
  await expect(del.getByRole('button', { name: 'Delete for good' })).toBeDisabled();
  await del.getByLabel('Type DELETE to confirm').fill('DELETE');
  await check(page, '11-delete-confirm', { fullPage: false });
  await del.getByRole('button', { name: 'Delete for good' }).click();
  await expect(page.getByText('Contact “Imported Three” deleted.')).toBeVisible();
  await expect(page.getByRole('link', { name: 'Imported Three' })).toHaveCount(0);

  // archived filter
  await page.getByRole('link', { name: 'Imported One' }).click();
  await page.getByRole('button', { name: 'Archive contact' }).click();
  await expect(page.getByText('Contact archived.')).toBeVisible();
  await page.getByRole('link', { name: 'Contacts' }).first().click();
  await page.getByRole('link', { name: 'Archived' }).click();
  await expect(page.getByRole('link', { name: 'Imported One' })).toBeVisible();
  await check(page, '12-contacts-archived');
});

// An admin erases a contact's personal data: the confirmation needs the word typed (by
// keyboard), the contact leaves the list, and its history keeps every event with [erased]
// where the name and texts were.
test('contact page: an admin erases a contact, its history shows [erased]', async ({ page }) => {
  await signIn(page, ADMIN, '/console/contacts');
  await page.getByRole('button', { name: 'Add contact' }).click();
  const dlg = page.getByRole('dialog', { name: 'Add contact' });
  await dlg.getByLabel('Name (required)').fill('Grace Erasable');
  await dlg.getByLabel('Email').fill('grace.erasable@example.com');
  await dlg.getByRole('button', { name: 'Add contact' }).click();
  await expect(page.getByRole('heading', { name: 'Grace Erasable', level: 1 })).toBeVisible();
  await page.getByLabel('Add comment').fill('Grace asked about her invoice 4471.');
  await page.getByRole('button', { name: 'Save comment' }).click();
  await expect(page.getByText('Comment added.')).toBeVisible();

  await page.getByRole('button', { name: 'Erase personal data' }).click();
  const erase = page.getByRole('dialog', { name: "Erase this contact's personal data?" });
  await expect(erase).toContainText('This cannot be undone.');
  await expect(erase.getByRole('button', { name: 'Erase for good' })).toBeDisabled();
  await erase.getByLabel('Type ERASE to confirm').focus();
  await page.keyboard.type('erase');
  await check(page, '12b-erase-confirm', { fullPage: false });
  await page.keyboard.press('Enter'); // submits the form
  await expect(page.getByText('The personal data of “Grace Erasable” was erased.')).toBeVisible();
  await expect(page.getByRole('link', { name: 'Grace Erasable' })).toHaveCount(0);

  await page.goBack(); // the browser's Back: the erased contact's page again
  await expect(page.getByRole('heading', { name: 'Contact not found', level: 1 })).toBeVisible();
  const history = page.getByRole('list', { name: 'History entries' });
  await expect(history.locator('li[data-type=CONTACT_ERASED]')).toContainText('by Rina Admin');
  await expect(history.locator('li[data-type=COMMENT_ADDED]')).toContainText('“[erased]”');
  await expect(history.locator('li[data-type=CONTACT_ADDED]')).toContainText('[erased]');
  await expect(page.locator('main')).not.toContainText('Grace');
  await expect(page.locator('main')).not.toContainText('invoice 4471');
  await check(page, '12c-erased-history');
});
