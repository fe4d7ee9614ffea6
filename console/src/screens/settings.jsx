// Manager › Settings (admin): the tenant's settings (GET/PUT /v1/settings).
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { fmtTime } from '../format.js';
import { Page, Loading, ErrorBox, useLoad, Forbidden, Notice } from '../ui.jsx';

const INPUT_TEXT = [
  ['masked', 'Masked (recommended)', 'Store only how many characters were typed, shown as [masked].'],
  ['clear', 'Clear text', 'Store what was typed, except in fields the page marks sensitive (always masked).'],
];

export function Settings() {
  const res = useLoad(() => api('/v1/settings'), []);
  const [choice, setChoice] = useState(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState(null);
  if (res.error?.status === 403) return <Forbidden what="the settings" />;
  const crumbs = [['Manager', null], ['Settings']];
  if (res.error) return <Page title="Settings" crumbs={crumbs}><ErrorBox error={res.error} onRetry={res.reload} /></Page>;
  if (!res.data) return <Page title="Settings" crumbs={crumbs}><Loading what="Loading the settings" /></Page>;
  const saved = res.data.cobrowse.inputText;
  const current = choice || saved;
  async function save(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      await api('/v1/settings', { method: 'PUT', body: { cobrowse: { inputText: current }, version: res.data.version } });
      setChoice(null);
      setNotice({ text: 'Settings saved. The change is in the activity log.' });
      res.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  const by = res.data.updatedBy;
  return (
    <Page title="Settings" subtitle="What Contrail stores for your tenant. Every change is recorded in the activity log." crumbs={crumbs}>
      <Notice notice={notice} />
      <form class="card" onSubmit={save} aria-labelledby="cobrowse-h">
        <h2 id="cobrowse-h">Co-browsing</h2>
        <fieldset class="roles">
          <legend>Text typed into forms during a session</legend>
          {INPUT_TEXT.map(([v, label, help]) => (
            <label key={v} class="radio"><input type="radio" name="inputText" value={v} checked={current === v} onChange={() => setChoice(v)} /> <span><strong>{label}</strong><br /><span class="muted">{help}</span></span></label>
          ))}
        </fieldset>
        <p class="muted">{by ? <>Last changed by {by.name || by.id}, {fmtTime(res.data.updatedAt)}.</> : 'Never changed: the defaults apply.'} Applies to events received from now on.</p>
        <ErrorBox error={error} />
        <button type="submit" disabled={busy || current === saved}>{busy ? 'Saving…' : 'Save settings'}</button>
      </form>
    </Page>
  );
}
