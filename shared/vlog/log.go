package vlog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/tenant"
)

// MaxAppend is the most leaves one append commits: its record (ids, times, hashes) stays
// far below DynamoDB's 400 KB item limit.
const MaxAppend = 2000

// HeartbeatEvery is the longest a tenant's log goes without a freshly signed checkpoint.
const HeartbeatEvery = time.Hour

// Log appends to tenants' logs and publishes their tiles and checkpoints.
//
// Single writer, no fork: an append commits in one transaction that moves the head only
// from the size it read, with the append record (its leaves' event ids, times and hashes).
// The index items (event id -> leaf), tiles and checkpoints are written after the commit from
// committed data only, so two writers write the same bytes, and a run first completes what a
// crashed one left: the head's Tiled is the size up to which index and tiles are written.
type Log struct {
	DB    DB
	Table string
	// Archive is the archive bucket: tiles and the latest checkpoint under log/.
	Archive archive.Store
	// Checkpoints is the Object Lock bucket every signed checkpoint is also written to.
	Checkpoints archive.Store
	Signer      *Signer
	Clock       func() time.Time
	Log         *slog.Logger
	// MaxAppend bounds the leaves of one append; 0 means MaxAppend.
	MaxAppend int
	// crash, in tests, stops an append at a named step, as a killed function would.
	crash func(step string) error
}

func (l *Log) state() *state { return &state{db: l.DB, table: l.Table} }

func (l *Log) now() time.Time {
	if l.Clock == nil {
		return time.Now().UTC()
	}
	return l.Clock().UTC()
}

func (l *Log) log() *slog.Logger {
	if l.Log == nil {
		return slog.Default()
	}
	return l.Log
}

func (l *Log) step(name string) error {
	if l.crash == nil {
		return nil
	}
	return l.crash(name)
}

// Head returns the tenant's committed head (the empty tree when it has no log).
func (l *Log) Head(ctx context.Context, t tenant.ID) (Head, error) {
	h, _, err := l.state().head(ctx, t)
	return h, err
}

// Sequenced returns, of ids, those already in the tenant's log and their leaf indexes, as far
// as its index is written (every leaf below the head's Tiled; Complete writes the rest).
func (l *Log) Sequenced(ctx context.Context, t tenant.ID, ids []string) (map[string]int64, error) {
	return l.sequenced(ctx, t, ids)
}

// lookup returns the index item of one event when its append committed.
func (l *Log) lookup(ctx context.Context, t tenant.ID, id EventID) (claim, bool, error) {
	st := l.state()
	cs, err := st.claims(ctx, t, []string{id.String()})
	if err != nil {
		return claim{}, false, err
	}
	c, ok := cs[id.String()]
	if !ok {
		return claim{}, false, nil
	}
	n, err := st.appendNonce(ctx, t, c.Start)
	if err != nil || n == "" || n != c.Nonce {
		return claim{}, false, err
	}
	return c, true, nil
}

// sequenced returns the leaf indexes of those of ids whose index item names a committed append.
// Index items are written from committed appends only; the nonce check still keeps out an
// item no committed append holds (one a writer before this scheme wrote ahead of a commit
// that never happened).
func (l *Log) sequenced(ctx context.Context, t tenant.ID, ids []string) (map[string]int64, error) {
	st := l.state()
	cs, err := st.claims(ctx, t, ids)
	if err != nil {
		return nil, err
	}
	nonces := map[int64]string{}
	done := map[string]int64{}
	for id, c := range cs {
		n, ok := nonces[c.Start]
		if !ok {
			if n, err = st.appendNonce(ctx, t, c.Start); err != nil {
				return nil, err
			}
			nonces[c.Start] = n
		}
		if n != "" && n == c.Nonce {
			done[id] = c.Index
		}
	}
	return done, nil
}

// Append adds the entries not yet in the tenant's log, in order, each once, and publishes
// tiles and a checkpoint. It returns how many leaves it added. ErrConflict (wrapped) when
// another writer committed meanwhile: nothing of this call is committed then; call again.
func (l *Log) Append(ctx context.Context, t tenant.ID, es []Entry) (int, error) {
	head, err := l.Complete(ctx, t)
	if err != nil {
		return 0, err
	}
	seen := map[string]bool{}
	var ids []string
	unique := es[:0:0]
	for _, e := range es {
		if !seen[e.EventID] {
			seen[e.EventID] = true
			ids = append(ids, e.EventID)
			unique = append(unique, e)
		}
	}
	// The head is complete: its index holds every committed leaf, so what it lacks is new. A
	// writer that commits meanwhile makes this one's commit fail (ErrConflict), and the retry
	// sees its leaves.
	done, err := l.sequenced(ctx, t, ids)
	if err != nil {
		return 0, err
	}
	todo := unique[:0]
	for _, e := range unique {
		if _, ok := done[e.EventID]; !ok {
			todo = append(todo, e)
		}
	}
	max := l.MaxAppend
	if max <= 0 {
		max = MaxAppend
	}
	added := 0
	for len(todo) > 0 {
		n := min(len(todo), max)
		if head, err = l.appendOnce(ctx, head, todo[:n]); err != nil {
			return added, err
		}
		added += n
		todo = todo[n:]
	}
	if added > 0 {
		if err := l.checkpoint(ctx, &head); err != nil {
			return added, err
		}
	}
	return added, nil
}

