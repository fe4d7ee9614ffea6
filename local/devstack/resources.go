package devstack

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/contrail/contrail/local/template"
)

// TableName is the local name of a template table: "contrail-ContactsTable".
func TableName(prefix, logicalID string) string { return prefix + "-" + logicalID }

// BucketName is the local name of a template bucket: ArchiveBucket -> "contrail-archive".
func BucketName(prefix, logicalID string) string {
	return strings.ToLower(prefix) + "-" + template.Dir(strings.TrimSuffix(logicalID, "Bucket"))
}

// ensureTables creates every table of the template that does not exist yet, and brings an
// existing one up to the template: missing indexes, the stream and TTL. Data is kept.
func ensureTables(ctx context.Context, db *dynamodb.Client, tpl *template.Template, names map[string]string) error {
	for _, tb := range tpl.Tables() {
		if err := ensureTable(ctx, db, tb, names[tb.LogicalID]); err != nil {
			return err
		}
	}
	return nil
}

func ensureTable(ctx context.Context, db *dynamodb.Client, tb template.Table, name string) error {
	want := tb.CreateTableInput(name)
	out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	var notFound *types.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
		if _, err := db.CreateTable(ctx, want); err != nil {
			return fmt.Errorf("create table %s: %w", name, err)
		}
	case err != nil:
		return fmt.Errorf("describe table %s: %w", name, err)
	default:
		if err := updateTable(ctx, db, out.Table, want); err != nil {
			return err
		}
	}
	if err := waitActive(ctx, db, name); err != nil {
		return err
	}
	if tb.TTLAttribute != "" {
		ttl, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("describe TTL of %s: %w", name, err)
		}
		if d := ttl.TimeToLiveDescription; d == nil || d.TimeToLiveStatus != types.TimeToLiveStatusEnabled || aws.ToString(d.AttributeName) != tb.TTLAttribute {
			_, err := db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
				TableName:               aws.String(name),
				TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(tb.TTLAttribute), Enabled: aws.Bool(true)},
			})
			if err != nil && !strings.Contains(err.Error(), "already enabled") {
				return fmt.Errorf("enable TTL on %s: %w", name, err)
			}
		}
	}
	return nil
}

// updateTable adds what an existing table lacks: a stream and global secondary indexes.
func updateTable(ctx context.Context, db *dynamodb.Client, have *types.TableDescription, want *dynamodb.CreateTableInput) error {
	name := aws.ToString(want.TableName)
	if ws := want.StreamSpecification; ws != nil && (have.StreamSpecification == nil || !aws.ToBool(have.StreamSpecification.StreamEnabled)) {
		if _, err := db.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(name), StreamSpecification: ws}); err != nil {
			return fmt.Errorf("enable the stream of %s: %w", name, err)
		}
		if err := waitActive(ctx, db, name); err != nil {
			return err
		}
	}
	existing := map[string]bool{}
	for _, g := range have.GlobalSecondaryIndexes {
		existing[aws.ToString(g.IndexName)] = true
	}
	for _, g := range want.GlobalSecondaryIndexes {
		if existing[aws.ToString(g.IndexName)] {
			continue
		}
		_, err := db.UpdateTable(ctx, &dynamodb.UpdateTableInput{
			TableName:            aws.String(name),
			AttributeDefinitions: want.AttributeDefinitions,
			GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{
				IndexName: g.IndexName, KeySchema: g.KeySchema, Projection: g.Projection,
			}}},
		})
		if err != nil {
			return fmt.Errorf("add index %s to %s: %w", aws.ToString(g.IndexName), name, err)
		}
		if err := waitActive(ctx, db, name); err != nil {
			return err
		}
	}
	return nil
}

func waitActive(ctx context.Context, db *dynamodb.Client, name string) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("wait for table %s: %w", name, err)
		}
		ready := out.Table.TableStatus == types.TableStatusActive
		for _, g := range out.Table.GlobalSecondaryIndexes {
			ready = ready && g.IndexStatus == types.IndexStatusActive
		}
		if ready {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("table %s is not ACTIVE: %w", name, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// streamARNs returns LogicalId -> latest stream ARN of every table with a stream.
func streamARNs(ctx context.Context, db *dynamodb.Client, names map[string]string) (map[string]string, error) {
	out := map[string]string{}
	for id, name := range names {
		d, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			return nil, fmt.Errorf("describe table %s: %w", name, err)
		}
		if arn := aws.ToString(d.Table.LatestStreamArn); arn != "" {
			out[id] = arn
		}
	}
	return out, nil
}

func ensureBucket(ctx context.Context, client *s3.Client, name string) error {
	if _, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(name)}); err == nil {
		return nil
	}
	_, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
	var owned *s3types.BucketAlreadyOwnedByYou
	var exists *s3types.BucketAlreadyExists
	if err != nil && !errors.As(err, &owned) && !errors.As(err, &exists) {
		return fmt.Errorf("create bucket %s: %w", name, err)
	}
	return nil
}

// secret returns the local value of a Secrets Manager secret, kept in dir/<logicalID> and
// created (48 random letters and digits, like the template's GenerateSecretString) on first use.
func secret(dir, logicalID string) (string, error) {
	path := filepath.Join(dir, logicalID)
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	var b strings.Builder
	for range 48 {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			return "", fmt.Errorf("generate secret %s: %w", logicalID, err)
		}
		b.WriteByte(alphabet[n.Int64()])
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("store secret %s: %w", logicalID, err)
	}
	if err := os.WriteFile(path, []byte(b.String()+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("store secret %s: %w", logicalID, err)
	}
	return b.String(), nil
}
