import { useEffect, useState, useRef } from 'preact/hooks';
import { api } from '../api.js';
import { href, navigate, qs, currentRoute } from '../router.js';
import { fmtTime, relative } from '../format.js';
import { TYPE_NAME, EMAIL_REQUESTS, actorLabel, summary } from '../events.js';
import { session } from '../session.js';
import { Page, Loading, Empty, ErrorBox, Field, Dialog, useLoad, Notice, Forbidden } from '../ui.jsx';
import { CHANNELS } from './contacts.jsx';

export function ContactPage({ id }) {
  const contact = useLoad(() => api(`/v1/contacts/${encodeURIComponent(id)}`), [id]);
  const [historyKey, setHistoryKey] = useState(0);
  const [notice, setNotice] = useState(() => (currentRoute().query.notice ? { text: currentRoute().query.notice } : null));
  const [dialog, setDialog] = useState(null);
  const timers = useRef([]);
  useEffect(() => () => timers.current.forEach(clearTimeout), []);

  const c = contact.data;
  const err = contact.error;
  if (err?.status === 403) return <Forbidden what="this contact" />;
  if (err?.code === 'contact_merged') {
    const into = err.extra?.mergedInto;
    return (
      <Page title="Contact merged" crumbs={[['Contacts', href('/contacts')], ['Merged contact']]}>
        <div class="notice warn" role="status"><p>This contact was merged into another one; its history lives there now.</p>{into && <p><a href={href('/contacts/' + encodeURIComponent(into))}>Open the contact it was merged into</a></p>}</div>
      </Page>
    );
  }
  if (err) {
    return (
      <Page title={err.status === 404 ? 'Contact not found' : 'Contact'} crumbs={[['Contacts', href('/contacts')], ['Contact']]}>
        <ErrorBox error={err} onRetry={err.status === 404 ? null : contact.reload} />
        {err.status === 404 && <p>It may have been deleted. <a href={href('/contacts')}>Back to contacts</a>.</p>}
        {err.status === 404 && session()?.role === 'admin' && <>
          <p><button type="button" class="danger" onClick={() => setDialog('erase')}>Erase personal data</button></p>
          <EraseDialog id={id} open={dialog === 'erase'} onClose={() => setDialog(null)} />
          <History id={id} refreshKey={0} deleted />
        </>}
      </Page>
    );
  }
  if (!c) return <Page title="Contact" crumbs={[['Contacts', href('/contacts')], ['…']]}><Loading what="Loading the contact" /></Page>;

  // After an action: reload the contact and the history; emails report their delivery a few
  // seconds later, so look again then.
  function done(text, { email = false, contact: updated } = {}) {
    setNotice({ text });
    setDialog(null);
    if (updated) contact.reload();
    setHistoryKey((k) => k + 1);
    if (email) for (const ms of [1500, 4000, 8000]) timers.current.push(setTimeout(() => setHistoryKey((k) => k + 1), ms));
  }

  return (
    <Page
      title={c.name}
      subtitle={<>{c.status === 'archived' ? <span class="badge warn">archived</span> : <span class="badge ok">active</span>} <span class="muted">id {c.id}</span></>}
      crumbs={[['Contacts', href('/contacts')], [c.name]]}
    >
      <Notice notice={notice} />
      <div class="contact-grid">
        <div class="stack">
          <section class="card" aria-labelledby="details-h">
            <h2 id="details-h">Details</h2>
            <dl class="details">
              <dt>Email</dt><dd>{c.email || <span class="muted">none — add one to message this contact</span>}</dd>
              <dt>Phone</dt><dd>{c.phone || <span class="muted">none</span>}</dd>
              <dt>Channels</dt>
              <dd>{c.channels?.length ? <ul class="plain">{c.channels.map((ch) => <li key={ch.channel + ch.externalId}><span class="badge">{ch.channel}</span> {ch.externalId} <span class="muted">since {fmtTime(ch.connectedAt)}</span></li>)}</ul> : <span class="muted">none connected</span>}</dd>
              <dt>Added</dt><dd>{fmtTime(c.createdAt)}</dd>
              <dt>Updated</dt><dd>{fmtTime(c.updatedAt)}</dd>
            </dl>
          </section>
          <Actions c={c} setDialog={setDialog} done={done} />
          <section class="card" aria-labelledby="activity-h">
            <h2 id="activity-h">Activity</h2>
            <TextAction id="message" label="Message" help={c.email ? `Sent by email to ${c.email}.` : 'This contact has no email address: add one before messaging.'} button="Send message"
              run={(text) => api(`/v1/contacts/${encodeURIComponent(c.id)}/messages`, { method: 'POST', body: { text } })} onDone={() => done('Message queued for sending.', { email: true })} />
            <TextAction id="comment" label="Add comment" help="Visible to your team in the history." button="Save comment"
              run={(text) => api(`/v1/contacts/${encodeURIComponent(c.id)}/comments`, { method: 'POST', body: { text } })} onDone={() => done('Comment added.')} />
          </section>
        </div>
        <History id={c.id} refreshKey={historyKey} />
      </div>
      <InviteDialog c={c} open={dialog === 'invite'} onClose={() => setDialog(null)} done={done} />
      <ShareDialog c={c} open={dialog === 'share'} onClose={() => setDialog(null)} done={done} />
      <ConnectDialog c={c} open={dialog === 'connect'} onClose={() => setDialog(null)} done={done} />
      <MergeDialog c={c} open={dialog === 'merge'} onClose={() => setDialog(null)} done={done} />
      <DeleteDialog c={c} open={dialog === 'delete'} onClose={() => setDialog(null)} />
      <EraseDialog id={c.id} name={c.name} open={dialog === 'erase'} onClose={() => setDialog(null)} />
    </Page>
  );
}

