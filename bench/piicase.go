package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/contrail/contrail/shared/archive"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/ident"
	"github.com/contrail/contrail/shared/pii"
	"github.com/contrail/contrail/shared/report"
)

// casePII measures what opening sealed contact names (issue 12) costs the logs: the same
// events archived twice, once with their names sealed under their contacts' data keys
// (KeysTable in DynamoDB Local, tenant keys wrapped by the KMS stand-in) and once in
// plaintext, and each report case run over both in one run. The answers must be equal; the
// ratio sealed/plaintext has the target, 1.10. A read makes its own key cache, as a
// request does, so every run pays its BatchGetItem and KMS Decrypt.
func casePII(ctx context.Context, b *bencher) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	st, err := startHandlerStack(ctx, b.o.root, "KeysTable")
	if err != nil {
		return err
	}
	defer st.Stop()
	ring := st.keyring()

	// The data: days of CONTACT_ADDED events of tenant "pii" about contacts (ULIDs).
	days, perDay, contacts := 30, 400, 300
	if b.o.smoke {
		days, perDay, contacts = 3, 100, 40
	}
	end := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	start := end.AddDate(0, 0, -days)
	gen := ident.NewGenerator(func() time.Time { return start })
	ids := make([]string, contacts)
	keys := make([]pii.DataKey, contacts)
	for i := range ids {
		ids[i] = gen.New()
		c, _ := pii.ParseContactID(ids[i])
		if keys[i], err = ring.NewCache().DataKey(ctx, "pii", c); err != nil {
			return err
		}
	}
	tmp, err := os.MkdirTemp("", "contrail-bench-pii-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	plainStore, sealedStore := &archive.DirStore{Dir: filepath.Join(tmp, "plain")}, &archive.DirStore{Dir: filepath.Join(tmp, "sealed")}
	actor := audit.Actor{Type: audit.ActorUser, ID: "u-1", Name: "Bench Agent"}
	for d := range days {
		var plain, sealed []archive.Row
		for i := range perDay {
			at := start.AddDate(0, 0, d).Add(time.Duration(i) * (24 * time.Hour / time.Duration(perDay)))
			n := (d*perDay + i) % contacts
			e := audit.Event{ID: gen.At(at), TenantID: "pii", OccurredAt: audit.FormatTime(at), RecordedAt: audit.FormatTime(at),
				Type: report.TypeAdded, Category: audit.CategoryContact, Actor: actor, Source: audit.SourceManual,
				Contact: &audit.ContactRef{ID: ids[n], Name: fmt.Sprintf("Contact Name %d", n)}, Data: map[string]any{"email": fmt.Sprintf("c%d@example.com", n)}}
			r, err := archive.FromEvent(&e)
			if err != nil {
				return err
			}
			plain = append(plain, r)
			if err := keys[n].SealEvent(&e); err != nil {
				return err
			}
			if r, err = archive.FromEvent(&e); err != nil {
				return err
			}
			sealed = append(sealed, r)
		}
		date := start.AddDate(0, 0, d).Format(time.DateOnly)
		for _, s := range []struct {
			st   archive.Store
			rows []archive.Row
		}{{plainStore, plain}, {sealedStore, sealed}} {
			sort.Slice(s.rows, func(i, j int) bool { return archive.Less(&s.rows[i], &s.rows[j]) })
			key, body, err := archive.EncodePart("pii", date, s.rows)
			if err != nil {
				return err
			}
			if err := s.st.Put(ctx, key, body); err != nil {
				return err
			}
		}
	}
	clock := func() time.Time { return end }
	plainEng := report.NewEngine(plainStore, clock)
	sealedEng := report.NewEngine(sealedStore, clock).WithKeyring(ring)
	period := report.Period{From: start, To: end, TZ: time.UTC}

	page := func(e *report.Engine) func() ([]report.Row, error) {
		return func() ([]report.Row, error) {
			rows, _, err := e.Log(ctx, "pii", report.Added, period, report.Filter{}, nil, 50)
			return rows, err
		}
	}
	csv := func(e *report.Engine, w io.Writer) error {
		_, err := e.WriteCSV(ctx, w, "pii", report.Added, period, report.Filter{})
		return err
	}
	// Same answers first.
	want, err := page(plainEng)()
	if err != nil {
		return err
	}
	got, err := page(sealedEng)()
	if err != nil {
		return err
	}
	if fmt.Sprint(want) != fmt.Sprint(got) || len(want) != 50 {
		return fmt.Errorf("the first log page over sealed names differs from the plaintext one (%d and %d rows)", len(got), len(want))
	}
	var wantCSV, gotCSV bytes.Buffer
	if err := csv(plainEng, &wantCSV); err != nil {
		return err
	}
	if err := csv(sealedEng, &gotCSV); err != nil {
		return err
	}
	if !bytes.Equal(wantCSV.Bytes(), gotCSV.Bytes()) {
		return fmt.Errorf("the CSV over sealed names differs from the plaintext one")
	}

	name := fmt.Sprintf("6. Added log page of 50, %d days, sealed names (vs plaintext)", days)
	c, d, err := b.pair(name, b.o.runs, func() error { _, err := page(sealedEng)(); return err }, func() error { _, err := page(plainEng)(); return err })
	if err != nil {
		return err
	}
	b.ratioRow(name, c, d, 1.10)

	// Floor: the cheapest read of a key there is, one consistent GetItem of the tenant's key
	// item, against the whole plaintext page. A sealed page must read its data keys once per
	// request (a key kept across requests would still open an erased contact's name), so when
	// this one read alone costs more than a tenth of the page, no sealed page can meet 1.10 here.
	tpk, err := pii.TenantKeyPK("pii")
	if err != nil {
		return err
	}
	getKey := &dynamodb.GetItemInput{TableName: aws.String(benchTable("KeysTable")), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: tpk}}}
	read := func() error {
		out, err := st.db.GetItem(ctx, getKey)
		if err == nil && out.Item == nil {
			err = fmt.Errorf("no tenant key item %s", tpk)
		}
		return err
	}
	c, d, err = b.pair("6 b. floor", b.o.runs, read, func() error { _, err := page(plainEng)(); return err })
	if err != nil {
		return err
	}
	b.breakdownRow("6 b. floor: one GetItem of a key item (DynamoDB Local) vs the whole plaintext page", c, d)

	name = fmt.Sprintf("6. Added log CSV, %d rows, sealed names (vs plaintext)", days*perDay)
	c, d, err = b.pair(name, b.o.runs, func() error { return csv(sealedEng, io.Discard) }, func() error { return csv(plainEng, io.Discard) })
	if err != nil {
		return err
	}
	b.ratioRow(name, c, d, 1.10)
	return nil
}
