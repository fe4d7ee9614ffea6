import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { href, navigate, currentRoute, qs } from '../router.js';
import { fmtTime } from '../format.js';
import { Page, Loading, Empty, ErrorBox, Field, Dialog, usePager, Pager, useLoad, Notice, Forbidden } from '../ui.jsx';

const SOURCES = [['manual', 'Manual input'], ['api', 'API'], ['incoming_message', 'Incoming message']];
export const CHANNELS = ['whatsapp', 'telegram', 'instagram', 'facebook_messenger', 'webchat', 'email', 'sms'];

export function ContactList() {
  const route = currentRoute();
  const status = route.query.status === 'archived' ? 'archived' : 'active';
  const [limit, setLimit] = useState(25);
  const pager = usePager(status + limit);
  const list = useLoad(() => api('/v1/contacts', { query: { status, limit, cursor: pager.cursor } }), [status, limit, pager.cursor]);
  const [dialog, setDialog] = useState(null);
  const [notice, setNotice] = useState(route.query.notice ? { text: route.query.notice } : null);

  if (list.error?.status === 403) return <Forbidden what="contacts" />;
  const items = list.data?.items || [];
  return (
    <Page
      title="Contacts"
      subtitle="Every contact of your tenant. Open one to act on it and read its history."
      actions={
        <>
          <button type="button" onClick={() => setDialog('create')}>Add contact</button>
          <button type="button" class="secondary" onClick={() => setDialog('import')}>Import CSV</button>
        </>
      }
    >
      <Notice notice={notice} />
      <div class="toolbar" role="group" aria-label="Filter contacts">
        <fieldset class="segmented">
          <legend class="sr-only">Status</legend>
          {['active', 'archived'].map((s) => (
            <a key={s} href={href('/contacts', s === 'active' ? {} : { status: s })} aria-current={status === s ? 'true' : undefined}>{s === 'active' ? 'Active' : 'Archived'}</a>
          ))}
        </fieldset>
        <label class="inline">Rows per page{' '}
          <select value={limit} onChange={(e) => setLimit(+e.currentTarget.value)}>
            {[10, 25, 50, 100].map((n) => <option key={n} value={n}>{n}</option>)}
          </select>
        </label>
        <button type="button" class="secondary" onClick={list.reload}>Refresh</button>
      </div>
      {list.loading && <Loading what="Loading contacts" />}
      <ErrorBox error={list.error} onRetry={list.reload} />
      {!list.loading && !list.error && items.length === 0 && (
        <Empty title={status === 'archived' ? 'No archived contacts.' : pager.page > 1 ? 'No more contacts.' : 'No contacts yet.'}>
          {status === 'archived' ? 'Archive a contact from its page to keep the list tidy; it shows up here.' : 'Add a contact, or import a CSV file with the columns name, email, phone.'}
        </Empty>
      )}
      {items.length > 0 && (
        <div class="table-wrap">
          <table class="data" aria-busy={list.loading ? 'true' : 'false'}>
            <caption class="sr-only">{status === 'archived' ? 'Archived' : 'Active'} contacts, page {pager.page}</caption>
            <thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Phone</th><th scope="col">Channels</th><th scope="col">Added</th></tr></thead>
            <tbody>
              {items.map((c) => (
                <tr key={c.id}>
                  <td><a href={href('/contacts/' + encodeURIComponent(c.id))}>{c.name}</a></td>
                  <td>{c.email || <span class="muted">—</span>}</td>
                  <td>{c.phone || <span class="muted">—</span>}</td>
                  <td>{c.channels?.length ? c.channels.map((ch) => ch.channel).join(', ') : <span class="muted">none</span>}</td>
                  <td>{fmtTime(c.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {(items.length > 0 || pager.page > 1) && <Pager pager={pager} busy={list.loading} nextCursor={list.data?.nextCursor} count={items.length} label="Contacts" />}
      <CreateContact open={dialog === 'create'} onClose={() => setDialog(null)} onCreated={(c) => navigate('/contacts/' + encodeURIComponent(c.id) + '?' + qs({ notice: `Contact “${c.name}” added.` }))} />
      <ImportContacts open={dialog === 'import'} onClose={() => setDialog(null)} onDone={(r) => { setNotice({ text: `Imported ${r.imported} contact${r.imported === 1 ? '' : 's'}.` }); list.reload(); }} />
    </Page>
  );
}

function CreateContact({ open, onClose, onCreated }) {
  const blank = { name: '', email: '', phone: '', source: 'manual', channel: '' };
  const [f, setF] = useState(blank);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (k) => (e) => setF({ ...f, [k]: e.currentTarget.value });
  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = { name: f.name };
      if (f.email.trim()) body.email = f.email;
      if (f.phone.trim()) body.phone = f.phone;
      if (f.source !== 'manual') body.source = f.source;
      if (f.channel) body.channel = f.channel;
      const c = await api('/v1/contacts', { method: 'POST', body });
      setF(blank);
      onCreated(c);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  const fe = (k) => error?.fields?.[k];
  return (
    <Dialog open={open} onClose={() => { setError(null); onClose(); }} title="Add contact" id="create-contact">
      <form onSubmit={submit} noValidate>
        <Field label="Name (required)" id="cc-name" error={fe('name')}><input id="cc-name" value={f.name} onInput={set('name')} required maxLength={200} aria-invalid={fe('name') ? 'true' : undefined} autocomplete="off" /></Field>
        <Field label="Email" id="cc-email" error={fe('email')}><input id="cc-email" type="email" value={f.email} onInput={set('email')} aria-invalid={fe('email') ? 'true' : undefined} autocomplete="off" /></Field>
        <Field label="Phone" id="cc-phone" error={fe('phone')}><input id="cc-phone" type="tel" value={f.phone} onInput={set('phone')} autocomplete="off" /></Field>
        <Field label="Source" id="cc-source"><select id="cc-source" value={f.source} onChange={set('source')}>{SOURCES.map(([v, l]) => <option key={v} value={v}>{l}</option>)}</select></Field>
        {f.source === 'incoming_message' && (
          <Field label="Channel" id="cc-channel"><select id="cc-channel" value={f.channel} onChange={set('channel')}><option value="">—</option>{CHANNELS.map((c) => <option key={c} value={c}>{c}</option>)}</select></Field>
        )}
        <ErrorBox error={error} />
        <div class="dialog-actions">
          <button type="button" class="secondary" onClick={onClose}>Cancel</button>
          <button type="submit" disabled={busy}>{busy ? 'Adding…' : 'Add contact'}</button>
        </div>
      </form>
    </Dialog>
  );
}

function ImportContacts({ open, onClose, onDone }) {
  const [text, setText] = useState('name,email,phone\n');
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  async function pick(e) {
    const file = e.currentTarget.files?.[0];
    if (file) setText(await file.text());
  }
  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const r = await api('/v1/contacts/import', { method: 'POST', body: text, headers: { 'Content-Type': 'text/csv' } });
      setResult(r);
      onDone(r);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <Dialog open={open} onClose={() => { setResult(null); setError(null); onClose(); }} title="Import contacts from CSV" id="import-contacts">
      <form onSubmit={submit}>
        <p class="muted">A header row <code>name,email,phone</code>, then one contact a row; at most 1000 rows. Rows with problems are listed and skipped; the others are added with source “import”.</p>
        <Field label="CSV file" id="imp-file"><input id="imp-file" type="file" accept=".csv,text/csv" onChange={pick} /></Field>
        <Field label="Or paste the CSV" id="imp-text"><textarea id="imp-text" rows={8} value={text} onInput={(e) => setText(e.currentTarget.value)} spellcheck={false} /></Field>
        <ErrorBox error={error} />
        {result && (
          <div class={result.failed?.length ? 'notice warn' : 'notice ok'} role="status">
            <p><strong>{result.imported}</strong> imported{result.failed?.length ? `, ${result.failed.length} row${result.failed.length === 1 ? '' : 's'} not imported:` : '.'}</p>
            {result.failed?.length > 0 && (
              <table class="data compact" aria-label="Rows not imported">
                <thead><tr><th scope="col">Row</th><th scope="col">Problem</th></tr></thead>
                <tbody>{result.failed.map((f) => <tr key={f.row}><td>{f.row}{f.line ? ` (line ${f.line})` : ''}</td><td>{f.message}</td></tr>)}</tbody>
              </table>
            )}
          </div>
        )}
        <div class="dialog-actions">
          <button type="button" class="secondary" onClick={onClose}>{result ? 'Close' : 'Cancel'}</button>
          <button type="submit" disabled={busy}>{busy ? 'Importing…' : 'Import'}</button>
        </div>
      </form>
    </Dialog>
  );
}
