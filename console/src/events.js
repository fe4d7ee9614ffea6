// Names and one-line summaries of the audit event types: TYPES is the registry's
// (shared/audit/registry.go) by category, and a test there (TestConsoleTypes) keeps the two the same.
export const TYPES = {
  contact: {
    CONTACT_ADDED: 'Contact added', CONTACT_CONNECTED: 'Contact connected', CONTACT_ARCHIVED: 'Contact archived',
    CONTACT_UNARCHIVED: 'Contact unarchived', CONTACT_DELETED: 'Contact deleted', CONTACT_MERGED: 'Contacts merged',
    CONTACT_UPDATED: 'Contact updated', CONTACT_INVITED: 'Contact invited', MESSAGE_SENT: 'Message sent',
    CONTACT_SHARED: 'Contact shared', COMMENT_ADDED: 'Comment added', CONTACT_ERASED: 'Contact erased',
  },
  email: { EMAIL_DELIVERED: 'Email delivered', EMAIL_FAILED: 'Email failed' },
  platform: {
    START_CALL: '[Call] Start', MESSENGER_SEND: '[Messenger] Send message', LIVE_VIEW: '[LiveView] joined', LOGGED_IN: '[Account] Logged in',
    ONLINE_STATUS_ONLINE: '[Agent] Go Online', ONLINE_STATUS_OFFLINE: '[Agent] Go Offline', STATUS_CHANGE: '[Chat] Status changed',
    ROLE_CHANGE: '[Roles] changed', PERMISSION_CHANGE: '[Permissions] changed', PLUGIN_CHANGE: '[Plugin] changed',
    SETTINGS_CHANGE: '[Settings] changed', MEETING_CHANGE: '[Meeting] changed', CONFERENCE_AGENT: '[Meeting] Agent joined',
    CONFERENCE_RECORDING: '[Meeting] Recording started',
  },
  cobrowse: {
    CLICK: 'Clicked on element', SCROLL: 'Scroll on page or element', FORM: 'Form sent', INPUT: 'Input changed',
    PAGECHANGE: 'Page changed', SELECTION: 'Text or elements selected', CUSTOM_EVENT: 'Custom event',
  },
  access: {
    AUDIT_LOG_VIEWED: 'Audit log viewed', REPORT_VIEWED: 'Report viewed', REPORT_EXPORTED: 'Report exported',
    EXPORT_SCHEDULE_CREATED: 'Export schedule created', EXPORT_SCHEDULE_UPDATED: 'Export schedule updated',
    EXPORT_SCHEDULE_DELETED: 'Export schedule deleted', EXPORT_SCHEDULE_RUN: 'Export schedule run now',
    SETTINGS_UPDATED: 'Settings updated', LOG_PROOF_VIEWED: 'Verifiable log read',
  },
};
export const TYPE_NAME = Object.assign({}, ...Object.values(TYPES));
export const CATEGORY_OF = Object.fromEntries(Object.entries(TYPES).flatMap(([c, t]) => Object.keys(t).map((k) => [k, c])));
export const EMAIL_REQUESTS = new Set(['CONTACT_INVITED', 'MESSAGE_SENT', 'CONTACT_SHARED']);

export function actorLabel(a) {
  if (!a) return 'unknown';
  if (a.type === 'system') return 'Contrail (system)';
  const who = a.name || a.id;
  if (!who) return a.type === 'user' ? 'a user' : a.type;
  return a.type === 'customer' || a.type === 'service' ? `${who} (${a.type})` : who;
}

const clip = (s, n = 140) => (s && s.length > n ? s.slice(0, n - 1) + '…' : s || '');

export function summary(e) {
  const d = e.data || {};
  switch (e.type) {
    case 'CONTACT_ADDED': return `Added${e.source ? ` via ${e.source.replace(/_/g, ' ')}` : ''}${e.channel ? ` on ${e.channel}` : ''}${d.email ? ` · ${d.email}` : ''}`;
    case 'CONTACT_CONNECTED': return `Connected ${e.channel || 'a channel'} identity ${d.externalId || ''}`.trim();
    case 'CONTACT_MERGED': return `Merged ${(d.mergedContactIds || []).length} contact(s) into ${d.primaryContactId || 'the primary'}: ${(d.mergedContactIds || []).join(', ')}`;
    case 'CONTACT_UPDATED': return typeof d.changes === 'string' ? `Changed ${d.changes}` : 'Changed ' + Object.keys(d.changes || {}).join(', ');
    case 'CONTACT_INVITED': return `Invitation to ${d.email}`;
    case 'MESSAGE_SENT': return `To ${d.to}: “${clip(d.text)}”`;
    case 'CONTACT_SHARED': return `Shared with ${d.email}${d.note ? ` — “${clip(d.note)}”` : ''}`;
    case 'COMMENT_ADDED': return `“${clip(d.text, 400)}”`;
    case 'EMAIL_DELIVERED': return 'The email was accepted for delivery' + (d.messageId ? ` (message ${d.messageId})` : '');
    case 'EMAIL_FAILED': return `The email could not be sent: ${d.reason || 'no reason given'}`;
    case 'CONTACT_DELETED': return 'Deleted; the name is kept in the log';
    case 'CONTACT_ERASED': return 'Personal data erased: earlier events show [erased]; ids, times and counts stay';
    case 'REPORT_VIEWED': return `Report ${d.report}`;
    case 'REPORT_EXPORTED': return `Export of ${d.report}${d.rows != null ? `, ${d.rows} rows` : ''}`;
    case 'AUDIT_LOG_VIEWED': return d.filters && Object.keys(d.filters).length ? 'Filters ' + Object.entries(d.filters).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('|') : typeof v === 'object' ? JSON.stringify(v) : v}`).join(', ') : 'No filters';
    case 'SETTINGS_UPDATED': return 'Changed ' + Object.entries(d.changes || {}).map(([k, c]) => `${k} from ${c.from} to ${c.to}`).join(', ');
    case 'INPUT': return `${d.element}: ${d.text}`;
    case 'CLICK': return `${d.element}`;
    case 'PAGECHANGE': return `${d.page}`;
    case 'FORM': return `${d.form}`;
    case 'SCROLL': return `${d.element ? d.element + ' ' : ''}to ${JSON.stringify(d.position)}`;
    case 'CUSTOM_EVENT': return `${d.eventType}: ${JSON.stringify(d.value)}`;
    case 'SELECTION': return d.selection != null ? JSON.stringify(d.selection) : '';
    default: {
      if (e.type?.startsWith('EXPORT_SCHEDULE_')) return `${d.schedule}: ${d.report}, ${d.frequency}, to ${(d.recipients || []).join(', ')}`;
      // Platform events: every field, a list joined, an object (a configuration, a conference) as clipped JSON.
      const keys = Object.entries(d).filter(([, v]) => v != null).map(([k, v]) => `${k} ${Array.isArray(v) ? v.join(', ') : typeof v === 'object' ? clip(JSON.stringify(v), 120) : v}`);
      return keys.join(' · ');
    }
  }
}
