package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/contact"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/ident"
	"github.com/contrail/contrail/shared/pii"
	"github.com/contrail/contrail/shared/tenant"
)

// caseWrite times the write path against DynamoDB Local, in three rows of one run:
//
//   - 4: POST /v1/contacts through the real handler (route, roles, body decoding, contact
//     service, one TransactWriteItems of the contact and its CONTACT_ADDED event) with
//     sealing off, against a bare TransactWriteItems of the same two items, prepared in
//     advance: Contrail's own cost per request.
//   - 4s: the cost of sealing (issue 12, target 1.10): the same handler with the contact
//     service's keyring (KeysTable, tenant key wrapped by the KMS stand-in) against the same
//     handler with sealing off (contact.Service.Unsealed, a switch only this bench sets; a
//     service without a keyring refuses to write). Once for a new contact (its data key is
//     made and joins the transaction: the tenant key read and unwrapped by KMS) and once for
//     a comment on an existing contact (its data key and the tenant key read in one
//     BatchGetItem, the tenant key unwrapped by KMS). Every request makes its own key
//     cache, as a Lambda invocation does.
func caseWrite(ctx context.Context, b *bencher) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	st, err := startHandlerStack(ctx, b.o.root, "ContactsTable", "AuditTable", "KeysTable")
	if err != nil {
		return err
	}
	defer st.Stop()
	db := st.db
	cfg := contact.Config{ContactsTable: benchTable("ContactsTable"),
		Audit: audit.StoreConfig{Table: benchTable("AuditTable"), Shards: 4, Retention: audit.RetentionDays(400, 400, 400, 400)}}
	// Sealed: as the functions run. The tenant key is wrapped by a local KMS.
	sealedSvc := contact.NewWith(cfg, db, ident.SystemClock, ident.NewGenerator(ident.SystemClock))
	sealedSvc.Keyring = st.keyring()
	// Plain: the same service, sealing off, no keyring.
	plainSvc := contact.NewWith(cfg, db, ident.SystemClock, ident.NewGenerator(ident.SystemClock))
	plainSvc.Unsealed = true

	createEv, err := readEvent(b.o.root, "create-contact-manual.json")
	if err != nil {
		return err
	}
	delete(createEv.Headers, "idempotency-key") // one write; the key's replay read is not the handler's overhead
	create := func(svc *contact.Service) func() error { return created(ctx, svc.Create, createEv) }
	sealedCreate, plainCreate := create(sealedSvc), create(plainSvc)

	// The items the plain handler writes, read back once, become the bare transaction's
	// template (the tables are empty before).
	if err := plainCreate(); err != nil {
		return err
	}
	contactItem, err := onlyItem(ctx, db, benchTable("ContactsTable"))
	if err != nil {
		return err
	}
	eventItem, err := onlyItem(ctx, db, benchTable("AuditTable"))
	if err != nil {
		return err
	}
	if holdsSealed(&types.AttributeValueMemberM{Value: eventItem}) {
		return fmt.Errorf("the event written with sealing off holds a sealed value")
	}
	oldContact := contactItem["id"].(*types.AttributeValueMemberS).Value
	oldEvent := eventItem["id"].(*types.AttributeValueMemberS).Value
	ids := ident.NewGenerator(ident.SystemClock)
	runs := b.o.writeRuns
	inputs := make([]*dynamodb.TransactWriteItemsInput, runs+1)
	for i := range inputs {
		r := strings.NewReplacer(oldContact, ids.New(), oldEvent, ids.New())
		inputs[i] = &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: aws.String(benchTable("ContactsTable")), Item: replaceItem(contactItem, r), ConditionExpression: aws.String("attribute_not_exists(pk)")}},
			{Put: &types.Put{TableName: aws.String(benchTable("AuditTable")), Item: replaceItem(eventItem, r), ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		}}
	}
	next := 0
	bare := func() error {
		in := inputs[next]
		next++
		_, err := db.TransactWriteItems(ctx, in)
		return err
	}
	c, d, err := b.pair("write", runs, plainCreate, bare)
	if err != nil {
		return err
	}
	b.ratioRow(fmt.Sprintf("4. POST /v1/contacts (sealing off) vs bare TransactWriteItems (%d each)", runs), c, d, 1.15)

	// The sealed side must seal: its first create (which also makes the tenant key) writes a
	// data key and a sealed event.
	before, err := countItems(ctx, db, benchTable("AuditTable"), true)
	if err != nil {
		return err
	}
	if err := sealedCreate(); err != nil {
		return err
	}
	after, err := countItems(ctx, db, benchTable("AuditTable"), true)
	if err != nil {
		return err
	}
	if after != before+1 {
		return fmt.Errorf("a sealed create wrote %d sealed events, want 1", after-before)
	}
	name := fmt.Sprintf("4s. POST /v1/contacts sealed (vs sealing off, %d each)", runs)
	c, d, err = b.pair(name, runs, sealedCreate, plainCreate)
	if err != nil {
		return err
	}
	b.ratioRow(name, c, d, 1.10)

	// A comment on an existing contact (made sealed, so it has its data key): both sides
	// comment on the same contact, one after the other.
	h := httpapi.Route(httpapi.ContactRoles, sealedSvc.Create)
	resp, err := h(ctx, createEv)
	if err != nil {
		return err
	}
	var made struct{ ID string }
	if err := json.Unmarshal([]byte(resp.Body), &made); err != nil || made.ID == "" {
		return fmt.Errorf("POST /v1/contacts answered %d %q: no contact id", resp.StatusCode, resp.Body)
	}
	commentEv, err := readEvent(b.o.root, "comment-contact-ok.json")
	if err != nil {
		return err
	}
	old := commentEv.PathParameters["id"]
	commentEv.PathParameters["id"] = made.ID
	commentEv.RawPath = strings.Replace(commentEv.RawPath, old, made.ID, 1)
	commentEv.RequestContext.HTTP.Path = commentEv.RawPath
	delete(commentEv.Headers, "idempotency-key")
	comment := func(svc *contact.Service) func() error { return created(ctx, svc.AddComment, commentEv) }
	sealedComment, plainComment := comment(sealedSvc), comment(plainSvc)
	if before, err = countItems(ctx, db, benchTable("AuditTable"), true); err != nil {
		return err
	}
	if err := sealedComment(); err != nil {
		return err
	}
	if after, err = countItems(ctx, db, benchTable("AuditTable"), true); err != nil {
		return err
	}
	if after != before+1 {
		return fmt.Errorf("a sealed comment wrote %d sealed events, want 1", after-before)
	}
	name = fmt.Sprintf("4s. POST /v1/contacts/{id}/comments sealed (vs sealing off, %d each)", runs)
	c, d, err = b.pair(name, runs, sealedComment, plainComment)
	if err != nil {
		return err
	}
	b.ratioRow(name, c, d, 1.10)

	// Breakdown: what a sealed comment adds, the contact's data key read on a fresh cache
	// (one BatchGetItem of the data key and the tenant key, one KMS Decrypt of the tenant
	// key, the data key's unwrap), against that KMS Decrypt alone.
	const acme = tenant.ID("acme")
	cid, err := pii.ParseContactID(made.ID)
	if err != nil {
		return err
	}
	tpk, err := pii.TenantKeyPK(acme)
	if err != nil {
		return err
	}
	tk, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(benchTable("KeysTable")), Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: tpk}}})
	if err != nil {
		return err
	}
	wrapped, ok := tk.Item["wrappedKey"].(*types.AttributeValueMemberB)
	if !ok {
		return fmt.Errorf("the tenant key item %s holds no wrappedKey", tpk)
	}
	keyRead := func() error {
		_, err := sealedSvc.Keyring.NewCache().DataKey(ctx, acme, cid)
		return err
	}
	decrypt := func() error {
		_, err := sealedSvc.Keyring.Wrapper.Unwrap(ctx, acme, wrapped.Value)
		return err
	}
	c, d, err = b.pair("4s b. breakdown", runs, keyRead, decrypt)
	if err != nil {
		return err
	}
	b.breakdownRow("4s b. breakdown: a comment's data-key read (BatchGetItem + KMS Decrypt) vs the KMS Decrypt alone", c, d)
	return nil
}

