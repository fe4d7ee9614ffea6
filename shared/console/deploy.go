package console

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// S3 is the part of the S3 client the Deployer uses.
type S3 interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput, opts ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
}

var _ S3 = (*s3.Client)(nil)

// Deployer is the custom resource (Custom::ConsoleDeployment) that puts the console into its
// bucket when the stack is created or updated: every built file under "console/" with its
// content type and cache policy, and config.json made from the resource's properties
// (AuthDomain, ClientId, ConsoleOrigin, ApiUrl). Stale hashed files of older builds are
// removed after the new ones are in place. Deleting the resource empties "console/".
type Deployer struct {
	S3     S3
	Bucket string
	Files  fs.FS
}

// KeyPrefix is where the console's objects go in the bucket (CloudFront serves it at Prefix).
const KeyPrefix = "console/"

// Handle is the cfn.CustomResourceFunction: lambda.Start(cfn.LambdaWrap(d.Handle)).
func (d *Deployer) Handle(ctx context.Context, ev cfn.Event) (string, map[string]any, error) {
	physicalID := "console-" + d.Bucket
	if ev.RequestType == cfn.RequestDelete {
		return physicalID, nil, d.removeExcept(ctx, nil)
	}
	prop := func(k string) string { s, _ := ev.ResourceProperties[k].(string); return s }
	for _, k := range []string{"AuthDomain", "ClientId", "ConsoleOrigin", "ApiUrl"} {
		if prop(k) == "" {
			return physicalID, nil, fmt.Errorf("deploy console: property %s is required", k)
		}
	}
	objs, err := Objects(d.Files)
	if err != nil {
		return physicalID, nil, err
	}
	conf, err := ConfigObject(CognitoConfig(prop("AuthDomain"), prop("ClientId"), prop("ConsoleOrigin"), prop("ApiUrl")))
	if err != nil {
		return physicalID, nil, err
	}
	objs = append(objs, conf)
	keep := map[string]bool{}
	for _, o := range objs {
		key := KeyPrefix + o.Name
		keep[key] = true
		if _, err := d.S3.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(d.Bucket), Key: aws.String(key), Body: bytes.NewReader(o.Body),
			ContentType: aws.String(o.ContentType), CacheControl: aws.String(o.CacheControl),
		}); err != nil {
			return physicalID, nil, fmt.Errorf("deploy console: put %s: %w", key, err)
		}
	}
	if err := d.removeExcept(ctx, keep); err != nil {
		return physicalID, nil, err
	}
	return physicalID, map[string]any{"Files": len(objs)}, nil
}

// removeExcept deletes every object under KeyPrefix that keep does not name.
func (d *Deployer) removeExcept(ctx context.Context, keep map[string]bool) error {
	p := s3.NewListObjectsV2Paginator(d.S3, &s3.ListObjectsV2Input{Bucket: aws.String(d.Bucket), Prefix: aws.String(KeyPrefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("deploy console: list %s: %w", KeyPrefix, err)
		}
		var del []s3types.ObjectIdentifier
		for _, o := range page.Contents {
			if !keep[aws.ToString(o.Key)] {
				del = append(del, s3types.ObjectIdentifier{Key: o.Key})
			}
		}
		if len(del) == 0 {
			continue
		}
		if _, err := d.S3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(d.Bucket), Delete: &s3types.Delete{Objects: del, Quiet: aws.Bool(true)}}); err != nil {
			return fmt.Errorf("deploy console: delete old files: %w", err)
		}
	}
	return nil
}
