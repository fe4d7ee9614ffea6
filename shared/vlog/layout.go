package vlog

import (
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/contrail/contrail/shared/tenant"
)

// Object layout:
//
//	archive bucket   log/tenant=<t>/tile/<L>/<N>[.p/<W>]     the tree's hash tiles (C2SP tlog-tiles, height 8)
//	archive bucket   log/tenant=<t>/checkpoint               the latest signed checkpoint (C2SP tlog-checkpoint)
//	checkpoint bucket tenant=<t>/<size, 20 digits>-<unix s>.checkpoint   every signed checkpoint, Object Lock
const LogPrefix = "log/"

func logPrefix(t tenant.ID) (string, error) {
	if !t.Valid() {
		return "", fmt.Errorf("log of tenant %q: not a valid tenant id", string(t))
	}
	return LogPrefix + "tenant=" + t.String() + "/", nil
}

// TileKey is the archive-bucket key of a tenant's tile.
func TileKey(t tenant.ID, p TilePath) (string, error) {
	prefix, err := logPrefix(t)
	return prefix + p.String(), err
}

// CheckpointKey is the archive-bucket key of a tenant's latest checkpoint.
func CheckpointKey(t tenant.ID) (string, error) {
	prefix, err := logPrefix(t)
	return prefix + "checkpoint", err
}

// LockedCheckpointKey is the checkpoint-bucket key of one signed checkpoint.
func LockedCheckpointKey(t tenant.ID, c Checkpoint) (string, error) {
	if !t.Valid() {
		return "", fmt.Errorf("checkpoint of tenant %q: not a valid tenant id", string(t))
	}
	return fmt.Sprintf("tenant=%s/%020d-%d.checkpoint", t, c.Size, c.Time.Unix()), nil
}

func tileKey(t tenant.ID, tile tlog.Tile) (string, error) { return TileKey(t, TileOf(tile)) }