// readEvent reads a sample API request from events/.
func readEvent(root, file string) (events.APIGatewayV2HTTPRequest, error) {
	var ev events.APIGatewayV2HTTPRequest
	raw, err := os.ReadFile(filepath.Join(root, "events", file))
	if err != nil {
		return ev, err
	}
	return ev, json.Unmarshal(raw, &ev)
}

// countItems counts the items of a table, or (sealed) those holding a sealed value.
func countItems(ctx context.Context, db *dynamodb.Client, table string, sealed bool) (int, error) {
	n := 0
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return 0, err
		}
		for _, it := range out.Items {
			if !sealed || holdsSealed(&types.AttributeValueMemberM{Value: it}) {
				n++
			}
		}
	}
	return n, nil
}

// holdsSealed reports whether v holds a sealed personal field (pii.Prefix) anywhere.
func holdsSealed(v types.AttributeValue) bool {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return strings.Contains(x.Value, pii.Prefix)
	case *types.AttributeValueMemberM:
		for _, e := range x.Value {
			if holdsSealed(e) {
				return true
			}
		}
	case *types.AttributeValueMemberL:
		for _, e := range x.Value {
			if holdsSealed(e) {
				return true
			}
		}
	}
	return false
}

// onlyItem scans a table that holds exactly one item.
func onlyItem(ctx context.Context, db *dynamodb.Client, table string) (map[string]types.AttributeValue, error) {
	out, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table)})
	if err != nil {
		return nil, err
	}
	if len(out.Items) != 1 {
		return nil, fmt.Errorf("%s holds %d items after one create, want 1", table, len(out.Items))
	}
	return out.Items[0], nil
}

// replaceItem copies an item with every string rewritten by r.
func replaceItem(item map[string]types.AttributeValue, r *strings.Replacer) map[string]types.AttributeValue {
	out := make(map[string]types.AttributeValue, len(item))
	for k, v := range item {
		out[k] = replaceAV(v, r)
	}
	return out
}

func replaceAV(v types.AttributeValue, r *strings.Replacer) types.AttributeValue {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return &types.AttributeValueMemberS{Value: r.Replace(x.Value)}
	case *types.AttributeValueMemberM:
		return &types.AttributeValueMemberM{Value: replaceItem(x.Value, r)}
	case *types.AttributeValueMemberL:
		l := make([]types.AttributeValue, len(x.Value))
		for i, e := range x.Value {
			l[i] = replaceAV(e, r)
		}
		return &types.AttributeValueMemberL{Value: l}
	}
	return v
}

// created returns one call of the contact route handler hd with the request ev, which
// fails unless it answers 201.
func created(ctx context.Context, hd httpapi.Handler, ev events.APIGatewayV2HTTPRequest) func() error {
	h := httpapi.Route(httpapi.ContactRoles, hd)
	return func() error {
		resp, err := h(ctx, ev)
		if err != nil {
			return err
		}
		if resp.StatusCode != 201 {
			return fmt.Errorf("%s answered %d: %s", ev.RouteKey, resp.StatusCode, resp.Body)
		}
		return nil
	}
}
