package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/vlog"
	"github.com/contrail/contrail/shared/vlog/bundle"
)

// verifyTarget is row 12's target: contrail-verify over a bundle at most this many times the
// time of gunzipping it and hashing its bytes with SHA-256 (docs/performance.md says why).
const verifyTarget = 4.0

// verifyManifest describes the cached bundle of case verify.
type verifyManifest struct {
	Version    int     `json:"version"`
	Tenant     string  `json:"tenant"`
	Events     int64   `json:"events"`
	Bytes      int64   `json:"bytes"` // the gzip file
	Checkpoint string  `json:"checkpoint"`
	VKey       string  `json:"vkey"`
	Seconds    float64 `json:"seconds"`
}

// caseVerify measures contrail-verify (issue 13, row 12): the command, built from
// cmd/contrail-verify and run as a tenant runs it, over a year of the second-busiest tenant's
// verifiable export (a gzip contrail-log-bundle/v1 of its whole log: every event in leaf form,
// the checkpoint, every tile), against the floor of any verifier of that file in the same
// run: reading it (gunzip) and hashing its bytes with SHA-256. Every run must print the OK
// verdict for every event.
func caseVerify(ctx context.Context, b *bencher) error {
	t := b.o.scale.Tenants[1]
	dir := cacheDir(b.o.root, "verify", b.o.scale, b.o.seed)
	file := filepath.Join(dir, "bundle.json.gz")
	var m verifyManifest
	if raw, err := os.ReadFile(filepath.Join(dir, "manifest.json")); err != nil || json.Unmarshal(raw, &m) != nil || m.Version != genVersion {
		logf("verify: writing a year of %s's bundle into %s (cached for the next runs)", t.ID, dir)
		if m, err = writeVerifyBundle(b, t, dir); err != nil {
			return fmt.Errorf("write the bundle: %w", err)
		}
	}
	work := filepath.Join(b.o.root, ".local", "bench", "work", "verify")
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	bin := filepath.Join(work, "contrail-verify")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/contrail-verify")
	build.Dir = b.o.root
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build contrail-verify: %v\n%s", err, out)
	}
	c, err := bundle.ParseCheckpointBody(strings.SplitN(m.Checkpoint, "\n\n", 2)[0] + "\n")
	if err != nil {
		return err
	}
	want := fmt.Sprintf("OK contrail/%s: %d events [0,%d) verified against %s\n", t.ID, m.Events, m.Events, c.Describe())
	verify := func() error {
		// The checkpoint is as old as the cache: freshness is not what is timed here.
		cmd := exec.CommandContext(ctx, bin, "-key", m.VKey, "-tenant", t.ID.String(), "-max-age", "876000h", file)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("contrail-verify: %v: %s%s", err, out.String(), errb.String())
		}
		if out.String() != want {
			return fmt.Errorf("contrail-verify printed %q, want %q", out.String(), want)
		}
		return nil
	}
	var digest [32]byte
	peer := func() error {
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		zr, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<20))
		if err != nil {
			return err
		}
		h := sha256.New()
		if _, err := io.Copy(h, zr); err != nil {
			return err
		}
		copy(digest[:], h.Sum(nil))
		return nil
	}
	var vs, ps []time.Duration
	for i := 0; i <= b.o.runs; i++ { // run 0 warms up (and checks the answers)
		t0 := time.Now()
		if err := verify(); err != nil {
			return err
		}
		t1 := time.Now()
		if err := peer(); err != nil {
			return err
		}
		t2 := time.Now()
		if i > 0 {
			vs, ps = append(vs, t1.Sub(t0)), append(ps, t2.Sub(t1))
		}
	}
	logf("verify: %d events verified, every run OK; the bundle's SHA-256 %x", m.Events, digest[:4])
	b.ratioRow(fmt.Sprintf("12. contrail-verify, a year of %s's bundle (%d events, %d MB gzip) vs gunzip + SHA-256 of it", t.ID, m.Events, m.Bytes>>20),
		median(vs), median(ps), verifyTarget)
	return nil
}

// writeVerifyBundle writes the bundle a verifiable export of the tenant's whole year gives:
// its generated events (the data set's, in the order they were recorded) as leaves, indices
// from 0, a checkpoint of the whole tree signed now with a bench key, and every tile. The
// events are generated twice (deterministic): once for the leaf hashes the tree and its
// checkpoint need, once to stream the entries, so no pass holds the leaves.
func writeVerifyBundle(b *bencher, t tenantSpec, dir string) (verifyManifest, error) {
	start := time.Now()
	g := gen{seed: b.o.seed, sc: b.o.scale}
	days := g.days()
	counts := g.dayCounts(t)
	each := func(fn func(leaf []byte) error) error {
		cum := 0.0
		for di, d := range days {
			evs := g.dayEvents(t, di, d, counts[di], int(cum))
			cum += float64(counts[di]) * 0.14
			sort.Slice(evs, func(i, j int) bool { return evs[i].RecordedAt < evs[j].RecordedAt })
			for i := range evs {
				leaf, err := leafOf(&evs[i])
				if err != nil {
					return err
				}
				if err := fn(leaf); err != nil {
					return err
				}
			}
		}
		return nil
	}
	var hashes []tlog.Hash
	if err := each(func(leaf []byte) error { hashes = append(hashes, bundle.LeafHash(leaf)); return nil }); err != nil {
		return verifyManifest{}, err
	}
	tiles, root, err := bundle.TileSetFromLeafHashes(hashes)
	if err != nil {
		return verifyManifest{}, err
	}
	n := int64(len(hashes))
	hashes = nil
	signer, err := vlog.NewSigner("bench-log-signing-secret")
	if err != nil {
		return verifyManifest{}, err
	}
	signed, err := signer.Sign(vlog.Checkpoint{Origin: vlog.Origin(t.ID), Size: n, Root: root, Time: time.Now().UTC().Truncate(time.Second)})
	if err != nil {
		return verifyManifest{}, err
	}
	tmp := dir + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return verifyManifest{}, err
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return verifyManifest{}, err
	}
	f, err := os.Create(filepath.Join(tmp, "bundle.json.gz"))
	if err != nil {
		return verifyManifest{}, err
	}
	defer f.Close()
	zw := gzip.NewWriter(f)
	bw, err := bundle.NewWriter(zw, bundle.Header{Origin: vlog.Origin(t.ID), From: days[0], To: End, First: 0, Next: n, Checkpoint: string(signed)})
	if err != nil {
		return verifyManifest{}, err
	}
	index := int64(0)
	if err := each(func(leaf []byte) error {
		index++
		return bw.Add(bundle.Entry{Index: index - 1, Leaf: leaf})
	}); err != nil {
		return verifyManifest{}, err
	}
	if err := bw.Close(tiles); err != nil {
		return verifyManifest{}, err
	}
	if err := zw.Close(); err != nil {
		return verifyManifest{}, err
	}
	st, err := f.Stat()
	if err != nil {
		return verifyManifest{}, err
	}
	m := verifyManifest{Version: genVersion, Tenant: t.ID.String(), Events: n, Bytes: st.Size(), Checkpoint: string(signed),
		VKey: signer.VerifierKey(), Seconds: time.Since(start).Seconds()}
	logf("verify: %d events, %d MB gzip, written in %.0f s", n, st.Size()>>20, m.Seconds)
	return m, publishCache(tmp, dir, m)
}

// leafOf is the leaf of a generated event: its archive row's canonical form.
func leafOf(e *audit.Event) ([]byte, error) {
	row, err := archive.FromEvent(e)
	if err != nil {
		return nil, err
	}
	return vlog.Leaf(&row)
}
