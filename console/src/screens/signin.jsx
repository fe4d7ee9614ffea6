import { useEffect, useRef, useState } from 'preact/hooks';
import { devSignIn, cognitoSignIn, cognitoCallback } from '../auth.js';
import { navigate } from '../router.js';
import { ErrorBox, Field, Loading } from '../ui.jsx';

export function SignIn({ config, returnTo }) {
  const [form, setForm] = useState({ tenant: 'demo', role: 'admin', name: 'Rina Admin', user: '' });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const h = useRef(null);
  useEffect(() => {
    document.title = 'Sign in · Contrail';
    h.current?.focus();
  }, []);
  const set = (k) => (e) => {
    const v = e.currentTarget.value;
    setForm((f) => {
      const next = { ...f, [k]: v };
      // Suggest a matching name when the role changes and the name is still a suggestion.
      if (k === 'role' && (f.name === 'Rina Admin' || f.name === 'Ari Agent')) next.name = v === 'admin' ? 'Rina Admin' : 'Ari Agent';
      return next;
    });
  };
  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (config.auth === 'local') {
        await devSignIn({ tenant: form.tenant.trim(), role: form.role, name: form.name.trim(), user: form.user.trim() || undefined });
        navigate(returnTo && returnTo !== '/signin' ? returnTo : '/', { replace: true });
      } else {
        await cognitoSignIn(returnTo);
      }
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }
  const local = config.auth === 'local';
  return (
    <main id="main" class="signin-wrap">
      <form id="signin" class="card signin" onSubmit={submit} aria-labelledby="signin-title" noValidate>
        <h1 id="signin-title" tabIndex={-1} ref={h}>Sign in to Contrail</h1>
        {local ? (
          <>
            <p class="muted">Local stack: choose a development user. The token carries the same claims as <code>make token</code> and works only against this local gateway.</p>
            <Field label="Tenant" id="si-tenant" hint="The tenant id, e.g. demo.">
              <input id="si-tenant" name="tenant" required value={form.tenant} onInput={set('tenant')} aria-describedby="si-tenant-hint" autocomplete="off" />
            </Field>
            <fieldset class="roles">
              <legend>Role</legend>
              {[['admin', 'Admin — reports, exports, activity logs, contacts'], ['agent', 'Agent — contacts only']].map(([v, l]) => (
                <label key={v} class="radio"><input type="radio" name="role" value={v} checked={form.role === v} onChange={set('role')} /> {l}</label>
              ))}
            </fieldset>
            <Field label="Display name" id="si-name">
              <input id="si-name" name="name" required value={form.name} onInput={set('name')} autocomplete="name" />
            </Field>
            <Field label="User id (optional)" id="si-user" hint="Leave empty for the default development user of this role.">
              <input id="si-user" name="user" value={form.user} onInput={set('user')} aria-describedby="si-user-hint" autocomplete="off" />
            </Field>
          </>
        ) : (
          <p>You will be sent to your organisation's sign-in page and brought back here.</p>
        )}
        <ErrorBox error={error} />
        <button type="submit" disabled={busy}>{busy ? 'Signing in…' : local ? 'Sign in' : 'Continue to sign-in'}</button>
      </form>
    </main>
  );
}

export function Callback({ query }) {
  const [error, setError] = useState(null);
  useEffect(() => {
    cognitoCallback(query).then((next) => navigate(next, { replace: true }), setError);
  }, []);
  if (error)
    return (
      <main id="main" class="signin-wrap">
        <div class="card signin">
          <h1>Sign-in failed</h1>
          <ErrorBox error={error} />
          <a class="button" href="/console/signin">Sign in again</a>
        </div>
      </main>
    );
  return <Loading what="Finishing sign-in" />;
}
