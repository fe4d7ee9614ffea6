package vlog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/contrail/contrail/shared/ddb"
	"github.com/contrail/contrail/shared/tenant"
)

// DB is the part of *dynamodb.Client the log uses.
type DB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

var _ DB = (*dynamodb.Client)(nil)

// Items of LogTable (pk, sk):
//
//	HEAD, <tenant>                        the tenant's head: size, root, what is tiled, last checkpoint
//	T#<tenant>#E#<event id>, I            index: the event's leaf index and its append (start, nonce)
//	T#<tenant>#A, <start, 20 digits>      an append: its leaves' event ids, times and hashes, in order
//	KEYS, <verifier key>                  a verifier key the sequencer has signed with
//
// Heads share one partition so the heartbeat lists every log in one Query; each is written
// about once a minute at most.
const (
	headPK = "HEAD"
	keysPK = "KEYS"
)

func indexPK(t tenant.ID, eventID string) string { return "T#" + t.String() + "#E#" + eventID }
func appendPK(t tenant.ID) string                { return "T#" + t.String() + "#A" }
func appendSK(start int64) string                { return fmt.Sprintf("%020d", start) }

// Head is a tenant's tree head as LogTable holds it.
type Head struct {
	Tenant tenant.ID `dynamodbav:"sk"`
	// Size and Root are the committed tree: every leaf below Size is in an append record.
	Size int64  `dynamodbav:"treeSize"`
	Root []byte `dynamodbav:"rootHash"`
	// Tiled is the size whose tiles are all written; TiledRoot its root.
	Tiled     int64  `dynamodbav:"tiled"`
	TiledRoot []byte `dynamodbav:"tiledRoot"`
	// CheckpointSize and CheckpointAt (Unix seconds) are the last signed checkpoint's.
	CheckpointSize int64 `dynamodbav:"checkpointSize"`
	CheckpointAt   int64 `dynamodbav:"checkpointAt"`
}

func (h *Head) tree() tlog.Tree           { return tlog.Tree{N: h.Size, Hash: hashOf(h.Root)} }
func (h *Head) tiledTree() tlog.Tree      { return tlog.Tree{N: h.Tiled, Hash: hashOf(h.TiledRoot)} }
func (h *Head) checkpointTime() time.Time { return time.Unix(h.CheckpointAt, 0).UTC() }

func hashOf(b []byte) tlog.Hash {
	var h tlog.Hash
	copy(h[:], b)
	return h
}

// emptyRoot is the root of the empty tree (RFC 6962: the hash of the empty string).
var emptyRoot = func() tlog.Hash {
	h, _ := tlog.TreeHash(0, nil)
	return h
}()

// appendRecord is one committed append: leaves [Start, Start+len(IDs)).
type appendRecord struct {
	Start  int64    `dynamodbav:"start"`
	IDs    []string `dynamodbav:"ids"`
	Times  []int64  `dynamodbav:"times"`  // occurred_at, Unix ms
	Hashes []byte   `dynamodbav:"hashes"` // the leaves' record hashes, 32 bytes each
	Root   []byte   `dynamodbav:"root"`   // the root at Start+len(IDs)
	Nonce  string   `dynamodbav:"nonce"`
}

// claim is an index item: the event is leaf Index of the committed append (Start, Nonce).
type claim struct {
	Index int64  `dynamodbav:"index"`
	Start int64  `dynamodbav:"start"`
	Nonce string `dynamodbav:"nonce"`
	At    int64  `dynamodbav:"occurredAt"`
}

// ErrConflict says another sequencer committed to the tenant's log meanwhile.
var ErrConflict = errors.New("the log's head changed meanwhile")

// ErrNoLog says the tenant has no log (nothing sequenced yet).
var ErrNoLog = errors.New("the tenant has no log yet")

// state reads and writes LogTable.
type state struct {
	db    DB
	table string
}

func (s *state) key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk}}
}

// head returns the tenant's head; a tenant without one has the empty tree.
func (s *state) head(ctx context.Context, t tenant.ID) (Head, bool, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: s.key(headPK, t.String()), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return Head{}, false, fmt.Errorf("read log head of %s: %w", t, err)
	}
	// Fresh slices: the decoder may write into a slice it is given.
	empty := func() []byte { return append([]byte(nil), emptyRoot[:]...) }
	h := Head{Tenant: t}
	if out.Item == nil {
		h.Root, h.TiledRoot = empty(), empty()
		return h, false, nil
	}
	if err := attributevalue.UnmarshalMap(out.Item, &h); err != nil {
		return Head{}, false, fmt.Errorf("read log head of %s: %w", t, err)
	}
	return h, true, nil
}

