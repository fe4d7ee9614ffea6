package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/contrail/contrail/local/emulator"
	"github.com/contrail/contrail/local/template"
	"github.com/contrail/contrail/shared/pii"
)

// handlerStack is what the cases that drive real handlers run on: DynamoDB Local with
// template.yaml's tables (each named "bench-<LogicalId>", as localRefs names them) and the
// KMS stand-in. Functions' logs are discarded: the bench times them, it does not read them.
type handlerStack struct {
	tpl  *template.Template
	db   *dynamodb.Client
	kms  *emulator.KMS
	kmsc *kms.Client
	stop []func()
}

// startHandlerStack starts it with the tables named (all of them when none is).
func startHandlerStack(ctx context.Context, root string, tables ...string) (*handlerStack, error) {
	tpl, err := template.Load(filepath.Join(root, template.FileName))
	if err != nil {
		return nil, err
	}
	p, err := emulator.StartDynamoDB(ctx, emulator.Options{Root: root})
	if err != nil {
		return nil, err
	}
	s := &handlerStack{tpl: tpl, stop: []func(){func() { p.Stop() }}}
	s.db = dynamodb.NewFromConfig(emulator.Config(p.Endpoint), func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
	for _, tb := range tpl.Tables() {
		if len(tables) > 0 && !slices.Contains(tables, tb.LogicalID) {
			continue
		}
		name := benchTable(tb.LogicalID)
		if _, err := s.db.CreateTable(ctx, tb.CreateTableInput(name)); err != nil {
			s.Stop()
			return nil, fmt.Errorf("create table %s: %w", name, err)
		}
		if err := dynamodb.NewTableExistsWaiter(s.db).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, time.Minute); err != nil {
			s.Stop()
			return nil, err
		}
	}
	if s.kms, err = emulator.NewKMS(emulator.KMSOptions{}); err != nil {
		s.Stop()
		return nil, err
	}
	srv := httptest.NewServer(s.kms)
	s.stop = append(s.stop, srv.Close)
	s.kmsc = kms.NewFromConfig(emulator.Config(srv.URL), func(o *kms.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	slog.SetDefault(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	return s, nil
}

// benchTable is the name of template.yaml's table logicalID in the bench.
func benchTable(logicalID string) string { return "bench-" + logicalID }

// keyring is a keyring over the stack's KeysTable, tenant keys wrapped by its KMS.
func (s *handlerStack) keyring() *pii.Keyring {
	return &pii.Keyring{DB: s.db, Table: benchTable("KeysTable"), Wrapper: &pii.KMSWrapper{KMS: s.kmsc, KeyID: s.kms.KeyARN()}}
}

// Stop stops what startHandlerStack started.
func (s *handlerStack) Stop() {
	for i := len(s.stop) - 1; i >= 0; i-- {
		s.stop[i]()
	}
}
