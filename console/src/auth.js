// Sign-in. Locally: POST /local/dev-token (only the local gateway answers it). In AWS: OAuth 2.0
// authorization code with PKCE against the Cognito hosted UI named by /console/config.json.
// The PKCE verifier and state live in sessionStorage between the redirect and the callback
// only (they are not secrets after use and are removed at once); the token stays in memory.
import { signIn, signOutLocal, session } from './session.js';
import { ApiError, friendly, setApiBase } from './api.js';

let config = null;
export async function loadConfig() {
  if (config) return config;
  const res = await fetch('/console/config.json', { headers: { Accept: 'application/json' } });
  if (!res.ok) throw new ApiError(res.status, 'config', 'The console could not read its configuration (/console/config.json). ' + friendly(res.status));
  config = await res.json();
  setApiBase(config.apiUrl);
  return config;
}
export const getConfig = () => config;

export async function devSignIn({ tenant, role, name, user }) {
  let res;
  try {
    res = await fetch(config.devTokenUrl || '/local/dev-token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(user ? { tenant, role, name, user } : { tenant, role, name }),
    });
  } catch {
    throw new ApiError(0, 'network', friendly(0));
  }
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    const e = body.error || {};
    throw new ApiError(res.status, e.code || 'dev_token', e.message || friendly(res.status), e.fields);
  }
  signIn(body.token, { via: 'local' });
}

const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const random = (n) => b64url(crypto.getRandomValues(new Uint8Array(n)));

export async function cognitoSignIn(returnTo) {
  const verifier = random(48);
  const state = random(16);
  const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  sessionStorage.setItem('contrail.pkce', JSON.stringify({ verifier, state, returnTo }));
  const u = new URL(config.authorizeUrl);
  u.search = new URLSearchParams({
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: config.redirectUri,
    scope: config.scope || 'openid',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString();
  location.assign(u.toString());
}

// Handles /console/callback?code=...&state=...; returns the path to go to next.
export async function cognitoCallback(query) {
  const saved = JSON.parse(sessionStorage.getItem('contrail.pkce') || 'null');
  sessionStorage.removeItem('contrail.pkce');
  if (query.error) throw new ApiError(400, query.error, `Sign-in was not completed: ${query.error_description || query.error}.`);
  if (!saved || !query.code || saved.state !== query.state) throw new ApiError(400, 'state', 'This sign-in link is stale or was not started here. Sign in again.');
  const res = await fetch(config.tokenUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: config.clientId, code: query.code, redirect_uri: config.redirectUri, code_verifier: saved.verifier }),
  }).catch(() => null);
  if (!res) throw new ApiError(0, 'network', 'The sign-in service did not answer. Check your connection and sign in again.');
  const body = await res.json().catch(() => ({}));
  if (!res.ok || !(body.id_token || body.access_token)) throw new ApiError(res.status, body.error || 'token', 'The sign-in service refused the code. Sign in again.');
  // The id token carries name, custom:tenant_id and cognito:groups; the HTTP API's JWT
  // authorizer takes it (audience = the app client).
  signIn(body.id_token || body.access_token, { via: 'cognito' });
  return saved.returnTo || '/';
}

export function signOut() {
  const s = session();
  signOutLocal();
  if (s?.via === 'cognito' && config?.logoutUrl) {
    const u = new URL(config.logoutUrl);
    u.search = new URLSearchParams({ client_id: config.clientId, logout_uri: config.logoutUri || new URL('/console/', location.origin).toString() }).toString();
    location.assign(u.toString());
  }
}