function Actions({ c, setDialog, done }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  async function toggleArchive() {
    setBusy(true);
    setError(null);
    try {
      const path = c.status === 'archived' ? 'unarchive' : 'archive';
      await api(`/v1/contacts/${encodeURIComponent(c.id)}/${path}`, { method: 'POST' });
      done(c.status === 'archived' ? 'Contact unarchived.' : 'Contact archived.', { contact: true });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <section class="card" aria-labelledby="actions-h">
      <h2 id="actions-h">Actions</h2>
      <div class="actions">
        <button type="button" class="secondary" disabled={busy} onClick={toggleArchive}>{c.status === 'archived' ? 'Unarchive contact' : 'Archive contact'}</button>
        <button type="button" class="secondary" onClick={() => setDialog('invite')}>Invite contact</button>
        <button type="button" class="secondary" onClick={() => setDialog('share')}>Share via email</button>
        <button type="button" class="secondary" onClick={() => setDialog('connect')}>Connect channel</button>
        <button type="button" class="secondary" onClick={() => setDialog('merge')}>Merge contacts</button>
        <button type="button" class="danger" onClick={() => setDialog('delete')}>Delete contact</button>
        {session()?.role === 'admin' && <button type="button" class="danger" onClick={() => setDialog('erase')}>Erase personal data</button>}
      </div>
      <ErrorBox error={error} />
    </section>
  );
}

function useSubmit(run, onDone) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  async function submit(e) {
    e?.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await run();
      onDone(r);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return { busy, error, setError, submit };
}

function TextAction({ id, label, help, button, run, onDone }) {
  const [text, setText] = useState('');
  const s = useSubmit(() => run(text), () => { setText(''); onDone(); });
  return (
    <form class="text-action" onSubmit={s.submit} noValidate>
      <Field label={label} id={'ta-' + id} hint={help} error={s.error?.fields?.text}>
        <textarea id={'ta-' + id} rows={3} value={text} maxLength={10000} onInput={(e) => setText(e.currentTarget.value)} aria-describedby={'ta-' + id + '-hint'} />
      </Field>
      <ErrorBox error={s.error} />
      <button type="submit" disabled={s.busy}>{s.busy ? 'Sending…' : button}</button>
    </form>
  );
}

function InviteDialog({ c, open, onClose, done }) {
  const [email, setEmail] = useState(c.email || '');
  const s = useSubmit(() => api(`/v1/contacts/${encodeURIComponent(c.id)}/invite`, { method: 'POST', body: { email } }), () => done(`Invitation to ${email} queued.`, { email: true }));
  return (
    <Dialog open={open} onClose={() => { s.setError(null); onClose(); }} title="Invite contact" id="invite">
      <form onSubmit={s.submit} noValidate>
        <p class="muted">Sends an invitation email. Its delivery shows in the history.</p>
        <Field label="Email address (required)" id="inv-email" error={s.error?.fields?.email}><input id="inv-email" type="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} autocomplete="off" /></Field>
        <ErrorBox error={s.error} />
        <div class="dialog-actions"><button type="button" class="secondary" onClick={onClose}>Cancel</button><button type="submit" disabled={s.busy}>Send invitation</button></div>
      </form>
    </Dialog>
  );
}

function ShareDialog({ c, open, onClose, done }) {
  const [email, setEmail] = useState('');
  const [note, setNote] = useState('');
  const s = useSubmit(() => {
    const body = {};
    if (email.trim()) body.email = email;
    if (note.trim()) body.note = note;
    return api(`/v1/contacts/${encodeURIComponent(c.id)}/share`, { method: 'POST', body });
  }, () => done(`Contact details shared with ${email || c.email || 'the contact'}.`, { email: true }));
  return (
    <Dialog open={open} onClose={() => { s.setError(null); onClose(); }} title="Share via email" id="share">
      <form onSubmit={s.submit} noValidate>
        <Field label="Send to" id="sh-email" hint={c.email ? `Leave empty to send to the contact's own address, ${c.email}.` : 'The contact has no email: enter an address.'} error={s.error?.fields?.email}>
          <input id="sh-email" type="email" value={email} onInput={(e) => setEmail(e.currentTarget.value)} aria-describedby="sh-email-hint" autocomplete="off" />
        </Field>
        <Field label="Note (optional)" id="sh-note"><textarea id="sh-note" rows={3} value={note} onInput={(e) => setNote(e.currentTarget.value)} /></Field>
        <ErrorBox error={s.error} />
        <div class="dialog-actions"><button type="button" class="secondary" onClick={onClose}>Cancel</button><button type="submit" disabled={s.busy}>Share</button></div>
      </form>
    </Dialog>
  );
}

function ConnectDialog({ c, open, onClose, done }) {
  const [channel, setChannel] = useState('whatsapp');
  const [externalId, setExternalId] = useState('');
  const [source, setSource] = useState('manual');
  const s = useSubmit(() => api(`/v1/contacts/${encodeURIComponent(c.id)}/channels`, { method: 'POST', body: { channel, externalId, source } }), () => { setExternalId(''); done(`Connected ${channel} ${externalId}.`, { contact: true }); });
  return (
    <Dialog open={open} onClose={() => { s.setError(null); onClose(); }} title="Connect a channel" id="connect">
      <form onSubmit={s.submit} noValidate>
        <Field label="Channel" id="cn-channel" error={s.error?.fields?.channel}><select id="cn-channel" value={channel} onChange={(e) => setChannel(e.currentTarget.value)}>{CHANNELS.map((x) => <option key={x}>{x}</option>)}</select></Field>
        <Field label="Identity on that channel (required)" id="cn-ext" hint="Phone number, handle or id." error={s.error?.fields?.externalId}><input id="cn-ext" required value={externalId} onInput={(e) => setExternalId(e.currentTarget.value)} aria-describedby="cn-ext-hint" autocomplete="off" /></Field>
        <Field label="Source" id="cn-source"><select id="cn-source" value={source} onChange={(e) => setSource(e.currentTarget.value)}><option value="manual">Manual input</option><option value="incoming_message">Incoming message</option><option value="api">API</option></select></Field>
        <ErrorBox error={s.error} />
        <div class="dialog-actions"><button type="button" class="secondary" onClick={onClose}>Cancel</button><button type="submit" disabled={s.busy}>Connect</button></div>
      </form>
    </Dialog>
  );
}

function MergeDialog({ c, open, onClose, done }) {
  const [picked, setPicked] = useState([]);
  const [manual, setManual] = useState('');
  const list = useLoad(() => (open ? api('/v1/contacts', { query: { limit: 100 } }) : Promise.resolve(null)), [open]);
  const others = (list.data?.items || []).filter((x) => x.id !== c.id);
  const ids = [...new Set([...picked, ...manual.split(/[\s,]+/).filter(Boolean)])];
  const s = useSubmit(() => api('/v1/contacts/merge', { method: 'POST', body: { primaryId: c.id, mergedIds: ids } }), () => { setPicked([]); setManual(''); done(`Merged ${ids.length} contact${ids.length === 1 ? '' : 's'} into ${c.name}.`, { contact: true }); });
  const toggle = (id) => setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : [...p, id]));
  return (
    <Dialog open={open} onClose={() => { s.setError(null); onClose(); }} title={`Merge contacts into ${c.name}`} id="merge">
      <form onSubmit={s.submit} noValidate>
        <p class="muted">The contacts you pick are merged into this one (1 to 10): their channels move here and their history shows in this contact's history. The merged contacts stop existing on their own.</p>
        {list.loading && <Loading what="Loading contacts" />}
        <ErrorBox error={list.error} />
        {!list.loading && others.length === 0 && <Empty title="No other active contacts to merge.">Add the duplicates first, or enter their ids below.</Empty>}
        {others.length > 0 && (
          <fieldset class="pick">
            <legend>Contacts to merge</legend>
            <ul class="plain">{others.map((o) => <li key={o.id}><label class="check"><input type="checkbox" checked={picked.includes(o.id)} onChange={() => toggle(o.id)} /> {o.name} <span class="muted">{o.email || ''} · {o.id}</span></label></li>)}</ul>
          </fieldset>
        )}
        <Field label="Or contact ids" id="mg-ids" hint="Separated by spaces or commas." error={s.error?.fields?.mergedIds}><input id="mg-ids" value={manual} onInput={(e) => setManual(e.currentTarget.value)} aria-describedby="mg-ids-hint" autocomplete="off" /></Field>
        <ErrorBox error={s.error} />
        <div class="dialog-actions"><button type="button" class="secondary" onClick={onClose}>Cancel</button><button type="submit" disabled={s.busy || ids.length === 0}>Merge {ids.length || ''} into this contact</button></div>
      </form>
    </Dialog>
  );
}

