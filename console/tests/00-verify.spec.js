// console/src/verify.js on its own, in Node's Web Crypto (no browser, no stack): inclusion
// proofs of every leaf of trees of 1 to 25 leaves built by RFC 6962's definition, and signed
// notes made with a fresh Ed25519 key.
import { test, expect } from '@playwright/test';
import { checkInclusion, openNote, parseVerifierKey, parseCheckpoint } from '../src/verify.js';

const enc = new TextEncoder();
const sha = async (...parts) => new Uint8Array(await crypto.subtle.digest('SHA-256', Uint8Array.from(parts.flatMap((p) => [...p]))));
const b64 = (u) => btoa(String.fromCharCode(...u));

// RFC 6962 §2.1: MTH of leaf hashes, and PATH(m, D[n]).
const split = (n) => { let k = 1; while (k * 2 < n) k *= 2; return k; };
async function mth(hs) {
  if (hs.length === 1) return hs[0];
  const k = split(hs.length);
  return sha([1], await mth(hs.slice(0, k)), await mth(hs.slice(k)));
}
async function path(m, hs) {
  if (hs.length === 1) return [];
  const k = split(hs.length);
  return m < k ? [...(await path(m, hs.slice(0, k))), await mth(hs.slice(k))] : [...(await path(m - k, hs.slice(k))), await mth(hs.slice(0, k))];
}

test('inclusion proofs of every leaf verify; a changed proof, index or size does not', async () => {
  const leaves = await Promise.all(Array.from({ length: 26 }, (_, i) => sha([0], enc.encode(`leaf ${i}`))));
  for (let n = 1; n <= 25; n++) {
    const hs = leaves.slice(0, n);
    const root = await mth(hs);
    const nextRoot = await mth(leaves.slice(0, n + 1));
    for (let i = 0; i < n; i++) {
      const p = await path(i, hs);
      expect(await checkInclusion(hs[i], i, n, p, root), `leaf ${i} of ${n}`).toBe(true);
      if (p.length) {
        const bad = p.map((x) => x.slice());
        bad[bad.length - 1][0] ^= 1;
        expect(await checkInclusion(hs[i], i, n, bad, root), `changed proof, leaf ${i} of ${n}`).toBe(false);
        expect(await checkInclusion(hs[i], i, n, p.slice(1), root), `short proof, leaf ${i} of ${n}`).toBe(false);
      }
      if (i + 1 < n) expect(await checkInclusion(hs[i], i + 1, n, p, root), `wrong index, leaf ${i} of ${n}`).toBe(false);
      expect(await checkInclusion(hs[i], i, n + 1, p, nextRoot), `the tree of one leaf more, leaf ${i} of ${n}`).toBe(false);
    }
    expect(await checkInclusion(hs[0], n, n, [], root), `index ${n} of ${n}`).toBe(false);
  }
});

test('a signed note opens with its key, and not when its text, signature or key changes', async () => {
  const kp = await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify']);
  const pub = new Uint8Array(await crypto.subtle.exportKey('raw', kp.publicKey));
  const key = Uint8Array.from([1, ...pub]);
  const hash = (await sha(enc.encode('contrail\n'), key)).slice(0, 4);
  const hex = [...hash].map((b) => b.toString(16).padStart(2, '0')).join('');
  const vkey = `contrail+${hex}+${b64(key)}`;
  const text = 'contrail/acme\n480\n7z3O0F5l8iYOkYRvzwKqSW6Iz/Gd9UVUm8wXRt9AkWg=\ntime 2026-12-07T05:00:00Z\n';
  const sig = new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, kp.privateKey, enc.encode(text)));
  const note = `${text}\n\u2014 contrail ${b64(Uint8Array.from([...hash, ...sig]))}\n`;

  expect(await openNote(note, [vkey])).toEqual({ text, vkey });
  expect(parseCheckpoint(text)).toMatchObject({ origin: 'contrail/acme', size: 480, time: '2026-12-07T05:00:00Z' });
  await expect(openNote(note.replace('480', '481'), [vkey])).rejects.toThrow(`the checkpoint's signature by ${vkey} does not verify`);
  const other = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])).publicKey;
  const otherKey = Uint8Array.from([1, ...new Uint8Array(await crypto.subtle.exportKey('raw', other))]);
  const otherHex = [...(await sha(enc.encode('contrail\n'), otherKey)).slice(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join('');
  await expect(openNote(note, [`contrail+${otherHex}+${b64(otherKey)}`])).rejects.toThrow('signed by none of the stack’s verifier keys');
  await expect(openNote(text, [vkey])).rejects.toThrow('no blank line');
  await expect(parseVerifierKey(`contrail+00000000+${b64(key)}`)).rejects.toThrow('its hash does not match its key');
  await expect(parseVerifierKey('contrail+abc')).rejects.toThrow('is malformed');
});
