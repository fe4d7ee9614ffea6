// Dates, time zones and periods, with nothing but Intl.
export const browserTz = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

export function validTz(tz) {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export function todayIn(tz, now = new Date()) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

export function addDays(date, n) {
  const d = new Date(date + 'T00:00:00Z');
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

export function firstOfMonth(date, deltaMonths = 0) {
  const d = new Date(date.slice(0, 7) + '-01T00:00:00Z');
  d.setUTCMonth(d.getUTCMonth() + deltaMonths);
  return d.toISOString().slice(0, 10);
}

// Periods are [from, to) as dates in tz, as the API takes them.
export const PRESETS = [
  ['today', 'Today'],
  ['yesterday', 'Yesterday'],
  ['7d', 'Last 7 days'],
  ['30d', 'Last 30 days'],
  ['month', 'This month'],
  ['lastmonth', 'Last month'],
  ['custom', 'Custom range'],
];

export function presetPeriod(preset, tz, now = new Date()) {
  const t = todayIn(tz, now);
  switch (preset) {
    case 'today': return { from: t, to: addDays(t, 1) };
    case 'yesterday': return { from: addDays(t, -1), to: t };
    case '7d': return { from: addDays(t, -6), to: addDays(t, 1) };
    case 'month': return { from: firstOfMonth(t), to: addDays(t, 1) };
    case 'lastmonth': return { from: firstOfMonth(t, -1), to: firstOfMonth(t) };
    case '30d':
    default: return { from: addDays(t, -29), to: addDays(t, 1) };
  }
}

// The UTC instant of local midnight of `date` in `tz` (for routes that take RFC 3339 only).
export function zonedMidnight(date, tz) {
  const guess = Date.parse(date + 'T00:00:00Z');
  let t = guess;
  for (let i = 0; i < 3; i++) {
    const off = offsetMs(t, tz);
    t = guess - off;
  }
  return new Date(t).toISOString();
}
function offsetMs(t, tz) {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
      .formatToParts(new Date(t))
      .map((x) => [x.type, x.value]),
  );
  return Date.UTC(+p.year, p.month - 1, +p.day, +p.hour, +p.minute, +p.second) - Math.floor(t / 1000) * 1000;
}

export function fmtTime(iso, tz) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (isNaN(d)) return iso;
  return new Intl.DateTimeFormat('en-GB', { timeZone: tz || undefined, year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(d);
}

export function fmtDate(date) {
  return new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', day: '2-digit', month: 'short', year: 'numeric' }).format(new Date(date + 'T00:00:00Z'));
}

export function relative(iso) {
  const s = (Date.now() - Date.parse(iso)) / 1000;
  if (!isFinite(s)) return '';
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

export const num = (n) => new Intl.NumberFormat('en').format(n ?? 0);

// RFC 4180 CSV with CRLF line ends, as the API writes it (without the BOM).
export function toCSV(header, rows) {
  const cell = (v) => {
    let s = v == null ? '' : Array.isArray(v) ? v.join(' ') : String(v);
    if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}

// bom: a UTF-8 byte order mark first (spreadsheets need it for CSV; a signed note must not have it).
export function download(name, text, type = 'text/csv;charset=utf-8', bom = true) {
  const url = URL.createObjectURL(new Blob([(bom ? '\ufeff' : '') + text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