function DeleteDialog({ c, open, onClose }) {
  return (
    <ConfirmDialog open={open} onClose={onClose} id="delete" word="DELETE" title="Delete this contact?" keep="Keep the contact" go="Delete for good"
      warning={<>“{c.name}” is removed for good; the audit log keeps a record that it was deleted, and by whom.</>}
      run={() => api(`/v1/contacts/${encodeURIComponent(c.id)}`, { method: 'DELETE' })}
      onDone={() => navigate('/contacts?' + qs({ notice: `Contact “${c.name}” deleted.` }))} />
  );
}

// EraseDialog erases a contact's personal data (admins): active, archived or already deleted.
function EraseDialog({ id, name, open, onClose }) {
  const who = name ? `“${name}”` : 'this contact';
  return (
    <ConfirmDialog open={open} onClose={onClose} id="erase" word="ERASE" title="Erase this contact's personal data?" keep="Keep the data" go="Erase for good"
      warning={<>The name, email, phone, channel ids and the texts of messages, comments and shares of {who} become unreadable everywhere, in its history, the audit log, reports and exports made from now on; they show as [erased]. Counts, ids and times stay. Contacts merged into it are erased too.</>}
      run={() => api(`/v1/contacts/${encodeURIComponent(id)}/erase`, { method: 'POST' })}
      onDone={() => navigate('/contacts?' + qs({ notice: `The personal data of ${who} was erased.` }))} />
  );
}

