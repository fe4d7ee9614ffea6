// Reports › Contact (admin): overview, the four logs, exports and export schedules.
import { useEffect, useState, useRef } from 'preact/hooks';
import { api } from '../api.js';
import { href, navigate } from '../router.js';
import { PRESETS, presetPeriod, browserTz, validTz, addDays, fmtTime, fmtDate, num, toCSV, download, zonedMidnight } from '../format.js';
import { Page, Loading, Empty, ErrorBox, Field, Dialog, usePager, Pager, useLoad, Notice, Forbidden } from '../ui.jsx';

const KINDS = ['added', 'connected', 'deleted', 'merged'];
const KIND_LABEL = { added: 'Added', connected: 'Connected', deleted: 'Deleted', merged: 'Merged', archived: 'Archived', unarchived: 'Unarchived' };
const LOGS = {
  added: { title: 'Contact Added Log', cols: [['createdAt', 'Created At'], ['contactId', 'Contact ID'], ['contactName', 'Contact Name'], ['source', 'Source'], ['user', 'User']] },
  connected: { title: 'Contact Connected Log', cols: [['createdAt', 'Created At'], ['contactId', 'Contact ID'], ['contactName', 'Contact Name'], ['source', 'Source'], ['user', 'User'], ['channel', 'Channel']] },
  deleted: { title: 'Contact Deleted Log', cols: [['createdAt', 'Created At'], ['contactId', 'Contact ID'], ['contactName', 'Contact Name'], ['source', 'Source'], ['user', 'User']] },
  merged: { title: 'Contact Merged Log', cols: [['createdAt', 'Created At'], ['primaryContactId', 'Primary Contact ID'], ['contactName', 'Contact Name'], ['mergedContactIds', 'Merged Contact IDs'], ['source', 'Source'], ['user', 'User']] },
};

// The period of the URL: preset (default last 30 days) or custom from/to, in tz.
function periodOf(q) {
  const tz = q.tz && validTz(q.tz) ? q.tz : browserTz();
  const preset = q.preset || (q.from && q.to ? 'custom' : '30d');
  const p = preset === 'custom' && q.from && q.to ? { from: q.from, to: q.to } : presetPeriod(preset, tz);
  return { ...p, tz, preset };
}
const periodQuery = (p) => ({ preset: p.preset === 'custom' ? undefined : p.preset, from: p.preset === 'custom' ? p.from : undefined, to: p.preset === 'custom' ? p.to : undefined, tz: p.tz });
const logQuery = (p, extra) => ({ from: p.from, to: p.to, tz: p.tz, ...extra });
const periodText = (p) => (p.to === addDays(p.from, 1) ? fmtDate(p.from) : `${fmtDate(p.from)} – ${fmtDate(addDays(p.to, -1))}`) + ` (${p.tz})`;

function Tabs({ current }) {
  const tabs = [['overview', 'Overview', '/reports/contact'], ...KINDS.map((k) => [k, KIND_LABEL[k] + ' log', '/reports/contact/' + k]), ['schedules', 'Export schedules', '/reports/schedules']];
  return (
    <nav class="tabs" aria-label="Contact reports">
      <ul>{tabs.map(([k, l, p]) => <li key={k}><a href={href(p)} aria-current={current === k ? 'page' : undefined}>{l}</a></li>)}</ul>
    </nav>
  );
}