// heads returns every tenant's head.
func (s *state) heads(ctx context.Context) ([]Head, error) {
	in := &dynamodb.QueryInput{
		TableName: &s.table, KeyConditionExpression: aws.String("pk = :pk"), ConsistentRead: aws.Bool(true),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: headPK}},
	}
	var out []Head
	for {
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list log heads: %w", err)
		}
		var hs []Head
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &hs); err != nil {
			return nil, fmt.Errorf("list log heads: %w", err)
		}
		for _, h := range hs {
			if h.Tenant.Valid() {
				out = append(out, h)
			}
		}
		if page.LastEvaluatedKey == nil {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// claims returns the index items of ids (missing ids are absent from the map), reading 100
// keys a request, 8 requests at once.
func (s *state) claims(ctx context.Context, t tenant.ID, ids []string) (map[string]claim, error) {
	out := map[string]claim{}
	var mu sync.Mutex
	err := inBatches(len(ids), 100, 8, func(lo, hi int) error {
		keys := make([]map[string]types.AttributeValue, 0, hi-lo)
		for _, id := range ids[lo:hi] {
			keys = append(keys, s.key(indexPK(t, id), "I"))
		}
		got, err := s.batchGet(ctx, keys)
		if err != nil {
			return fmt.Errorf("read log index of %s: %w", t, err)
		}
		mu.Lock()
		defer mu.Unlock()
		for id, c := range got {
			out[id] = c
		}
		return nil
	})
	return out, err
}

// inBatches calls fn for [lo, hi) batches of at most size of n items, parallel at once, and
// joins their errors.
func inBatches(n, size, parallel int, fn func(lo, hi int) error) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, parallel)
	)
	for lo := 0; lo < n; lo += size {
		hi := min(lo+size, n)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(lo, hi); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (s *state) batchGet(ctx context.Context, keys []map[string]types.AttributeValue) (map[string]claim, error) {
	out := map[string]claim{}
	req := map[string]types.KeysAndAttributes{s.table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
	for attempt := 0; len(req) > 0; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, attempt); err != nil {
				return nil, err
			}
		}
		res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return nil, err
		}
		for _, it := range res.Responses[s.table] {
			var c claim
			if err := attributevalue.UnmarshalMap(it, &c); err != nil {
				return nil, err
			}
			pk := it["pk"].(*types.AttributeValueMemberS).Value
			out[pk[strings.LastIndex(pk, "#E#")+3:]] = c
		}
		req = res.UnprocessedKeys
	}
	return out, nil
}

// putIndex writes the index items of a committed append: one a leaf, unconditional (the same
// append always writes the same items), 25 to a BatchWriteItem, eight requests at once.
func (s *state) putIndex(ctx context.Context, t tenant.ID, rec *appendRecord) error {
	puts := make([]types.WriteRequest, len(rec.IDs))
	for i, id := range rec.IDs {
		item, err := attributevalue.MarshalMap(claim{Index: rec.Start + int64(i), Start: rec.Start, Nonce: rec.Nonce, At: rec.Times[i]})
		if err != nil {
			return err
		}
		for k, v := range s.key(indexPK(t, id), "I") {
			item[k] = v
		}
		puts[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: item}}
	}
	return inBatches(len(puts), 25, 8, func(lo, hi int) error {
		req := map[string][]types.WriteRequest{s.table: puts[lo:hi]}
		for attempt := 0; len(req) > 0; attempt++ {
			if attempt > 0 {
				if err := sleep(ctx, attempt); err != nil {
					return err
				}
			}
			out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: req})
			if err != nil {
				return fmt.Errorf("write log index of %s at %d: %w", t, rec.Start, err)
			}
			req = out.UnprocessedItems
		}
		return nil
	})
}

func sleep(ctx context.Context, attempt int) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Duration(min(attempt, 6)) * 50 * time.Millisecond):
		return nil
	}
}

// commit appends rec to the tree of size from, in one transaction: the head, conditional on
// the size it was read at, and the append record. ErrConflict when the head moved.
func (s *state) commit(ctx context.Context, t tenant.ID, from int64, rec *appendRecord) error {
	item, err := attributevalue.MarshalMap(rec)
	if err != nil {
		return err
	}
	for k, v := range s.key(appendPK(t), appendSK(rec.Start)) {
		item[k] = v
	}
	size := rec.Start + int64(len(rec.IDs))
	cond := "treeSize = :from"
	if from == 0 {
		cond = "attribute_not_exists(pk) OR treeSize = :from"
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{
			TableName: &s.table, Key: s.key(headPK, t.String()),
			UpdateExpression:    aws.String("SET treeSize = :size, rootHash = :root, tiled = if_not_exists(tiled, :zero), tiledRoot = if_not_exists(tiledRoot, :empty), checkpointSize = if_not_exists(checkpointSize, :zero), checkpointAt = if_not_exists(checkpointAt, :zero)"),
			ConditionExpression: aws.String(cond),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":from": num(from), ":size": num(size), ":root": &types.AttributeValueMemberB{Value: rec.Root},
				":zero": num(0), ":empty": &types.AttributeValueMemberB{Value: emptyRoot[:]},
			},
		}},
		{Put: &types.Put{TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
	}})
	if ddb.ConditionFailed(err) {
		return fmt.Errorf("append to the log of %s at %d: %w", t, from, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("append to the log of %s at %d: %w", t, from, err)
	}
	return nil
}

