// Package s3bucket is an S3 bucket as a function's environment names it: the bucket's name and
// how its S3 client addresses it. S3_FORCE_PATH_STYLE is read here only, for every bucket
// (the archive, the exports), so it has one default and one parse.
package s3bucket

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/contrail/contrail/shared/env"
)

// Config is one bucket of a function.
type Config struct {
	Name string // the variable Read was given (ARCHIVE_BUCKET, EXPORTS_BUCKET)
	// PathStyle (S3_FORCE_PATH_STYLE=true) addresses the bucket in the path, as the local S3
	// server, MinIO and LocalStack want; false (the default, AWS) in the host name.
	PathStyle bool
}

// Read reads the bucket named by the variable nameVar, and S3_FORCE_PATH_STYLE.
func Read(r *env.Reader, nameVar string) Config {
	return Config{Name: r.String(nameVar), PathStyle: r.Bool("S3_FORCE_PATH_STYLE", false)}
}

// Options sets the client options the bucket needs: s3.NewFromConfig(cfg, c.Options).
func (c Config) Options(o *s3.Options) { o.UsePathStyle = c.PathStyle }

// Client returns an S3 client for the bucket.
func (c Config) Client(cfg aws.Config) *s3.Client { return s3.NewFromConfig(cfg, c.Options) }
