// Manager › Activity Logs (admin): the tenant audit log and co-browsing sessions.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { href, navigate } from '../router.js';
import { fmtTime, browserTz } from '../format.js';
import { TYPES, TYPE_NAME, CATEGORY_OF, actorLabel, summary } from '../events.js';
import { Page, Loading, Empty, ErrorBox, usePager, Pager, useLoad, Forbidden, JSONView } from '../ui.jsx';
import { ExportDialog } from './reports.jsx';
import { session } from '../session.js';
import { verifyEvent } from '../verify.js';

// The audit report's export formats: OCSF is for security tools (a SIEM).
const AUDIT_FORMATS = [['csv', 'CSV'], ['parquet', 'Parquet'], ['ocsf', 'OCSF, for security tools (gzip, one event a line)']];

// datetime-local values are the browser's local time; the API wants RFC 3339.
const toLocalInput = (iso) => {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d)) return '';
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
};
const fromLocalInput = (v) => (v ? new Date(v).toISOString() : undefined);

// The period an export of the audit report covers, as the API fills in a missing end (30 days).
function periodWords(from, to) {
  if (from && to) return `from ${fmtTime(from)} to ${fmtTime(to)}`;
  if (from) return `in the 30 days from ${fmtTime(from)}`;
  if (to) return `in the 30 days before ${fmtTime(to)}`;
  return 'of the last 30 days';
}