func num(n int64) types.AttributeValue { return &types.AttributeValueMemberN{Value: fmt.Sprint(n)} }

// appends returns the append records covering leaves [from, to), in order.
func (s *state) appends(ctx context.Context, t tenant.ID, from, to int64) ([]appendRecord, error) {
	in := &dynamodb.QueryInput{
		TableName: &s.table, ConsistentRead: aws.Bool(true),
		KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :from AND :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: appendPK(t)}, ":from": &types.AttributeValueMemberS{Value: appendSK(from)},
			":to": &types.AttributeValueMemberS{Value: appendSK(to - 1)},
		},
	}
	var out []appendRecord
	for {
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("read the appends of %s [%d, %d): %w", t, from, to, err)
		}
		var rs []appendRecord
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &rs); err != nil {
			return nil, fmt.Errorf("read the appends of %s: %w", t, err)
		}
		out = append(out, rs...)
		if page.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
	next := from
	for _, r := range out {
		if r.Start != next || len(r.Hashes) != len(r.IDs)*tlog.HashSize || len(r.Times) != len(r.IDs) {
			return nil, fmt.Errorf("the appends of %s do not cover [%d, %d) in order: one starts at %d", t, from, to, r.Start)
		}
		next += int64(len(r.IDs))
	}
	if next != to {
		return nil, fmt.Errorf("the appends of %s end at %d, not %d", t, next, to)
	}
	return out, nil
}

// appendNonce returns the nonce of the committed append starting at start ("" when none).
func (s *state) appendNonce(ctx context.Context, t tenant.ID, start int64) (string, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: s.key(appendPK(t), appendSK(start)), ConsistentRead: aws.Bool(true),
		ProjectionExpression: aws.String("#nonce"), ExpressionAttributeNames: map[string]string{"#nonce": "nonce"},
	})
	if err != nil {
		return "", fmt.Errorf("read the append of %s at %d: %w", t, start, err)
	}
	var r appendRecord
	if err := attributevalue.UnmarshalMap(out.Item, &r); err != nil {
		return "", err
	}
	return r.Nonce, nil
}

// setTiled records that the tiles of size (root) are written; it never moves back.
func (s *state) setTiled(ctx context.Context, t tenant.ID, size int64, root tlog.Hash) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: s.key(headPK, t.String()),
		UpdateExpression:    aws.String("SET tiled = :n, tiledRoot = :root"),
		ConditionExpression: aws.String("attribute_exists(pk) AND tiled < :n AND treeSize >= :n"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":n": num(size), ":root": &types.AttributeValueMemberB{Value: root[:]},
		},
	})
	if err != nil && !ddb.ConditionFailed(err) {
		return fmt.Errorf("record the tiles of %s at %d: %w", t, size, err)
	}
	return nil
}

// setCheckpoint records the last signed checkpoint; it never moves back. It reports false
// when the head records a newer one.
func (s *state) setCheckpoint(ctx context.Context, t tenant.ID, size int64, at time.Time) (bool, error) {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: s.key(headPK, t.String()),
		UpdateExpression:          aws.String("SET checkpointSize = :n, checkpointAt = :at"),
		ConditionExpression:       aws.String("attribute_exists(pk) AND checkpointSize <= :n AND checkpointAt <= :at"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": num(size), ":at": num(at.Unix())},
	})
	if ddb.ConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("record the checkpoint of %s at %d: %w", t, size, err)
	}
	return true, nil
}

// putKey records a verifier key the sequencer signs with.
func (s *state) putKey(ctx context.Context, vkey string, at time.Time) error {
	item := s.key(keysPK, vkey)
	item["firstUsedAt"] = num(at.Unix())
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")})
	if err != nil && !ddb.ConditionFailed(err) {
		return fmt.Errorf("publish verifier key: %w", err)
	}
	return nil
}

// keys returns every verifier key the sequencer has signed with, newest first.
func (s *state) keys(ctx context.Context) ([]string, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName: &s.table, KeyConditionExpression: aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: keysPK}},
	})
	if err != nil {
		return nil, fmt.Errorf("read verifier keys: %w", err)
	}
	type key struct {
		Key string `dynamodbav:"sk"`
		At  int64  `dynamodbav:"firstUsedAt"`
	}
	var ks []key
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &ks); err != nil {
		return nil, fmt.Errorf("read verifier keys: %w", err)
	}
	sortKeys := func(i, j int) bool { return ks[i].At > ks[j].At || ks[i].At == ks[j].At && ks[i].Key < ks[j].Key }
	for i := 1; i < len(ks); i++ {
		for j := i; j > 0 && sortKeys(j, j-1); j-- {
			ks[j], ks[j-1] = ks[j-1], ks[j]
		}
	}
	vkeys := make([]string, len(ks))
	for i, k := range ks {
		vkeys[i] = k.Key
	}
	return vkeys, nil
}
