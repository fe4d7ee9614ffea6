package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/contrail/contrail/local/emulator"
	"github.com/contrail/contrail/local/template"
	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/contact"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/ident"
	"github.com/contrail/contrail/shared/pii"
)

// caseWrite times POST /v1/contacts through the real handler (route, roles, body decoding,
// contact service, one TransactWriteItems of the contact and its CONTACT_ADDED event)
// against DynamoDB Local, and a bare TransactWriteItems of the same two items, prepared in
// advance: the difference is Contrail's own cost per request.
func caseWrite(ctx context.Context, b *bencher) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	p, err := emulator.StartDynamoDB(ctx, emulator.Options{Root: b.o.root})
	if err != nil {
		return err
	}
	defer p.Stop()
	db := dynamodb.NewFromConfig(emulator.Config(p.Endpoint), func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
	tpl, err := template.Load(filepath.Join(b.o.root, template.FileName))
	if err != nil {
		return err
	}
	names := map[string]string{}
	for _, tb := range tpl.Tables() {
		name := "bench-" + tb.LogicalID
		names[tb.LogicalID] = name
		if _, err := db.CreateTable(ctx, tb.CreateTableInput(name)); err != nil {
			return fmt.Errorf("create table %s: %w", name, err)
		}
	}
	for _, name := range names {
		w := dynamodb.NewTableExistsWaiter(db)
		if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, time.Minute); err != nil {
			return err
		}
	}
	slog.SetDefault(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	cfg := contact.Config{ContactsTable: names["ContactsTable"],
		Audit: audit.StoreConfig{Table: names["AuditTable"], Shards: 4, Retention: audit.RetentionDays(400, 400, 400, 400)}}
	svc := contact.NewWith(cfg, db, ident.SystemClock, ident.NewGenerator(ident.SystemClock))
	// Sealing is part of the write: the contact's data key joins its transaction; the tenant
	// key is wrapped by a local KMS once.
	k, err := emulator.NewKMS(emulator.KMSOptions{})
	if err != nil {
		return err
	}
	kmsSrv := httptest.NewServer(k)
	defer kmsSrv.Close()
	svc.Keyring = &pii.Keyring{DB: db, Table: names["KeysTable"], Wrapper: &pii.KMSWrapper{
		KMS: kms.NewFromConfig(emulator.Config(kmsSrv.URL), func(o *kms.Options) { o.BaseEndpoint = aws.String(kmsSrv.URL) }), KeyID: k.KeyARN()}}
	h := httpapi.Route(httpapi.ContactRoles, svc.Create)

	raw, err := os.ReadFile(filepath.Join(b.o.root, "events", "create-contact-manual.json"))
	if err != nil {
		return err
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		return err
	}
	delete(ev.Headers, "idempotency-key") // one write; the key's replay read is measured apart below
	contrail := func() error {
		resp, err := h(ctx, ev)
		if err != nil {
			return err
		}
		if resp.StatusCode != 201 {
			return fmt.Errorf("POST /v1/contacts answered %d: %s", resp.StatusCode, resp.Body)
		}
		return nil
	}

	// The items the handler writes, read back once, become the bare transaction's template.
	if err := contrail(); err != nil {
		return err
	}
	contactItem, err := onlyItem(ctx, db, names["ContactsTable"])
	if err != nil {
		return err
	}
	eventItem, err := onlyItem(ctx, db, names["AuditTable"])
	if err != nil {
		return err
	}
	oldContact := contactItem["id"].(*types.AttributeValueMemberS).Value
	oldEvent := eventItem["id"].(*types.AttributeValueMemberS).Value
	ids := ident.NewGenerator(ident.SystemClock)
	runs := b.o.writeRuns
	inputs := make([]*dynamodb.TransactWriteItemsInput, runs+1)
	for i := range inputs {
		r := strings.NewReplacer(oldContact, ids.New(), oldEvent, ids.New())
		inputs[i] = &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: aws.String(names["ContactsTable"]), Item: replaceItem(contactItem, r), ConditionExpression: aws.String("attribute_not_exists(pk)")}},
			{Put: &types.Put{TableName: aws.String(names["AuditTable"]), Item: replaceItem(eventItem, r), ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		}}
	}
	next := 0
	bare := func() error {
		in := inputs[next]
		next++
		_, err := db.TransactWriteItems(ctx, in)
		return err
	}
	c, d, err := b.pair("write", runs, contrail, bare)
	if err != nil {
		return err
	}
	b.ratioRow(fmt.Sprintf("4. POST /v1/contacts vs bare TransactWriteItems (%d each)", runs), c, d, 1.15)
	return nil
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
