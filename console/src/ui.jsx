// Shared pieces: page frame with focus management, loading/empty/error states, dialogs,
// pagers, fields, and a hook for loading data.
import { useEffect, useRef, useState, useCallback, useMemo } from 'preact/hooks';
import { describe } from './api.js';

export function Page({ title, subtitle, actions, children, crumbs }) {
  const h = useRef(null);
  useEffect(() => {
    document.title = `${title} · Contrail`;
    // Move focus to the new screen's heading so keyboard and screen-reader users start there.
    if (!document.activeElement || document.activeElement === document.body || document.activeElement.closest('nav, #signin')) h.current?.focus();
  }, [title]);
  return (
    <section class="page" aria-labelledby="page-title">
      {crumbs && (
        <nav aria-label="Breadcrumb" class="crumbs">
          <ol>{crumbs.map(([label, to]) => <li key={label}>{to ? <a href={to}>{label}</a> : <span aria-current="page">{label}</span>}</li>)}</ol>
        </nav>
      )}
      <header class="page-head">
        <div>
          <h1 id="page-title" tabIndex={-1} ref={h}>{title}</h1>
          {subtitle && <p class="subtitle">{subtitle}</p>}
        </div>
        {actions && <div class="page-actions">{actions}</div>}
      </header>
      {children}
    </section>
  );
}

export function Loading({ what = 'Loading' }) {
  return (
    <div class="loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" />
      {what}…
    </div>
  );
}

export function Empty({ title, children }) {
  return (
    <div class="empty" role="status">
      <p class="empty-title">{title}</p>
      {children && <p>{children}</p>}
    </div>
  );
}

export function ErrorBox({ error, onRetry }) {
  if (!error) return null;
  const d = describe(error);
  return (
    <div class="error" role="alert">
      <p class="error-title">{d.title}</p>
      <p>{d.message}</p>
      {d.fields?.length > 0 && <ul>{d.fields.map((f) => <li key={f}>{f}</li>)}</ul>}
      {onRetry && <button type="button" class="secondary" onClick={onRetry}>Try again</button>}
    </div>
  );
}

export function Forbidden({ what = 'this page' }) {
  return (
    <Page title="Forbidden">
      <div class="forbidden" role="alert">
        <p class="error-title">You do not have access to {what}.</p>
        <p>Your role may not open it: reports, exports and the activity logs are for tenant admins. Ask a tenant admin for access, or go back to <a href="/console/contacts">Contacts</a>.</p>
      </div>
    </Page>
  );
}

// Loads data; returns {data, error, loading, reload}. A 403 is passed up as forbidden.
export function useLoad(fn, deps) {
  const [state, set] = useState({ loading: true, data: null, error: null, gen: null });
  const seq = useRef(0);
  const gen = useMemo(() => ({}), deps); // one per deps: which deps the data on hand is for
  const run = useCallback(() => {
    const n = ++seq.current;
    set((s) => ({ ...s, loading: true, error: null, gen }));
    fn().then(
      (data) => n === seq.current && set({ loading: false, data, error: null, gen }),
      (error) => n === seq.current && set({ loading: false, data: null, error, gen }),
    );
  }, deps);
  useEffect(run, [run]);
  // Between new deps (the next page, other filters) and the effect that loads them, the data on
  // hand is the old deps': loading, so nothing acts on it (a pager's Next on the old cursor).
  return { ...state, loading: state.loading || state.gen !== gen, reload: run };
}

export function Field({ label, id, hint, error, children }) {
  return (
    <div class={'field' + (error ? ' invalid' : '')}>
      <label for={id}>{label}</label>
      {children}
      {hint && <small id={id + '-hint'}>{hint}</small>}
      {error && <small class="field-error" id={id + '-error'}>{error}</small>}
    </div>
  );
}

// A modal <dialog>: the browser traps focus and closes it on Escape; focus returns to the opener.
export function Dialog({ open, title, onClose, children, id }) {
  const ref = useRef(null);
  const opener = useRef(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) {
      opener.current = document.activeElement;
      d.showModal();
    } else if (!open && d.open) {
      d.close();
    }
    if (!open && opener.current) {
      opener.current.focus?.();
      opener.current = null;
    }
  }, [open]);
  return (
    <dialog ref={ref} aria-labelledby={id + '-title'} id={id} onClose={() => open && onClose()} onCancel={(e) => { e.preventDefault(); onClose(); }}>
      {open && (
        <div class="dialog-body">
          <h2 id={id + '-title'}>{title}</h2>
          {children}
        </div>
      )}
    </dialog>
  );
}

// Previous/next over nextCursor pages: a stack of the cursors that led to each page.
export function usePager(resetKey) {
  const [stack, setStack] = useState([null]);
  useEffect(() => setStack([null]), [resetKey]);
  const cursor = stack[stack.length - 1];
  return {
    cursor,
    page: stack.length,
    next: (c) => setStack((s) => [...s, c]),
    prev: () => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)),
    first: () => setStack([null]),
  };
}

// busy: a page is loading; its buttons wait for it (the cursor on hand is the page before's).
export function Pager({ pager, nextCursor, count, label, busy = false }) {
  return (
    <nav class="pager" aria-label={`${label} pages`}>
      <button type="button" class="secondary" disabled={busy || pager.page <= 1} onClick={pager.prev}>← Previous</button>
      <span aria-live="polite">Page {pager.page}{busy ? ' · loading' : count != null ? ` · ${count} row${count === 1 ? '' : 's'} shown` : ''}</span>
      <button type="button" class="secondary" disabled={busy || !nextCursor} onClick={() => pager.next(nextCursor)}>Next →</button>
    </nav>
  );
}

// One line of feedback after an action, read out by screen readers.
export function Notice({ notice }) {
  if (!notice) return <div class="sr-only" role="status" aria-live="polite" />;
  return <div class={'notice ' + (notice.kind || 'ok')} role="status" aria-live="polite">{notice.text}</div>;
}

export function JSONView({ value }) {
  return <pre class="json">{JSON.stringify(value, null, 2)}</pre>;
}