// appendOnce commits one append on a fully tiled head, then writes its index items and tiles.
func (l *Log) appendOnce(ctx context.Context, head Head, es []Entry) (Head, error) {
	t := head.Tenant
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return head, err
	}
	rec := &appendRecord{Start: head.Size, Nonce: hex.EncodeToString(nonce), IDs: make([]string, len(es)), Times: make([]int64, len(es)), Hashes: make([]byte, 0, len(es)*tlog.HashSize)}
	hs := newHashes(head.tiledTree(), newTileReader(ctx, l.Archive, t))
	for i, e := range es {
		rec.IDs[i], rec.Times[i] = e.EventID, e.OccurredAt
		leaf := tlog.RecordHash(e.Leaf)
		rec.Hashes = append(rec.Hashes, leaf[:]...)
		if err := hs.add(head.Size+int64(i), leaf); err != nil {
			return head, err
		}
	}
	size := head.Size + int64(len(es))
	root, err := tlog.TreeHash(size, hs)
	if err != nil {
		return head, fmt.Errorf("root of %s at %d: %w", t, size, err)
	}
	rec.Root = root[:]
	st := l.state()
	if err := st.commit(ctx, t, head.Size, rec); err != nil {
		return head, err
	}
	if err := l.step("commit"); err != nil {
		return head, err
	}
	from := head.Size
	head.Size, head.Root = size, root[:]
	if err := st.putIndex(ctx, t, rec); err != nil {
		return head, err
	}
	if err := l.step("index"); err != nil {
		return head, err
	}
	if err := writeTiles(ctx, l.Archive, t, from, size, hs); err != nil {
		return head, err
	}
	if err := st.setTiled(ctx, t, size, root); err != nil {
		return head, err
	}
	head.Tiled, head.TiledRoot = size, root[:]
	l.log().InfoContext(ctx, "log appended", "tenant_id", t, "from", from, "size", size)
	return head, l.step("tiles")
}

// Complete finishes what a crashed or raced writer left of the tenant's committed log: the
// index items and tiles of committed leaves, then a checkpoint of the committed size. It
// returns the head.
func (l *Log) Complete(ctx context.Context, t tenant.ID) (Head, error) {
	head, _, err := l.state().head(ctx, t)
	if err != nil {
		return head, err
	}
	return head, l.complete(ctx, &head)
}

func (l *Log) complete(ctx context.Context, head *Head) error {
	t := head.Tenant
	if head.Tiled < head.Size {
		recs, err := l.state().appends(ctx, t, head.Tiled, head.Size)
		if err != nil {
			return err
		}
		hs := newHashes(head.tiledTree(), newTileReader(ctx, l.Archive, t))
		n := head.Tiled
		for _, r := range recs {
			for i := range r.IDs {
				if err := hs.add(n, hashOf(r.Hashes[i*tlog.HashSize:])); err != nil {
					return err
				}
				n++
			}
		}
		root, err := tlog.TreeHash(head.Size, hs)
		if err != nil {
			return err
		}
		if root != hashOf(head.Root) {
			return fmt.Errorf("the appends of %s up to %d give root %s, the head says %s", t, head.Size, root, hashOf(head.Root))
		}
		for i := range recs {
			if err := l.state().putIndex(ctx, t, &recs[i]); err != nil {
				return err
			}
		}
		if err := writeTiles(ctx, l.Archive, t, head.Tiled, head.Size, hs); err != nil {
			return err
		}
		if err := l.state().setTiled(ctx, t, head.Size, root); err != nil {
			return err
		}
		l.log().InfoContext(ctx, "log tiles completed", "tenant_id", t, "from", head.Tiled, "size", head.Size)
		head.Tiled, head.TiledRoot = head.Size, head.Root
	}
	if head.Size > 0 && (head.CheckpointSize < head.Size || l.now().Sub(head.checkpointTime()) >= HeartbeatEvery) {
		return l.checkpoint(ctx, head)
	}
	return nil
}