function PeriodPicker({ period, onChange }) {
  const [from, setFrom] = useState(period.from);
  const [toIncl, setToIncl] = useState(addDays(period.to, -1));
  const [tz, setTz] = useState(period.tz);
  const zones = useRef(typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [period.tz]);
  useEffect(() => { setFrom(period.from); setToIncl(addDays(period.to, -1)); setTz(period.tz); }, [period.from, period.to, period.tz]);
  const choose = (preset) => onChange(preset === 'custom' ? { preset, from, to: addDays(toIncl, 1), tz } : { preset, tz });
  return (
    <form class="period" onSubmit={(e) => { e.preventDefault(); onChange({ preset: 'custom', from, to: addDays(toIncl, 1), tz }); }} aria-label="Report period">
      <div class="field">
        <label for="period-preset">Period</label>
        <select id="period-preset" value={period.preset} onChange={(e) => choose(e.currentTarget.value)}>
          {PRESETS.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
        </select>
      </div>
      {period.preset === 'custom' && (
        <>
          <div class="field"><label for="period-from">From</label><input id="period-from" type="date" value={from} max={toIncl} onInput={(e) => setFrom(e.currentTarget.value)} required /></div>
          <div class="field"><label for="period-to">To (inclusive)</label><input id="period-to" type="date" value={toIncl} min={from} onInput={(e) => setToIncl(e.currentTarget.value)} required /></div>
        </>
      )}
      <div class="field">
        <label for="period-tz">Time zone</label>
        <select id="period-tz" value={tz} onChange={(e) => { setTz(e.currentTarget.value); onChange({ ...period, from, to: period.preset === 'custom' ? addDays(toIncl, 1) : period.to, tz: e.currentTarget.value }); }}>
          {(zones.current.includes(tz) ? zones.current : [tz, ...zones.current]).map((z) => <option key={z}>{z}</option>)}
        </select>
      </div>
      {period.preset === 'custom' && <button type="submit">Apply</button>}
    </form>
  );
}

export function Overview({ query }) {
  const period = periodOf(query);
  const ov = useLoad(() => api('/v1/reports/contacts/overview', { query: { from: period.from, to: period.to, tz: period.tz } }), [period.from, period.to, period.tz]);
  const [exportOpen, setExportOpen] = useState(false);
  if (ov.error?.status === 403) return <Forbidden what="Reports" />;
  const d = ov.data;
  const setPeriod = (p) => navigate(href('/reports/contact', periodQuery({ ...period, ...p })));
  const logLink = (kind, extra) => href('/reports/contact/' + kind, logQuery(period, extra));
  const auditLink = (type) => href('/manager/activity-logs', { type, from: zonedMidnight(period.from, period.tz), to: zonedMidnight(period.to, period.tz) });
  const total = d ? KINDS.reduce((n, k) => n + d.totals[k], 0) + d.totals.archived + d.totals.unarchived : 0;
  return (
    <Page title="Contact Overview" subtitle="Contacts added, connected, deleted, merged, archived and unarchived in the period. Every number opens the events behind it."
      crumbs={[['Reports', null], ['Contact']]}
      actions={<button type="button" class="secondary" onClick={() => setExportOpen(true)}>Export and email me</button>}>
      <Tabs current="overview" />
      <PeriodPicker period={period} onChange={setPeriod} />
      {ov.loading && <Loading what="Loading the overview" />}
      <ErrorBox error={ov.error} onRetry={ov.reload} />
      {d && (
        <>
          <p class="freshness" role="status">
            {periodText(period)} · {d.archivedThrough ? <>Up to date as of <time datetime={d.archivedThrough}>{fmtTime(d.archivedThrough, period.tz)}</time>; later events may not be counted yet.</> : 'Freshness unknown.'}{' '}
            <button type="button" class="link" onClick={ov.reload}>Refresh</button>
          </p>
          <ul class="totals" aria-label="Totals">
            {KINDS.map((k) => (
              <li key={k} class={'total k-' + k}>
                <a href={logLink(k)} aria-label={`${num(d.totals[k])} ${KIND_LABEL[k].toLowerCase()}: open the ${KIND_LABEL[k]} log`} data-total={k}>
                  <span class="total-n">{num(d.totals[k])}</span><span class="total-l">{KIND_LABEL[k]}</span>
                </a>
              </li>
            ))}
            {['archived', 'unarchived'].map((k) => (
              <li key={k} class={'total k-' + k}>
                <a href={auditLink(k === 'archived' ? 'CONTACT_ARCHIVED' : 'CONTACT_UNARCHIVED')} aria-label={`${num(d.totals[k])} ${k}: open the activity log`} data-total={k}>
                  <span class="total-n">{num(d.totals[k])}</span><span class="total-l">{KIND_LABEL[k]}</span>
                </a>
              </li>
            ))}
          </ul>
          {total === 0 && <Empty title="Nothing happened in this period.">Pick a longer period, or add contacts on the Contacts page: they are counted here within seconds.</Empty>}
          <DailyChart daily={d.daily} link={(k, date) => href('/reports/contact/' + k, { from: date, to: addDays(date, 1), tz: period.tz })} />
          <div class="breakdowns">
            <Breakdown title="By source" id="by-source" rows={Object.entries(d.bySource || {}).map(([key, c]) => ({ key, label: key.replace(/_/g, ' '), ...c }))} link={(k, key) => logLink(k, { source: key })} empty="No events with a source in this period." />
            <Breakdown title="By channel" id="by-channel" rows={Object.entries(d.byChannel || {}).map(([key, c]) => ({ key, label: key, ...c }))} link={(k, key) => logLink(k, { channel: key })} empty="No channel connections in this period. Connect a channel on a contact's page." />
            <Breakdown title="By user" id="by-user" rows={(d.byUser || []).map((u) => ({ key: u.userId, label: u.userName || u.userId || 'Contrail (system)', ...u }))} link={(k, key) => logLink(k, { user: key })} empty="No user did anything in this period." keepOrder />
          </div>
        </>
      )}
      <ExportDialog open={exportOpen} onClose={() => setExportOpen(false)} report="overview" period={period} />
    </Page>
  );
}

function DailyChart({ daily, link }) {
  const max = Math.max(1, ...daily.flatMap((d) => KINDS.map((k) => d[k])));
  const W = 900, H = 220, pad = 28, bw = (W - pad) / daily.length;
  const b = Math.max(1, (bw - 4) / 4);
  const ticks = [0, Math.ceil(max / 2), max];
  return (
    <section class="card chart" aria-labelledby="daily-h">
      <div class="card-head">
        <h2 id="daily-h">Daily</h2>
        <ul class="legend" aria-label="Legend">{KINDS.map((k) => <li key={k}><span class={'swatch k-' + k} aria-hidden="true" />{KIND_LABEL[k]}</li>)}</ul>
      </div>
      <svg viewBox={`0 0 ${W} ${H + 20}`} role="img" aria-label={`Daily counts of added, connected, deleted and merged contacts over ${daily.length} days; the table below lists them.`} class="daily">
        {ticks.map((t) => <g key={t}><line x1={pad} x2={W} y1={H - (t / max) * (H - 10)} y2={H - (t / max) * (H - 10)} class="grid" /><text x={pad - 4} y={H - (t / max) * (H - 10) + 4} class="tick" text-anchor="end">{t}</text></g>)}
        {daily.map((d, i) => (
          <g key={d.date}>
            {KINDS.map((k, j) => {
              const h = (d[k] / max) * (H - 10);
              return d[k] > 0 ? (
                <rect key={k} x={pad + i * bw + 2 + j * b} y={H - h} width={b} height={h} class={'bar k-' + k} onClick={() => navigate(link(k, d.date))}><title>{`${fmtDate(d.date)}: ${d[k]} ${k}`}</title></rect>
              ) : null;
            })}
            {(daily.length <= 10 || i % Math.ceil(daily.length / 10) === 0) && <text x={pad + i * bw + bw / 2} y={H + 16} class="tick" text-anchor="middle">{d.date.slice(5)}</text>}
          </g>
        ))}
      </svg>
      <details>
        <summary>Daily counts as a table</summary>
        <table class="data compact">
          <caption class="sr-only">Daily counts; each number opens that day's log</caption>
          <thead><tr><th scope="col">Date</th>{KINDS.map((k) => <th key={k} scope="col" class="num">{KIND_LABEL[k]}</th>)}</tr></thead>
          <tbody>{[...daily].reverse().map((d) => <tr key={d.date}><th scope="row">{fmtDate(d.date)}</th>{KINDS.map((k) => <td key={k} class="num">{d[k] ? <a href={link(k, d.date)} aria-label={`${d[k]} ${k} on ${fmtDate(d.date)}`}>{d[k]}</a> : 0}</td>)}</tr>)}</tbody>
        </table>
      </details>
    </section>
  );
}

function Breakdown({ title, id, rows, link, empty, keepOrder }) {
  const ranked = keepOrder ? rows : [...rows].sort((a, b) => KINDS.reduce((n, k) => n + b[k], 0) - KINDS.reduce((n, k) => n + a[k], 0) || a.label.localeCompare(b.label));
  const max = Math.max(1, ...ranked.map((r) => KINDS.reduce((n, k) => n + r[k], 0)));
  return (
    <section class="card breakdown" aria-labelledby={id + '-h'} id={id}>
      <h2 id={id + '-h'}>{title}</h2>
      {ranked.length === 0 ? <p class="muted">{empty}</p> : (
        <table class="data compact ranked">
          <thead><tr><th scope="col">{title.replace('By ', '').replace(/^./, (c) => c.toUpperCase())}</th>{KINDS.map((k) => <th key={k} scope="col" class="num">{KIND_LABEL[k]}</th>)}</tr></thead>
          <tbody>
            {ranked.map((r) => {
              const sum = KINDS.reduce((n, k) => n + r[k], 0);
              return (
                <tr key={r.key}>
                  <th scope="row">
                    <span class="rank-label">{r.label}</span>
                    <span class="rank-bar" aria-hidden="true">{KINDS.map((k) => r[k] > 0 && <span key={k} class={'k-' + k} style={{ width: `${(r[k] / max) * 100}%` }} />)}</span>
                    <span class="sr-only">{sum} in all</span>
                  </th>
                  {KINDS.map((k) => <td key={k} class="num">{r[k] ? <a href={link(k, r.key)} aria-label={`${r[k]} ${k} by ${r.label}`}>{num(r[k])}</a> : <span class="muted">0</span>}</td>)}
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function ReportLog({ log, query }) {
  const def = LOGS[log];
  const period = periodOf(query.from && query.to ? { ...query, preset: query.preset || 'custom' } : query);
  const filters = { source: query.source, channel: query.channel, user: query.user };
  const [limit, setLimit] = useState(50);
  const key = JSON.stringify([log, period.from, period.to, period.tz, filters, limit]);
  const pager = usePager(key);
  const res = useLoad(() => (def ? api('/v1/reports/contacts/' + log, { query: { from: period.from, to: period.to, tz: period.tz, ...filters, limit, cursor: pager.cursor } }) : Promise.resolve(null)), [key, pager.cursor]);
  const [exportOpen, setExportOpen] = useState(false);
  const [csvState, setCsvState] = useState(null);
  if (!def) return <Page title="No such report"><p>There is no “{log}” log. Open the <a href={href('/reports/contact')}>Contact Overview</a>.</p></Page>;
  if (res.error?.status === 403) return <Forbidden what="Reports" />;
  const items = res.data?.items || [];
  const setPeriod = (p) => {
    const np = { ...period, ...p };
    const pp = np.preset === 'custom' ? { from: np.from, to: np.to } : presetPeriod(np.preset, np.tz);
    navigate(href('/reports/contact/' + log, { ...pp, tz: np.tz, preset: np.preset === 'custom' ? undefined : np.preset, ...filters }));
  };
  const without = (k) => href('/reports/contact/' + log, { ...query, [k]: undefined });
  const active = Object.entries(filters).filter(([, v]) => v !== undefined);
  const fileBase = `contact-${log}-${period.from}-${period.to}`;
  const cell = (r, k) => (k === 'createdAt' ? fmtTime(r[k], period.tz) : Array.isArray(r[k]) ? r[k].join(' ') : r[k] || '');
  function csvOnScreen() {
    download(`${fileBase}-page${pager.page}.csv`, toCSV(def.cols.map((c) => c[1]), items.map((r) => def.cols.map(([k]) => r[k]))));
  }
  async function csvWhole() {
    setCsvState({ busy: true });
    try {
      const r = await api('/v1/reports/contacts/' + log, { query: { from: period.from, to: period.to, tz: period.tz, ...filters, format: 'csv' }, raw: true, headers: { Accept: 'text/csv' } });
      const blob = await r.blob();
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = `${fileBase}.csv`;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
      setCsvState(null);
    } catch (e) {
      setCsvState({ error: e });
    }
  }
  return (
    <Page title={def.title} subtitle={`${periodText(period)} · newest first`} crumbs={[['Reports', null], ['Contact', href('/reports/contact', periodQuery(period))], [def.title]]}
      actions={<>
        <button type="button" class="secondary" onClick={csvOnScreen} disabled={!items.length}>Download CSV (rows on screen)</button>
        <button type="button" class="secondary" onClick={csvWhole} disabled={csvState?.busy}>{csvState?.busy ? 'Preparing…' : 'Download CSV (whole period)'}</button>
        <button type="button" class="secondary" onClick={() => setExportOpen(true)}>Export and email me</button>
      </>}>
      <Tabs current={log} />
      <PeriodPicker period={period} onChange={setPeriod} />
      {active.length > 0 && (
        <ul class="chips" aria-label="Active filters">
          {active.map(([k, v]) => <li key={k}><span>{k}: <strong>{v === '' ? '(none)' : v}</strong></span> <a href={without(k)} aria-label={`Remove the ${k} filter`}>✕</a></li>)}
        </ul>
      )}
      <ErrorBox error={csvState?.error} />
      {res.loading && <Loading what="Loading the log" />}
      <ErrorBox error={res.error} onRetry={res.reload} />
      {!res.loading && !res.error && items.length === 0 && (
        <Empty title={pager.page > 1 ? 'No more rows.' : 'No events in this period.'}>{pager.page > 1 ? 'Go back a page.' : 'Pick a longer period or remove a filter. Events are counted within seconds of happening.'}</Empty>
      )}
      {items.length > 0 && (
        <div class="table-wrap">
          <table class="data log" id="log-table" aria-busy={res.loading ? 'true' : 'false'}>
            <caption class="sr-only">{def.title}, page {pager.page}</caption>
            <thead><tr>{def.cols.map(([k, l]) => <th key={k} scope="col">{l}</th>)}</tr></thead>
            <tbody>
              {items.map((r) => (
                <tr key={(r.contactId || r.primaryContactId) + r.createdAt}>
                  {def.cols.map(([k]) => <td key={k} data-col={k}>{k === 'contactId' || k === 'primaryContactId' ? <a href={href('/contacts/' + encodeURIComponent(r[k]))}>{r[k]}</a> : cell(r, k)}</td>)}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div class="toolbar">
        {(items.length > 0 || pager.page > 1) && <Pager pager={pager} busy={res.loading} nextCursor={res.data?.nextCursor} count={items.length} label={def.title} />}
        <label class="inline">Rows per page <select value={limit} onChange={(e) => setLimit(+e.currentTarget.value)}>{[10, 25, 50, 100, 500].map((n) => <option key={n}>{n}</option>)}</select></label>
      </div>
      <ExportDialog open={exportOpen} onClose={() => setExportOpen(false)} report={log} period={period} filters={Object.fromEntries(active)} />
    </Page>
  );
}

// The formats of a contact report's export.
const REPORT_FORMATS = [['csv', 'CSV'], ['parquet', 'Parquet']];

// "Export and email me": POST /v1/exports, then watch the job until it is done or failed.
// description says what is exported (default: the report for the period and its filters).
export function ExportDialog({ open, onClose, report, period, filters = {}, formats = REPORT_FORMATS, description }) {
  const [email, setEmail] = useState('');
  const [format, setFormat] = useState('csv');
  const [job, setJob] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const timer = useRef(null);
  useEffect(() => () => clearTimeout(timer.current), []);
  async function poll(id, n = 0) {
    try {
      const j = await api('/v1/exports/' + encodeURIComponent(id));
      setJob(j);
      if ((j.status === 'pending' || j.status === 'running') && n < 60) timer.current = setTimeout(() => poll(id, n + 1), 1000);
    } catch (e) {
      setError(e);
    }
  }
  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setJob(null);
    try {
      const body = { report, from: period.from, to: period.to, tz: period.tz, format, ...filters };
      if (email.trim()) body.email = email;
      const j = await api('/v1/exports', { method: 'POST', body });
      setJob(j);
      poll(j.id);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <Dialog open={open} onClose={() => { clearTimeout(timer.current); setJob(null); setError(null); onClose(); }} title="Export and email me" id="export">
      <form onSubmit={submit} noValidate>
        <p class="muted">{description || <>Exports the whole {report === 'overview' ? 'overview' : `${report} log`} for {periodText(period)}{Object.keys(filters).length ? ` (${Object.entries(filters).map(([k, v]) => `${k} ${v || '(none)'}`).join(', ')})` : ''}, any size.</>} The link is emailed when the file is ready and is shown here.</p>
        <Field label="Email the link to" id="ex-email" error={error?.fields?.email}><input id="ex-email" type="email" value={email} onInput={(e) => setEmail(e.currentTarget.value)} autocomplete="email" /></Field>
        <Field label="Format" id="ex-format"><select id="ex-format" value={format} onChange={(e) => setFormat(e.currentTarget.value)}>{formats.map(([v, label]) => <option key={v} value={v}>{label}</option>)}</select></Field>
        <ErrorBox error={error} />
        {job && (
          <div class={'notice ' + (job.status === 'failed' ? 'danger' : job.status === 'done' ? 'ok' : '')} role="status" aria-live="polite">
            <p>Export {job.id}: <strong data-status={job.status}>{job.status}</strong>{job.rows != null ? `, ${job.rows} rows` : ''}.</p>
            {job.error && <p>{job.error}</p>}
            {job.url && <p><a href={job.url} target="_blank" rel="noopener">Download the file</a> (link valid 15 minutes){email ? `; also emailed to ${email}` : ''}.</p>}
          </div>
        )}
        <div class="dialog-actions"><button type="button" class="secondary" onClick={onClose}>Close</button><button type="submit" disabled={busy}>Start export</button></div>
      </form>
    </Dialog>
  );
}

export function Schedules() {
  const list = useLoad(() => api('/v1/export-schedules', { query: { limit: 100 } }), []);
  const blank = { name: '', report: 'added', frequency: 'weekly', format: 'csv', recipients: '', tz: browserTz() };
  const [f, setF] = useState(blank);
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState(null);
  const [busy, setBusy] = useState(false);
  const [del, setDel] = useState(null);
  const [delError, setDelError] = useState(null);
  if (list.error?.status === 403) return <Forbidden what="export schedules" />;
  const set = (k) => (e) => setF({ ...f, [k]: e.currentTarget.value });
  async function create(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const recipients = f.recipients.split(/[\s,;]+/).filter(Boolean);
      await api('/v1/export-schedules/' + encodeURIComponent(f.name.trim()), { method: 'PUT', body: { report: f.report, frequency: f.frequency, format: f.format, recipients, tz: f.tz } });
      setNotice({ text: `Schedule “${f.name.trim()}” saved.` });
      setF(blank);
      list.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  async function remove() {
    setDelError(null);
    try {
      await api('/v1/export-schedules/' + encodeURIComponent(del.name), { method: 'DELETE' });
      setNotice({ text: `Schedule “${del.name}” deleted.` });
      setDel(null);
      list.reload();
    } catch (err) {
      setDelError(err);
    }
  }
  const items = list.data?.items || [];
  // The browser's list leaves out UTC (and any zone it calls by another name): the chosen zone
  // is always an option, so the select never shows blank while it sends a value.
  const supported = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  const zones = supported.includes(f.tz) ? supported : [f.tz, ...supported];
  return (
    <Page title="Export schedules" subtitle="Reports emailed on a schedule: each run exports the previous full day, week or month in the schedule's time zone." crumbs={[['Reports', null], ['Contact', href('/reports/contact')], ['Export schedules']]}>
      <Tabs current="schedules" />
      <Notice notice={notice} />
      {list.loading && <Loading what="Loading schedules" />}
      <ErrorBox error={list.error} onRetry={list.reload} />
      {!list.loading && !list.error && items.length === 0 && <Empty title="No export schedules yet.">Create one below to get a report by email every day, week or month.</Empty>}
      {items.length > 0 && (
        <div class="table-wrap">
          <table class="data" id="schedules-table">
            <caption class="sr-only">Export schedules</caption>
            <thead><tr><th scope="col">Name</th><th scope="col">Report</th><th scope="col">Frequency</th><th scope="col">Format</th><th scope="col">Recipients</th><th scope="col">Time zone</th><th scope="col">Next run</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
            <tbody>{items.map((s) => (
              <tr key={s.name}><td>{s.name}</td><td>{s.report}</td><td>{s.frequency}</td><td>{s.format}</td><td>{(s.recipients || []).join(', ')}</td><td>{s.tz}</td><td>{s.nextRunAt ? fmtTime(s.nextRunAt) : '—'}</td>
                <td><button type="button" class="danger small" onClick={() => setDel(s)} aria-label={`Delete schedule ${s.name}`}>Delete</button></td></tr>
            ))}</tbody>
          </table>
        </div>
      )}
      <form class="card schedule-form" onSubmit={create} noValidate aria-labelledby="new-sched-h">
        <h2 id="new-sched-h">New schedule</h2>
        <div class="form-grid">
          <Field label="Name" id="sc-name" hint="Letters, digits, - and _ (up to 64)." error={error?.fields?.name}><input id="sc-name" value={f.name} onInput={set('name')} required pattern="[A-Za-z0-9_-]{1,64}" aria-describedby="sc-name-hint" autocomplete="off" /></Field>
          <Field label="Report" id="sc-report" error={error?.fields?.report}><select id="sc-report" value={f.report} onChange={set('report')}>{['overview', 'added', 'connected', 'deleted', 'merged', 'audit'].map((r) => <option key={r}>{r}</option>)}</select></Field>
          <Field label="Frequency" id="sc-frequency"><select id="sc-frequency" value={f.frequency} onChange={set('frequency')}>{['daily', 'weekly', 'monthly'].map((r) => <option key={r}>{r}</option>)}</select></Field>
          <Field label="Format" id="sc-format" hint="ocsf: the audit report for security tools (SIEM), one OCSF event a line." error={error?.fields?.format}><select id="sc-format" value={f.format} onChange={set('format')} aria-describedby="sc-format-hint"><option>csv</option><option>parquet</option><option>ocsf</option></select></Field>
          <Field label="Recipients" id="sc-recipients" hint="Email addresses, separated by commas." error={error?.fields?.recipients}><input id="sc-recipients" value={f.recipients} onInput={set('recipients')} aria-describedby="sc-recipients-hint" autocomplete="off" /></Field>
          <Field label="Time zone" id="sc-tz"><select id="sc-tz" value={f.tz} onChange={set('tz')}>{zones.map((z) => <option key={z}>{z}</option>)}</select></Field>
        </div>
        <ErrorBox error={error} />
        <button type="submit" disabled={busy || !f.name.trim()}>Save schedule</button>
      </form>
      <Dialog open={!!del} onClose={() => { setDel(null); setDelError(null); }} title={`Delete schedule “${del?.name}”?`} id="del-schedule">
        <p>No more emails will be sent for it. Files already sent stay available until their links expire.</p>
        <ErrorBox error={delError} />
        <div class="dialog-actions"><button type="button" class="secondary" onClick={() => setDel(null)}>Keep it</button><button type="button" class="danger" onClick={remove}>Delete schedule</button></div>
      </Dialog>
    </Page>
  );
}
