package streams

// Positions kept per shard in a file, so a restarted stack carries on where it stopped.

import (
	"encoding/json"
	"os"
	"path/filepath"
)

// checkpoint is the file kept per mapping.
type checkpoint struct {
	StreamARN string            `json:"streamArn"`
	Shards    map[string]string `json:"shards"` // shard id -> last sequence number handled
	Done      []string          `json:"done"`   // closed shards read to their end
}

func (r *runner) checkpoint(shardID, seq string) {
	if seq == "" {
		return
	}
	r.ckpt.Shards[shardID] = seq
	r.saveCheckpoint()
}

func (r *runner) path() string {
	if r.cfg.CheckpointDir == "" {
		return ""
	}
	return filepath.Join(r.cfg.CheckpointDir, r.m.Function+"."+r.m.Table+".json")
}

func (r *runner) loadCheckpoint() checkpoint {
	var c checkpoint
	if p := r.path(); p != "" {
		if b, err := os.ReadFile(p); err == nil {
			if err := json.Unmarshal(b, &c); err != nil {
				r.log.Warn("ignoring unreadable stream checkpoint", "path", p, "error", err.Error())
				c = checkpoint{}
			}
		}
	}
	if c.Shards == nil {
		c.Shards = map[string]string{}
	}
	return c
}

func (r *runner) saveCheckpoint() {
	p := r.path()
	if p == "" {
		return
	}
	b, _ := json.MarshalIndent(r.ckpt, "", "  ")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.log.Warn("save stream checkpoint", "error", err.Error())
		return
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		r.log.Warn("save stream checkpoint", "error", err.Error())
		return
	}
	if err := os.Rename(tmp, p); err != nil {
		r.log.Warn("save stream checkpoint", "error", err.Error())
	}
}