// checkpoint signs the head's tree now and writes it: to the checkpoint bucket (locked),
// then as the latest checkpoint, then records it in the head. Published before it is
// recorded, a checkpoint a crash cut off is signed again by the next Complete.
//
// Writers that race may publish out of order: one that signed an older checkpoint can
// overwrite a newer latest object. So a writer whose checkpoint was recorded publishes it
// once more and then reads the head: when the head records a newer checkpoint (another
// writer's, or its own was refused as older), it signs the head's tiled tree and goes
// round again. The last writer to publish then always published what the head records.
func (l *Log) checkpoint(ctx context.Context, head *Head) error {
	if l.Signer == nil {
		return errors.New("no checkpoint signer")
	}
	t := head.Tenant
	size, root := head.Size, hashOf(head.Root)
	for range checkpointRounds {
		c := Checkpoint{Origin: Origin(t), Size: size, Root: root, Time: l.now().Truncate(time.Second)}
		done, err := l.publishCheckpoint(ctx, t, c)
		if err != nil {
			return err
		}
		now, _, err := l.state().head(ctx, t)
		if err != nil {
			return err
		}
		if done && now.CheckpointSize == c.Size && now.CheckpointAt == c.Time.Unix() {
			head.CheckpointSize, head.CheckpointAt = c.Size, c.Time.Unix()
			return nil
		}
		l.log().InfoContext(ctx, "log checkpoint overtaken", "tenant_id", t, "size", c.Size, "recorded", now.CheckpointSize)
		size, root = now.Tiled, hashOf(now.TiledRoot)
	}
	return fmt.Errorf("checkpoint of %s: overtaken %d times by other writers", t, checkpointRounds)
}

// checkpointRounds bounds how often one checkpoint call signs again after being overtaken.
const checkpointRounds = 8

// publishCheckpoint signs c, keeps it in the checkpoint bucket, publishes it as the latest,
// and records it in the head. When the record succeeds it publishes it again (a racing
// writer may have published an older one meanwhile) and reports true; false when the head
// already records a newer checkpoint.
func (l *Log) publishCheckpoint(ctx context.Context, t tenant.ID, c Checkpoint) (bool, error) {
	signed, err := l.Signer.Sign(c)
	if err != nil {
		return false, err
	}
	locked, err := LockedCheckpointKey(t, c)
	if err != nil {
		return false, err
	}
	if err := l.Checkpoints.Put(ctx, locked, signed); err != nil {
		return false, fmt.Errorf("keep checkpoint of %s: %w", t, err)
	}
	if err := l.step("signed"); err != nil {
		return false, err
	}
	latest, err := CheckpointKey(t)
	if err != nil {
		return false, err
	}
	publish := func() error {
		if err := l.Archive.Put(ctx, latest, signed); err != nil {
			return fmt.Errorf("publish checkpoint of %s: %w", t, err)
		}
		return nil
	}
	if err := publish(); err != nil {
		return false, err
	}
	if err := l.step("published"); err != nil {
		return false, err
	}
	recorded, err := l.state().setCheckpoint(ctx, t, c.Size, c.Time)
	if err != nil || !recorded {
		return false, err
	}
	if err := l.step("recorded"); err != nil {
		return false, err
	}
	if err := publish(); err != nil {
		return false, err
	}
	l.log().InfoContext(ctx, "log checkpoint signed", "tenant_id", t, "size", c.Size, "time", c.Time.Format(time.RFC3339))
	return true, nil
}

// Heartbeat completes every tenant's log and signs a fresh checkpoint for each whose last
// one is HeartbeatEvery old, so a tenant can tell "nothing happened" from "cut off".
func (l *Log) Heartbeat(ctx context.Context) error {
	heads, err := l.state().heads(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for i := range heads {
		if err := l.complete(ctx, &heads[i]); err != nil {
			errs = append(errs, fmt.Errorf("log of %s: %w", heads[i].Tenant, err))
		}
	}
	return errors.Join(errs...)
}

// PublishKey records the signer's verifier key in LogTable, and the keys of earlier versions
// of the signing secret given (AWSPREVIOUS), where the checkpoint route lists every key the
// stack has signed with: a rotation keeps old checkpoints verifiable.
func (l *Log) PublishKey(ctx context.Context, previous ...string) error {
	for i, k := range append(previous, l.Signer.VerifierKey()) {
		// An earlier key is dated a second before the current one: the list is newest first.
		at := l.now().Add(time.Duration(i-len(previous)) * time.Second)
		if err := l.state().putKey(ctx, k, at); err != nil {
			return err
		}
	}
	return nil
}

// VerifierKeys returns every verifier key the sequencer has signed with, newest first.
func (l *Log) VerifierKeys(ctx context.Context) ([]string, error) { return l.state().keys(ctx) }
