package source

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/pii"
	"github.com/contrail/contrail/shared/report"
	"github.com/contrail/contrail/shared/tenant"
)

// openRows opens the personal fields of archived rows in place, with one OpenValues call
// (the keys of all their contacts fetched at once): the one place the audit export
// decrypts. Those are contact_name and, inside the data column, the fields
// audit.PersonalFields names; a row whose data changes is written back in the archive's
// canonical JSON, so an opened row is byte for byte the plaintext one. A field of an erased
// contact reads pii.Erased; plaintext rows are left untouched. A tenant key that does not
// unwrap, a lost data key or a tampered value is an error, never pii.Erased.
func openRows(ctx context.Context, c *pii.Cache, rows []archive.Row) error {
	type slot struct {
		row  int
		data string // the data field; "" = contact_name
	}
	var vals []pii.Value
	var slots []slot
	datas := map[int]map[string]any{} // rows whose data holds sealed fields, decoded
	for i := range rows {
		r := &rows[i]
		t := tenant.ID(r.TenantID)
		if pii.IsSealed(r.ContactName) {
			vals = append(vals, pii.Value{Tenant: t, ContactID: r.ContactID, EventID: r.EventID, Field: audit.ContactNameField, V: r.ContactName})
			slots = append(slots, slot{row: i})
		}
		fields := audit.PersonalFields(r.Type)
		if len(fields) == 0 || !strings.Contains(r.Data, pii.Prefix) {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader([]byte(r.Data)))
		dec.UseNumber() // numbers keep their spelling when the data is written back
		var data map[string]any
		if err := dec.Decode(&data); err != nil {
			return fmt.Errorf("open personal fields of archived event %s: data: %w", r.EventID, err)
		}
		for _, name := range fields {
			if v := data[name]; pii.IsSealed(v) {
				vals = append(vals, pii.Value{Tenant: t, ContactID: r.ContactID, EventID: r.EventID, Field: pii.DataField(name), V: v})
				slots = append(slots, slot{row: i, data: name})
				datas[i] = data
			}
		}
	}
	if len(vals) == 0 {
		return nil
	}
	if c == nil {
		return fmt.Errorf("archived event %s holds sealed personal fields, and the export has no personal-data keys", rows[slots[0].row].EventID)
	}
	err := c.OpenValues(ctx, vals)
	for j, sl := range slots {
		if sl.data != "" {
			datas[sl.row][sl.data] = vals[j].V
		} else if s, ok := vals[j].V.(string); ok {
			rows[sl.row].ContactName = s
		}
	}
	if err != nil {
		return fmt.Errorf("export archived events: %w", err)
	}
	for i, data := range datas {
		s, err := archive.DataJSON(data)
		if err != nil {
			return fmt.Errorf("open personal fields of archived event %s: data: %w", rows[i].EventID, err)
		}
		rows[i].Data = s
	}
	return nil
}

// openedRows hands fn the rows of a scan with their personal fields opened, in the scan's
// order, report.OpenBatch rows at a time (each cloned: the reader reuses its memory).
type openedRows struct {
	ctx   context.Context
	cache *pii.Cache
	batch []archive.Row
	fn    func(*archive.Row) error
}

func newOpenedRows(ctx context.Context, c *pii.Cache, fn func(*archive.Row) error) *openedRows {
	return &openedRows{ctx: ctx, cache: c, batch: make([]archive.Row, 0, report.OpenBatch), fn: fn}
}

// add is the scan's callback.
func (o *openedRows) add(r *archive.Row) error {
	o.batch = append(o.batch, cloneRow(r))
	if len(o.batch) == cap(o.batch) {
		return o.flush()
	}
	return nil
}

// flush opens and hands on the rows held.
func (o *openedRows) flush() error {
	defer func() { o.batch = o.batch[:0] }()
	if err := openRows(o.ctx, o.cache, o.batch); err != nil {
		return err
	}
	for i := range o.batch {
		if err := o.fn(&o.batch[i]); err != nil {
			return err
		}
	}
	return nil
}
