// Manager › Log integrity (admin): the tenant's latest signed checkpoint (GET /v1/log/checkpoint),
// the public verifier key, the checkpoint as a file for `contrail-verify -saved`, verifiable
// exports of a period (POST /v1/exports, format bundle) and how to run contrail-verify on one.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api.js';
import { session } from '../session.js';
import { browserTz, todayIn, addDays, fmtTime, fmtDate, num, download } from '../format.js';
import { Page, Loading, Empty, ErrorBox, Field, useLoad, Forbidden, Notice } from '../ui.jsx';

const INSTALL = 'go install github.com/contrail/contrail/cmd/contrail-verify@latest';
// contrail-verify's default -max-age: an older checkpoint fails its freshness check.
const MAX_AGE_MS = 2 * 3600e3;

// "N minutes ago", counted from now.
function ago(iso, now = Date.now()) {
  const m = Math.floor((now - Date.parse(iso)) / 60e3);
  if (!isFinite(m)) return '';
  if (m < 1) return 'less than a minute ago';
  if (m < 120) return m === 1 ? '1 minute ago' : `${m} minutes ago`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h} hours ago` : `${Math.floor(h / 24)} days ago`;
}

// The command that verifies a downloaded bundle against this tenant's keys and the checkpoint
// saved here, and saves the bundle's checkpoint for the next run.
function verifyCommand(keys, tenant, file) {
  const saved = `${tenant}.checkpoint`;
  return ['contrail-verify', ...keys.flatMap((k) => ['-key', k]), '-tenant', tenant, '-saved', saved, '-save', saved, file].join(' ');
}

// The name of an export's file (docs/api.md, Verifiable export): the dates as asked, to exclusive.
const bundleName = (tenant, asked) => `contrail-log-${tenant}-${asked.from}-${addDays(asked.to, 1)}.json.gz`;

// Draws again every ms, so "N minutes ago" keeps counting.
function useTick(ms = 30e3) {
  const [, setN] = useState(0);
  useEffect(() => {
    const t = setInterval(() => setN((n) => n + 1), ms);
    return () => clearInterval(t);
  }, [ms]);
}

// A button that copies text; if the browser refuses, the text is selected for Ctrl+C.
function CopyButton({ text, label, target, onDone }) {
  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      onDone({ text: `${label} copied.` });
    } catch {
      const el = document.getElementById(target);
      if (el) getSelection().selectAllChildren(el);
      onDone({ kind: 'warn', text: `The browser did not allow copying: the ${label.toLowerCase()} is selected, press Ctrl+C (⌘C) to copy it.` });
    }
  }
  return <button type="button" class="secondary small" onClick={copy} aria-describedby={target}>Copy {label.toLowerCase()}</button>;
}

export function LogIntegrity() {
  const res = useLoad(() => api('/v1/log/checkpoint'), []);
  const [notice, setNotice] = useState(null);
  const [jobs, setJobs] = useState([]);
  useTick();
  const crumbs = [['Manager', null], ['Log integrity']];
  const title = 'Log integrity';
  const subtitle = 'Every audit event of your tenant is a leaf of an append-only log that Contrail signs at least hourly. With the public key and a verifiable export, you or your auditor can check offline that no event was changed, removed or reordered.';
  if (res.error?.status === 403) return <Forbidden what="the log's checkpoints" />;
  if (res.loading && !res.data) return <Page title={title} subtitle={subtitle} crumbs={crumbs}><Loading what="Loading the latest checkpoint" /></Page>;
  if (res.error?.code === 'no_log') {
    return (
      <Page title={title} subtitle={subtitle} crumbs={crumbs}>
        <Empty title="No checkpoint yet: this tenant's log is empty.">Contrail signs the first checkpoint within minutes of the tenant's first audit event (adding a contact is one). Then its key, a verifiable export and the steps to verify it appear here.</Empty>
        <button type="button" class="secondary" onClick={res.reload}>Check again</button>
      </Page>
    );
  }
  if (res.error || !res.data) return <Page title={title} subtitle={subtitle} crumbs={crumbs}><ErrorBox error={res.error} onRetry={res.reload} /></Page>;
  const c = res.data;
  const now = Date.now();
  const stale = now - Date.parse(c.time) > MAX_AGE_MS;
  const keys = c.verifierKeys || [];
  // The tenant as the log names it (the origin contrail-verify checks), else the session's.
  const tenant = c.origin.startsWith('contrail/') ? c.origin.slice('contrail/'.length) : session()?.tenant;
  const done = jobs.find((j) => j.status === 'done');
  const cmd = verifyCommand(keys, tenant, done ? bundleName(tenant, done.asked) : 'bundle.json.gz');
  return (
    <Page title={title} subtitle={subtitle} crumbs={crumbs}>
      <Notice notice={notice} />
      <section class="card" aria-labelledby="cp-h">
        <div class="card-head">
          <h2 id="cp-h">Latest checkpoint</h2>
          <button type="button" class="link" onClick={res.reload}>Refresh</button>
        </div>
        <dl class="details" id="checkpoint">
          <dt>Log</dt><dd data-field="origin"><code>{c.origin}</code></dd>
          <dt>Tree size</dt><dd data-field="size">{num(c.size)} {c.size === 1 ? 'event' : 'events'}</dd>
          <dt>Signed</dt><dd data-field="time"><time datetime={c.time}>{fmtTime(c.time)}</time> ({ago(c.time, now)})</dd>
          <dt>Root hash</dt><dd data-field="root"><code>{c.rootHash}</code></dd>
        </dl>
        {stale && <p class="notice warn">This checkpoint is more than 2 hours old: Contrail signs one at least hourly, so contrail-verify's freshness check fails on an export made now. Try again in a few minutes; if it stays old, contact support.</p>}
        <p class="muted">Save the checkpoint and keep it: a later export must extend it, so history rewritten or cut short since today shows.</p>
        <button type="button" onClick={() => download(`${tenant}.checkpoint`, c.checkpoint, 'text/plain;charset=utf-8', false)}>Save this checkpoint</button>
      </section>
      <section class="card" aria-labelledby="key-h">
        <h2 id="key-h">Verifier key</h2>
        <p class="muted">The public key that checks the checkpoints' signatures. Keep a copy, and compare it once with another admin's or your auditor's: a check is only as good as its key.{keys.length > 1 ? ' Older keys still verify the checkpoints they signed.' : ''}</p>
        <ul class="plain keys">
          {keys.map((k, i) => (
            <li key={k}><code id={'vkey-' + i} class="key">{k}</code> {keys.length > 1 && <span class="badge">{i === 0 ? 'current' : 'earlier'}</span>} <CopyButton text={k} label={keys.length > 1 ? `Key ${i + 1}` : 'Key'} target={'vkey-' + i} onDone={setNotice} /></li>
          ))}
        </ul>
      </section>
      <ExportForm jobs={jobs} setJobs={setJobs} />
      <section class="card" aria-labelledby="howto-h">
        <h2 id="howto-h">How to verify an export</h2>
        <ol class="steps">
          <li>
            <p>Install <code>contrail-verify</code> (Go 1.26; it needs no account, credentials or network):</p>
            <pre id="cmd-install"><code>{INSTALL}</code></pre>
            <CopyButton text={INSTALL} label="Install command" target="cmd-install" onDone={setNotice} />
          </li>
          <li>
            <p>In the folder that holds the downloaded export and the saved checkpoint (<code>{tenant}.checkpoint</code>), run{done ? '' : <> this, with the export's file name in place of <code>bundle.json.gz</code></>}:</p>
            <pre id="cmd-verify"><code>{cmd}</code></pre>
            <CopyButton text={cmd} label="Verify command" target="cmd-verify" onDone={setNotice} />
          </li>
          <li><p>It prints one line starting with <code>OK</code> and exits with status 0 when every event is there, in order and unchanged; otherwise a line starting with <code>FAIL</code>, then which event or range is wrong and why. It replaces <code>{tenant}.checkpoint</code> only when everything verified: keep that file for the next run (without a saved checkpoint the first time, leave out <code>-saved</code>).</p></li>
        </ol>
      </section>
    </Page>
  );
}

// Verifiable exports of a period: POST /v1/exports {report: audit, format: bundle}; each job
// requested here is listed and watched until it is done or failed.
function ExportForm({ jobs, setJobs }) {
  const tz = browserTz();
  const today = todayIn(tz);
  const [from, setFrom] = useState(addDays(today, -6));
  const [to, setTo] = useState(today);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const timers = useRef(new Set());
  useEffect(() => () => timers.current.forEach(clearTimeout), []);
  const put = (j) => setJobs((js) => js.map((x) => (x.id === j.id ? { ...x, ...j } : x)));
  function watch(id, n = 0) {
    const t = setTimeout(async () => {
      timers.current.delete(t);
      try {
        const j = await api('/v1/exports/' + encodeURIComponent(id));
        put(j);
        if ((j.status === 'pending' || j.status === 'running') && n < 120) watch(id, n + 1);
      } catch (e) {
        put({ id, status: 'unknown', error: e.message });
      }
    }, 1000);
    timers.current.add(t);
  }
  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const j = await api('/v1/exports', { method: 'POST', body: { report: 'audit', format: 'bundle', from, to: addDays(to, 1), tz } });
      // The period as asked (the API answers it as UTC instants).
      setJobs((js) => [{ ...j, asked: { from, to, tz } }, ...js]);
      watch(j.id);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <section class="card" aria-labelledby="export-h">
      <h2 id="export-h">Verifiable export</h2>
      <p class="muted">A bundle of the period's audit events as stored, with their places in the log, the latest checkpoint and the proofs that tie them together: everything <code>contrail-verify</code> needs, and nothing it has to trust.</p>
      <form class="inline-form" onSubmit={submit} noValidate aria-label="Request a verifiable export">
        <Field label="From" id="vx-from" error={error?.fields?.from}><input id="vx-from" type="date" value={from} max={to} onInput={(e) => setFrom(e.currentTarget.value)} required aria-invalid={error?.fields?.from ? 'true' : undefined} aria-describedby={error?.fields?.from ? 'vx-from-error' : undefined} /></Field>
        <Field label="To (inclusive)" id="vx-to" error={error?.fields?.to}><input id="vx-to" type="date" value={to} min={from} onInput={(e) => setTo(e.currentTarget.value)} required aria-invalid={error?.fields?.to ? 'true' : undefined} aria-describedby={error?.fields?.to ? 'vx-to-error' : undefined} /></Field>
        <p class="muted" id="vx-tz">Days in {tz}.</p>
        <button type="submit" disabled={busy || !from || !to} aria-describedby="vx-tz">{busy ? 'Requesting…' : 'Request verifiable export'}</button>
      </form>
      <ErrorBox error={error} />
      {jobs.length > 0 && (
        <div class="table-wrap">
          <table class="data" id="exports-table">
            <caption class="sr-only">Verifiable exports requested on this page, newest first</caption>
            <thead><tr><th scope="col">Export</th><th scope="col">Period</th><th scope="col">Status</th><th scope="col" class="num">Events</th><th scope="col">File</th></tr></thead>
            <tbody aria-live="polite">
              {jobs.map((j) => (
                <tr key={j.id} data-export={j.id}>
                  <td><code>{j.id}</code></td>
                  <td>{fmtDate(j.asked.from)} – {fmtDate(j.asked.to)} ({j.asked.tz})</td>
                  <td data-status={j.status}>{j.status}{j.error ? `: ${j.error}` : ''}</td>
                  <td class="num">{j.rows != null ? num(j.rows) : '—'}</td>
                  <td>{j.url ? <a href={j.url}>Download bundle<span class="sr-only"> {j.id}</span></a> : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {jobs.length > 0 && <p class="muted">A download link is valid 15 minutes.</p>}
    </section>
  );
}
