// Calls to the Contrail HTTP API (same origin). Every failure becomes an ApiError whose
// message is a sentence a person can act on; nothing else (no stack) ever reaches the screen.
import { session, signOutLocal } from './session.js';
import { KEEP_EMPTY } from './router.js';

export class ApiError extends Error {
  constructor(status, code, message, fields, extra) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields || null;
    this.extra = extra || {};
  }
}

const FRIENDLY = {
  0: 'The Contrail API did not answer. Check your connection (locally: is `make run` still running?) and try again.',
  401: 'Your session has ended. Sign in again.',
  403: 'Your role may not do this. Ask a tenant admin if you need access.',
  404: 'Not found: it may have been deleted or merged.',
  413: 'That is too large to send in one request.',
  429: 'Too many requests right now. Wait a moment and try again.',
  500: 'Contrail failed to do this. Try again; if it keeps failing, contact support.',
  502: 'Contrail failed to do this. Try again in a moment.',
  503: 'Contrail is starting or busy. Try again in a few seconds.',
  504: 'Contrail took too long to answer. Try again, or ask for a shorter period.',
};

export function friendly(status) {
  return FRIENDLY[status] || (status >= 500 ? FRIENDLY[500] : 'The request was refused. Check what you entered and try again.');
}

// Where the API is: config.json's apiUrl (AWS: the HTTP API, CORS-limited to the console's
// origin), or "" for the console's own origin (the local gateway serves both).
let apiBase = '';
export function setApiBase(url) {
  apiBase = (url || '').replace(/\/+$/, '');
}

export async function api(path, { method = 'GET', body, query, headers = {}, raw = false, signal } = {}) {
  const s = session();
  const url = new URL(apiBase + path, location.origin);
  if (query) {
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined || v === null || (v === '' && KEEP_EMPTY.has(k) === false)) continue;
      if (Array.isArray(v)) v.forEach((x) => url.searchParams.append(k, x));
      else url.searchParams.set(k, v);
    }
  }
  const h = { Accept: 'application/json', ...headers };
  if (s) h.Authorization = `Bearer ${s.token}`;
  let payload = body;
  if (body !== undefined && typeof body !== 'string' && !(body instanceof Blob)) {
    h['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  if (method !== 'GET' && !h['Idempotency-Key'] && globalThis.crypto?.randomUUID) h['Idempotency-Key'] = crypto.randomUUID();
  let res;
  try {
    res = await fetch(url, { method, headers: h, body: payload, signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', friendly(0));
  }
  if (res.status === 401 && s) {
    signOutLocal();
  }
  if (!res.ok) {
    let err = null;
    try {
      err = (await res.json()).error;
    } catch {
      /* not JSON */
    }
    const { code, message, fields, ...extra } = err || {};
    throw new ApiError(res.status, code || `http_${res.status}`, message || friendly(res.status), fields, extra);
  }
  if (raw) return res;
  if (res.status === 204) return null;
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

// Describe an error for a person: the API's sentence and each field's problem.
export function describe(err) {
  if (!(err instanceof ApiError)) return { title: 'Something went wrong', message: 'The console hit an unexpected problem. Reload the page and try again.' };
  const fields = err.fields ? Object.entries(err.fields).map(([k, v]) => `${k}: ${v}`) : [];
  return { title: titleFor(err), message: err.message, fields, code: err.code, status: err.status };
}

function titleFor(err) {
  if (err.status === 0) return 'Cannot reach Contrail';
  if (err.status === 403) return 'Forbidden';
  if (err.status === 404) return 'Not found';
  if (err.status === 409) return 'Conflict';
  if (err.status >= 500) return 'Contrail could not do this';
  return 'Please check';
}