// ConfirmDialog asks to type a word before an action that cannot be undone.
function ConfirmDialog({ open, onClose, id, word, title, warning, keep, go, run, onDone }) {
  const [confirm, setConfirm] = useState('');
  const s = useSubmit(run, onDone);
  return (
    <Dialog open={open} onClose={() => { setConfirm(''); s.setError(null); onClose(); }} title={title} id={id}>
      <form onSubmit={s.submit} noValidate>
        <div class="notice danger" role="note"><p><strong>This cannot be undone.</strong> {warning}</p></div>
        <Field label={`Type ${word} to confirm`} id={`${id}-confirm`}><input id={`${id}-confirm`} value={confirm} onInput={(e) => setConfirm(e.currentTarget.value)} autocomplete="off" /></Field>
        <ErrorBox error={s.error} />
        <div class="dialog-actions"><button type="button" class="secondary" onClick={onClose}>{keep}</button><button type="submit" class="danger" disabled={s.busy || confirm.trim().toUpperCase() !== word}>{go}</button></div>
      </form>
    </Dialog>
  );
}

export function History({ id, refreshKey, deleted }) {
  const [pages, setPages] = useState([]);
  const [next, setNext] = useState(null);
  const [state, setState] = useState({ loading: true, error: null });
  async function load(cursor) {
    setState({ loading: true, error: null });
    try {
      const r = await api(`/v1/contacts/${encodeURIComponent(id)}/history`, { query: { limit: 50, cursor } });
      setPages((p) => (cursor ? [...p, ...r.items] : r.items));
      setNext(r.nextCursor);
      setState({ loading: false, error: null });
    } catch (e) {
      setState({ loading: false, error: e });
    }
  }
  useEffect(() => { load(null); }, [id, refreshKey]);
  const events = pages;
  // Delivery outcomes belong to the request that sent the email.
  const outcome = {};
  for (const e of events) if (e.type === 'EMAIL_DELIVERED' || e.type === 'EMAIL_FAILED') outcome[e.data?.requestEventId] = e;
  return (
    <section class="card history" aria-labelledby="history-h">
      <div class="card-head">
        <h2 id="history-h">History{deleted ? ' (deleted contact)' : ''}</h2>
        <button type="button" class="secondary small" onClick={() => load(null)}>Refresh</button>
      </div>
      <p class="muted">Newest first, including the history of contacts merged into this one.</p>
      {state.loading && events.length === 0 && <Loading what="Loading the history" />}
      <ErrorBox error={state.error} onRetry={() => load(null)} />
      {!state.loading && !state.error && events.length === 0 && <Empty title="No history yet.">Actions on this contact (messages, comments, invitations, archiving) appear here.</Empty>}
      <ol class="timeline" aria-label="History entries">
        {events.map((e) => {
          const o = outcome[e.id];
          const fromOther = e.contact && e.contact.id !== id;
          return (
            <li key={e.id} class={'entry t-' + e.type.toLowerCase()} data-type={e.type}>
              <div class="entry-head">
                <strong class="entry-what">{TYPE_NAME[e.type] || e.type}</strong>
                <span class="entry-who">by {actorLabel(e.actor)}</span>
                <time datetime={e.occurredAt} title={fmtTime(e.occurredAt)}>{fmtTime(e.occurredAt)} <span class="muted">({relative(e.occurredAt)})</span></time>
              </div>
              <p class="entry-detail">{summary(e)}</p>
              {fromOther && <p class="entry-from"><span class="badge">merged</span> from contact “{e.contact.name}” ({e.contact.id})</p>}
              {EMAIL_REQUESTS.has(e.type) && (
                <p class={'delivery ' + (o ? (o.type === 'EMAIL_DELIVERED' ? 'ok' : 'bad') : 'pending')}>
                  {o ? (o.type === 'EMAIL_DELIVERED' ? `Email delivered ${fmtTime(o.occurredAt)}` : `Email failed: ${o.data?.reason || 'no reason given'}`) : 'Email queued: delivery not reported yet'}
                </p>
              )}
            </li>
          );
        })}
      </ol>
      {state.loading && events.length > 0 && <Loading what="Loading more" />}
      {next && !state.loading && <button type="button" class="secondary" onClick={() => load(next)}>Load older entries</button>}
    </section>
  );
}
