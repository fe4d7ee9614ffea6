// Command seedarchive copies a folder laid out as the archive bucket (events/, rollups/,
// pending/: the bench's generated data set) into a running local stack's archive bucket,
// through its S3 endpoint, so the console can be measured on the bench's data:
//
//	go run ./local/cmd/seedarchive -from .local/bench/data-... -s3 http://127.0.0.1:4569 -bucket contrail-archive
package main

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/contrail/contrail/local/emulator"
)

func main() {
	from := flag.String("from", "", "folder laid out as the archive bucket")
	endpoint := flag.String("s3", "", "the local stack's S3 endpoint")
	bucket := flag.String("bucket", "contrail-archive", "the archive bucket")
	flag.Parse()
	if *from == "" || *endpoint == "" {
		fmt.Fprintln(os.Stderr, "usage: seedarchive -from DIR -s3 URL [-bucket NAME]")
		os.Exit(2)
	}
	c := s3.New(s3.Options{
		Region: emulator.Region, BaseEndpoint: aws.String(*endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(emulator.AccessKeyID, emulator.SecretAccessKey, ""),
	})
	n := 0
	err := filepath.WalkDir(*from, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		key, err := filepath.Rel(*from, p)
		if err != nil || key == "manifest.json" {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: bucket, Key: aws.String(filepath.ToSlash(key)), Body: f}); err != nil {
			return fmt.Errorf("put %s: %w", key, err)
		}
		n++
		return nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "seedarchive:", err)
		os.Exit(1)
	}
	fmt.Printf("seedarchive: %d objects into s3://%s\n", n, *bucket)
}
