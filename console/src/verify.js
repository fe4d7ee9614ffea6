// Checks in the browser that one audit event is in the tenant's signed log, as contrail-verify
// checks a bundle offline (docs/verifying.md): the latest checkpoint's Ed25519 note signature
// under one of the stack's verifier keys, the event's RFC 6962 inclusion proof against the
// checkpoint's root, and the leaf's plain fields against the event shown. Web Crypto only.

const enc = new TextEncoder();
const b64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let i = 0;
  for (const p of parts) { out.set(p, i); i += p.length; }
  return out;
};
const sha256 = async (bytes) => new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

// A note verifier key, name+<hash, 8 hex>+<base64 of 0x01 and the 32-byte Ed25519 key>.
export async function parseVerifierKey(vkey) {
  const m = /^([^+\s]+)\+([0-9a-f]{8})\+(\S+)$/.exec(vkey);
  if (!m) throw new Error(`verifier key ${vkey} is malformed`);
  const key = b64(m[3]);
  if (key.length !== 33 || key[0] !== 1) throw new Error(`verifier key ${vkey} is not an Ed25519 note key`);
  const hash = (await sha256(concat(enc.encode(m[1] + '\n'), key))).slice(0, 4);
  if ([...hash].map((b) => b.toString(16).padStart(2, '0')).join('') !== m[2]) throw new Error(`verifier key ${vkey}: its hash does not match its key`);
  return { name: m[1], hash, key: key.slice(1), vkey };
}

// Opens a signed note: its text when a signature by one of the keys verifies, and which key.
export async function openNote(note, vkeys) {
  const at = note.indexOf('\n\n');
  if (at < 0) throw new Error('the checkpoint is not a signed note (no blank line before its signatures)');
  const text = note.slice(0, at + 1);
  const keys = await Promise.all(vkeys.map(parseVerifierKey));
  for (const line of note.slice(at + 2).split('\n').filter(Boolean)) {
    const m = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (!m) throw new Error(`malformed signature line in the checkpoint: ${line}`);
    const sig = b64(m[2]);
    const k = keys.find((k) => k.name === m[1] && equal(k.hash, sig.slice(0, 4)));
    if (!k || sig.length !== 68) continue;
    const pub = await crypto.subtle.importKey('raw', k.key, { name: 'Ed25519' }, false, ['verify']);
    if (await crypto.subtle.verify({ name: 'Ed25519' }, pub, sig.slice(4), enc.encode(text))) return { text, vkey: k.vkey };
    throw new Error(`the checkpoint's signature by ${k.vkey} does not verify`);
  }
  throw new Error('the checkpoint is signed by none of the stack’s verifier keys');
}

// The tree head a checkpoint's text states: origin, size, root hash, time.
export function parseCheckpoint(text) {
  const [origin, size, root, ...rest] = text.split('\n');
  const time = rest.find((l) => l.startsWith('time '))?.slice(5);
  if (!/^\d+$/.test(size || '') || !root) throw new Error('the checkpoint text is not origin, size and root hash');
  return { origin, size: Number(size), root: b64(root), time };
}

// RFC 9162 §2.1.3.2: does proof take leaf `index`'s hash to `root` in a tree of `size` leaves?
export async function checkInclusion(leafHash, index, size, proof, root) {
  if (!(index >= 0 && index < size)) return false;
  let fn = index, sn = size - 1, r = leafHash;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = await sha256(concat([1], p, r));
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      r = await sha256(concat([1], r, p));
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equal(r, root);
}

// The event's fields a leaf holds in clear, as the leaf spells them, that the event shown must
// match (personal fields are sealed in the leaf and opened on screen: not compared).
const plain = (e) => ({ event_id: e.id, type: e.type, occurred_at: e.occurredAt, actor_type: e.actor?.type, actor_id: e.actor?.id || undefined, contact_id: e.contact?.id || undefined });

// verifyEvent checks event e against the log with get (the API's GET, returning parsed JSON).
// It returns {index, size, time, vkey} or throws an Error that says what failed; a 404 from the
// proof route (not sequenced yet) is thrown as is.
export async function verifyEvent(e, tenant, get) {
  const cp = await get('/v1/log/checkpoint');
  const { text, vkey } = await openNote(cp.checkpoint, cp.verifierKeys || []);
  const head = parseCheckpoint(text);
  if (head.origin !== 'contrail/' + tenant) throw new Error(`the checkpoint is of ${head.origin}, not of tenant ${tenant}`);
  const pr = await get('/v1/log/proof/inclusion', { eventId: e.id, size: head.size });
  if (pr.size !== head.size || !equal(b64(pr.rootHash), head.root)) throw new Error('the proof is for another tree than the signed checkpoint');
  const leafHash = await sha256(concat([0], enc.encode(pr.leaf)));
  if (!(await checkInclusion(leafHash, pr.index, pr.size, (pr.proof || []).map(b64), head.root))) throw new Error(`the inclusion proof of leaf ${pr.index} does not lead to the checkpoint's root`);
  let leaf;
  try { leaf = JSON.parse(pr.leaf); } catch { throw new Error('the leaf is not JSON'); }
  const want = plain(e);
  const differ = Object.keys(want).filter((k) => (leaf[k] ?? undefined) !== want[k]);
  if (differ.length) throw new Error(`the signed leaf differs from the event shown: ${differ.map((k) => `${k} is ${JSON.stringify(leaf[k] ?? null)} in the log, ${JSON.stringify(want[k] ?? null)} here`).join('; ')}`);
  return { index: pr.index, size: head.size, time: head.time, vkey };
}