// "Verify in the signed log": the event checked in this browser against the tenant's latest
// signed checkpoint (verify.js); the outcome says what was checked, or what failed.
function VerifyEvent({ e }) {
  const [state, setState] = useState(null); // {busy} | {ok} | {error} | {pending}
  async function run() {
    setState({ busy: true });
    try {
      setState({ ok: await verifyEvent(e, session()?.tenant, (path, query) => api(path, { query })) });
    } catch (err) {
      setState(err.status === 404 ? { pending: true } : { error: err.message || String(err) });
    }
  }
  return (
    <div class="verify">
      <button type="button" class="secondary small" onClick={run} disabled={state?.busy}>Verify in the signed log</button>
      <div role="status" aria-live="polite">
        {state?.busy && <p class="muted">Checking the checkpoint's signature and the event's inclusion proof…</p>}
        {state?.ok && <p class="notice ok" data-verified="true">Verified in this browser: leaf {state.ok.index} of the log of {state.ok.size} events, whose checkpoint{state.ok.time ? ` signed ${fmtTime(state.ok.time)}` : ''} verifies with key <code>{state.ok.vkey}</code> (compare it with the key you keep); the leaf's id, type, time, actor and contact are the ones shown. Personal fields are sealed in the leaf and not compared here.</p>}
        {state?.pending && <p class="notice" data-verified="pending">Not in the signed log yet: an event is sequenced within a minute or so of being archived. Try again shortly.</p>}
        {state?.error && <p class="notice danger" data-verified="false">Does not verify: {state.error.replace(/\.$/, "")}.</p>}
      </div>
    </div>
  );
}

// A link to one event: the activity log at the millisecond it occurred, that event open. The
// time narrows the query (an event id says when it was recorded, not when it occurred).
const eventLink = (e) => href('/manager/activity-logs', { from: e.occurredAt, to: new Date(Date.parse(e.occurredAt) + 1).toISOString(), event: e.id });

export function AuditLog({ query }) {
  const types = [].concat(query.type || []).filter(Boolean);
  const f = { category: query.category || '', type: types, actorId: query.actorId || '', contactId: query.contactId || '', from: query.from || '', to: query.to || '' };
  const [draft, setDraft] = useState(null);
  const d = draft || { ...f, type: f.type[0] || '', fromLocal: toLocalInput(f.from), toLocal: toLocalInput(f.to) };
  const [limit, setLimit] = useState(50);
  const key = JSON.stringify([f, limit]);
  const pager = usePager(key);
  const res = useLoad(() => api('/v1/audit-events', { query: { category: f.category, type: f.type, actorId: f.actorId, contactId: f.contactId, from: f.from, to: f.to, limit, cursor: pager.cursor } }), [key, pager.cursor]);
  const [open, setOpen] = useState(query.event ? { [query.event]: true } : {});
  const [exportOpen, setExportOpen] = useState(false);
  if (res.error?.status === 403) return <Forbidden what="the activity logs" />;
  const set = (k) => (e) => setDraft({ ...d, [k]: e.currentTarget.value });
  function apply(e) {
    e.preventDefault();
    setDraft(null);
    navigate(href('/manager/activity-logs', { category: d.category, type: d.type || undefined, actorId: d.actorId.trim(), contactId: d.contactId.trim(), from: fromLocalInput(d.fromLocal), to: fromLocalInput(d.toLocal) }));
  }
  const items = res.data?.items || [];
  const typeOptions = d.category ? Object.keys(TYPES[d.category] || {}) : Object.keys(TYPE_NAME);
  const filtered = Object.values(f).some((v) => (Array.isArray(v) ? v.length : v));
  return (
    <Page title="Activity Logs" subtitle="Everything that happened in your tenant, newest first: contact actions, emails, platform events, co-browsing and access to reports." crumbs={[['Manager', null], ['Activity Logs']]}>
      <form class="filters card" onSubmit={apply} aria-label="Filter the activity log">
        <div class="form-grid">
          <div class="field"><label for="al-category">Category</label>
            <select id="al-category" value={d.category} onChange={(e) => setDraft({ ...d, category: e.currentTarget.value, type: CATEGORY_OF[d.type] === e.currentTarget.value ? d.type : '' })}>
              <option value="">All categories</option>{Object.keys(TYPES).map((c) => <option key={c}>{c}</option>)}
            </select></div>
          <div class="field"><label for="al-type">Type</label>
            <select id="al-type" value={d.type} onChange={set('type')}>
              <option value="">All types</option>{typeOptions.map((t) => <option key={t} value={t}>{TYPE_NAME[t]} ({t})</option>)}
            </select></div>
          <div class="field"><label for="al-actor">Actor id</label><input id="al-actor" value={d.actorId} onInput={set('actorId')} autocomplete="off" /></div>
          <div class="field"><label for="al-contact">Contact id</label><input id="al-contact" value={d.contactId} onInput={set('contactId')} autocomplete="off" /></div>
          <div class="field"><label for="al-from">From (your time)</label><input id="al-from" type="datetime-local" value={d.fromLocal} onInput={set('fromLocal')} /></div>
          <div class="field"><label for="al-to">To (your time)</label><input id="al-to" type="datetime-local" value={d.toLocal} onInput={set('toLocal')} /></div>
        </div>
        <div class="form-actions">
          <button type="submit">Apply filters</button>
          {filtered && <a class="button secondary" href={href('/manager/activity-logs')} onClick={() => setDraft(null)}>Clear filters</a>}
          <button type="button" class="secondary" onClick={() => setExportOpen(true)}>Export this period</button>
          <span class="muted">{f.from || f.to ? '' : 'Default period: the last 30 days.'}</span>
        </div>
      </form>
      <ExportDialog open={exportOpen} onClose={() => setExportOpen(false)} report="audit" period={{ from: f.from || undefined, to: f.to || undefined, tz: browserTz() }} formats={AUDIT_FORMATS}
        description={`Exports every event ${periodWords(f.from, f.to)}, oldest first and any size, whatever the category, type, actor and contact filters above (they narrow this screen only).`} />
      {res.loading && <Loading what="Loading the activity log" />}
      <ErrorBox error={res.error} onRetry={res.reload} />
      {!res.loading && !res.error && items.length === 0 && (
        <Empty title={filtered ? 'No events match these filters.' : 'No events in the last 30 days.'}>{filtered ? 'Widen the time range or clear a filter.' : 'Events appear as soon as people act on contacts or services send platform events.'}</Empty>
      )}
      {items.length > 0 && (
        <div class="table-wrap">
          <table class="data" id="audit-table" aria-busy={res.loading ? 'true' : 'false'}>
            <caption class="sr-only">Activity log, page {pager.page}</caption>
            <thead><tr><th scope="col">Time</th><th scope="col">Event</th><th scope="col">Actor</th><th scope="col">Target</th><th scope="col">Summary</th><th scope="col"><span class="sr-only">Details</span></th></tr></thead>
            <tbody>
              {items.map((e) => [
                <tr key={e.id} data-type={e.type} class={e.id === query.event ? 'linked' : undefined} aria-current={e.id === query.event ? 'true' : undefined}>
                  <td><time datetime={e.occurredAt}>{fmtTime(e.occurredAt)}</time></td>
                  <td><span class={'badge c-' + e.category}>{e.category}</span> {TYPE_NAME[e.type] || e.type}</td>
                  <td>{e.actor?.id ? <a href={href('/manager/activity-logs', { actorId: e.actor.id })} title="Show only this actor">{actorLabel(e.actor)}</a> : actorLabel(e.actor)}</td>
                  <td>{e.contact ? <a href={href('/contacts/' + encodeURIComponent(e.contact.id))}>{e.contact.name}</a> : e.sessionId || e.data?.sessionId ? <a href={href('/manager/activity-logs/sessions/' + encodeURIComponent(e.sessionId || e.data.sessionId))}>session {e.sessionId || e.data.sessionId}</a> : <span class="muted">—</span>}</td>
                  <td class="summary">{summary(e)}</td>
                  <td><button type="button" class="secondary small" aria-expanded={open[e.id] ? 'true' : 'false'} aria-controls={'ev-' + e.id} onClick={() => setOpen({ ...open, [e.id]: !open[e.id] })}>{open[e.id] ? 'Hide' : 'Details'}<span class="sr-only"> of {TYPE_NAME[e.type] || e.type} at {fmtTime(e.occurredAt)}</span></button></td>
                </tr>,
                open[e.id] && (
                  <tr key={e.id + '-d'} class="detail-row" id={'ev-' + e.id}>
                    <td colSpan={6}>
                      <dl class="details">
                        <dt>Event id</dt><dd>{e.id}</dd>
                        <dt>Type</dt><dd>{e.type} ({e.category})</dd>
                        <dt>Occurred</dt><dd>{e.occurredAt}</dd>
                        <dt>Recorded</dt><dd>{e.recordedAt}</dd>
                        <dt>Actor</dt><dd>{e.actor?.type} {e.actor?.id} {e.actor?.name}</dd>
                        {e.source && <><dt>Source</dt><dd>{e.source}</dd></>}
                        {e.channel && <><dt>Channel</dt><dd>{e.channel}</dd></>}
                        <dt>Link</dt><dd><a href={eventLink(e)}>Link to this event<span class="sr-only"> ({TYPE_NAME[e.type] || e.type} at {fmtTime(e.occurredAt)})</span></a> <span class="muted">(copy it to share this event)</span></dd>
                      </dl>
                      <VerifyEvent e={e} />
                      <div class="detail-json"><div><h3>Data</h3><JSONView value={e.data} /></div><div><h3>Context</h3>{e.context ? <JSONView value={e.context} /> : <p class="muted">No request context recorded.</p>}</div></div>
                    </td>
                  </tr>
                ),
              ])}
            </tbody>
          </table>
        </div>
      )}
      <div class="toolbar">
        {(items.length > 0 || pager.page > 1) && <Pager pager={pager} busy={res.loading} nextCursor={res.data?.nextCursor} count={items.length} label="Activity log" />}
        <label class="inline">Rows per page <select value={limit} onChange={(e) => setLimit(+e.currentTarget.value)}>{[25, 50, 100, 200].map((n) => <option key={n}>{n}</option>)}</select></label>
      </div>
      <OpenSession />
    </Page>
  );
}

function OpenSession() {
  const [id, setId] = useState('');
  return (
    <form class="card inline-form" onSubmit={(e) => { e.preventDefault(); if (id.trim()) navigate(href('/manager/activity-logs/sessions/' + encodeURIComponent(id.trim()))); }} aria-labelledby="open-session-h">
      <h2 id="open-session-h">Open a co-browsing session</h2>
      <div class="field"><label for="os-id">Session id</label><input id="os-id" value={id} onInput={(e) => setId(e.currentTarget.value)} autocomplete="off" /></div>
      <button type="submit" disabled={!id.trim()}>Open session</button>
    </form>
  );
}

export function SessionView({ sessionId }) {
  const pager = usePager(sessionId);
  const res = useLoad(() => api('/v1/cobrowse/sessions/' + encodeURIComponent(sessionId) + '/events', { query: { limit: 200, cursor: pager.cursor } }), [sessionId, pager.cursor]);
  if (res.error?.status === 403) return <Forbidden what="co-browsing sessions" />;
  const items = res.data?.items || [];
  const start = items[0] ? Date.parse(items[0].occurredAt) : 0;
  const agents = items.filter((e) => e.isAgent).length;
  return (
    <Page title={`Co-browsing session ${sessionId}`} subtitle="The session's events in order, oldest first. Input is shown as stored: masked where the tenant masks it."
      crumbs={[['Manager', null], ['Activity Logs', href('/manager/activity-logs')], ['Session ' + sessionId]]}>
      {res.loading && <Loading what="Loading the session" />}
      <ErrorBox error={res.error} onRetry={res.reload} />
      {!res.loading && !res.error && items.length === 0 && <Empty title="No events for this session.">Check the session id; co-browsing events are kept for 30 days.</Empty>}
      {items.length > 0 && (
        <>
          <p class="muted">{items.length} events on this page · {agents} by the agent, {items.length - agents} by the customer · started {fmtTime(items[0].occurredAt)}</p>
          <ul class="legend" aria-label="Legend"><li><span class="swatch agent" aria-hidden="true" />Agent</li><li><span class="swatch customer" aria-hidden="true" />Customer</li></ul>
          <ol class="session-timeline" aria-label="Session events, oldest first">
            {items.map((e) => (
              <li key={e.id} class={e.isAgent ? 'agent' : 'customer'} data-type={e.type}>
                <span class="who-tag">{e.isAgent ? 'Agent' : 'Customer'}</span>
                <time datetime={e.occurredAt}>+{((Date.parse(e.occurredAt) - start) / 1000).toFixed(1)} s <span class="muted">{fmtTime(e.occurredAt)}</span></time>
                <strong>{TYPE_NAME[e.type] || e.type}</strong>
                <span class="ev-summary">{e.type === 'INPUT' ? <>{e.data?.element}: <code class="input-text">{e.data?.text}</code></> : summary(e)}</span>
                <span class="muted">{e.actor?.name || e.actor?.id ? actorLabel(e.actor) : ''}</span>
              </li>
            ))}
          </ol>
          <Pager pager={pager} busy={res.loading} nextCursor={res.data?.nextCursor} count={items.length} label="Session events" />
        </>
      )}
    </Page>
  );
}
