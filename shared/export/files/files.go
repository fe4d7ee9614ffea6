// Package files stores export files in S3: an io.Writer that streams into a multipart
// upload in 5 MiB parts (a small file is one PutObject; shared/s3upload), and presigned
// download links.
package files

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/contrail/contrail/shared/s3upload"
)

// PartSize is the size of every part but the last: S3's minimum.
const PartSize = s3upload.PartSize

// S3 is the part of the S3 client an upload uses.
type S3 = s3upload.S3

// Upload writes one object (s3upload.Upload): Write buffers at most one part, so memory
// stays at PartSize whatever the file's size. Call Close to finish or Abort to give up.
type Upload = s3upload.Upload

// NewUpload starts an upload of bucket/key. filename names the download (Content-Disposition).
func NewUpload(ctx context.Context, client S3, bucket, key, contentType, filename string) *Upload {
	return s3upload.New(ctx, client, bucket, key, s3upload.Options{ContentType: contentType,
		ContentDisposition: fmt.Sprintf("attachment; filename=%q", filename)})
}

// Presigner makes download links valid for TTL.
type Presigner struct {
	Client *s3.PresignClient
	Bucket string
	TTL    time.Duration
}

// Link returns a presigned GET of bucket/key.
func (p *Presigner) Link(ctx context.Context, key string) (string, error) {
	req, err := p.Client.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(p.Bucket), Key: aws.String(key)},
		s3.WithPresignExpires(p.TTL))
	if err != nil {
		return "", fmt.Errorf("presign %s: %w", key, err)
	}
	return req.URL, nil
}

// NewPresigner returns a Presigner of bucket with the export link lifetime.
func NewPresigner(client *s3.Client, bucket string, ttl time.Duration) *Presigner {
	return &Presigner{Client: s3.NewPresignClient(client), Bucket: bucket, TTL: ttl}
}
