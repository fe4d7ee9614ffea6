// A tiny History-API router for everything under /console/.
import { useEffect, useState } from 'preact/hooks';

export const BASE = '/console';
const listeners = new Set();

export function href(path, query) {
  const q = query ? qs(query) : '';
  return BASE + path + (q ? `?${q}` : '');
}

// The log filters filter even when empty (user= is the system's actions): keep them.
export const KEEP_EMPTY = new Set(['source', 'channel', 'user']);

export function qs(query) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || (v === '' && !KEEP_EMPTY.has(k))) continue;
    if (Array.isArray(v)) v.forEach((x) => p.append(k, x));
    else p.set(k, v);
  }
  return p.toString();
}

export function navigate(to, { replace = false } = {}) {
  const url = to.startsWith(BASE) ? to : BASE + to;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  listeners.forEach((f) => f());
}

export function currentRoute() {
  let path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : location.pathname;
  if (path === '' || path === '/') path = '/';
  return { path: path.replace(/\/+$/, '') || '/', query: Object.fromEntries(new URLSearchParams(location.search)), search: location.search };
}

export function useRoute() {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const f = () => setRoute(currentRoute());
    listeners.add(f);
    addEventListener('popstate', f);
    return () => {
      listeners.delete(f);
      removeEventListener('popstate', f);
    };
  }, []);
  return route;
}

// Links inside the app: plain <a href> for accessibility, handled without a page load.
export function onLinkClick(e) {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest?.('a[href]');
  if (!a || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith(BASE)) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
}

export function match(pattern, path) {
  const p = pattern.split('/');
  const s = path.split('/');
  if (p.length !== s.length) return null;
  const params = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(':')) params[p[i].slice(1)] = decodeURIComponent(s[i]);
    else if (p[i] !== s[i]) return null;
  }
  return params;
}
