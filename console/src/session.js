// The signed-in session, in memory only: a reload signs out locally (by design: no token in
// localStorage or sessionStorage). Listeners re-render the app when it changes.
let current = null; // {token, claims, role, name, tenant, userId, expiresAt}
const listeners = new Set();

export function decodeClaims(token) {
  const part = token.split('.')[1];
  if (!part) throw new Error('not a JWT');
  const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
  return JSON.parse(decodeURIComponent(escape(json)));
}

export function groupsOf(claims) {
  const g = claims['cognito:groups'];
  if (Array.isArray(g)) return g;
  if (typeof g === 'string') return g.replace(/^\[|\]$/g, '').split(/[\s,]+/).filter(Boolean);
  return [];
}

export function signIn(token, extra = {}) {
  const claims = decodeClaims(token);
  const groups = groupsOf(claims);
  current = {
    token,
    claims,
    groups,
    role: groups.includes('admin') ? 'admin' : groups.includes('agent') ? 'agent' : groups[0] || 'none',
    name: claims.name || claims.email || claims['cognito:username'] || claims.sub,
    tenant: claims['custom:tenant_id'] || '',
    userId: claims.sub,
    expiresAt: claims.exp ? claims.exp * 1000 : Date.now() + 3600e3,
    ...extra,
  };
  listeners.forEach((f) => f(current));
}

export function signOutLocal() {
  current = null;
  listeners.forEach((f) => f(current));
}

export const session = () => (current && current.expiresAt > Date.now() ? current : null);
export const isAdmin = () => session()?.role === 'admin';
export function onSession(f) {
  listeners.add(f);
  return () => listeners.delete(f);
}
