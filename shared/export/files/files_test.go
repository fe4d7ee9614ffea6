package files_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/stacktest"
	"github.com/contrail/contrail/shared/export/files"
)

func TestMain(m *testing.M) { stacktest.Main(m) }

// counting wraps the S3 client to count calls and fail a chosen part.
type counting struct {
	files.S3
	calls    map[string]int
	failPart int32
}

func (c *counting) PutObject(ctx context.Context, in *s3.PutObjectInput, o ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	c.calls["PutObject"]++
	return c.S3.PutObject(ctx, in, o...)
}

func (c *counting) UploadPart(ctx context.Context, in *s3.UploadPartInput, o ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	c.calls["UploadPart"]++
	if aws.ToInt32(in.PartNumber) == c.failPart {
		return nil, errors.New("connection reset")
	}
	return c.S3.UploadPart(ctx, in, o...)
}

func (c *counting) CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, o ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	c.calls["CompleteMultipartUpload"]++
	return c.S3.CompleteMultipartUpload(ctx, in, o...)
}

func (c *counting) AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, o ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error) {
	c.calls["AbortMultipartUpload"]++
	return c.S3.AbortMultipartUpload(ctx, in, o...)
}

// content makes n bytes of varied text.
func content(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + (i*7+i/1000)%26)
	}
	return b
}

func TestUpload(t *testing.T) {
	client := stacktest.S3(t)
	bucket := stacktest.Bucket(t)
	tests := []struct {
		name      string
		size      int
		chunk     int
		failPart  int32
		wantCalls map[string]int
		wantErr   bool
	}{
		{"empty file is one put", 0, 1, 0, map[string]int{"PutObject": 1}, false},
		{"small file is one put", 3000, 7, 0, map[string]int{"PutObject": 1}, false},
		{"exactly one part", files.PartSize, 4096, 0, map[string]int{"UploadPart": 1, "CompleteMultipartUpload": 1}, false},
		{"11 MiB in odd writes is three parts", 11<<20 + 123, 65537, 0, map[string]int{"UploadPart": 3, "CompleteMultipartUpload": 1}, false},
		{"a failed part aborts the upload", 11 << 20, 1 << 20, 2, map[string]int{"UploadPart": 2, "AbortMultipartUpload": 1}, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := "exports/acme/" + string(rune('a'+i)) + ".csv"
			c := &counting{S3: client, calls: map[string]int{}, failPart: tt.failPart}
			up := files.NewUpload(context.Background(), c, bucket, key, "text/csv; charset=utf-8", "contact-added.csv")
			data := content(tt.size)
			var werr error
			for off := 0; off < len(data) && werr == nil; off += tt.chunk {
				_, werr = up.Write(data[off:min(off+tt.chunk, len(data))])
			}
			var size int64
			var err error
			if werr != nil {
				err = errors.Join(werr, up.Abort())
			} else {
				size, err = up.Close()
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantCalls, c.calls); diff != "" {
				t.Errorf("S3 calls (-want +got):\n%s", diff)
			}
			got, gerr := client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
			if tt.wantErr {
				if gerr == nil {
					t.Errorf("a failed upload left an object")
				}
				return
			}
			if gerr != nil {
				t.Fatal(gerr)
			}
			defer got.Body.Close()
			body, _ := io.ReadAll(got.Body)
			if size != int64(tt.size) || !bytes.Equal(body, data) {
				t.Errorf("object: size %d (returned %d), want %d bytes equal to what was written", len(body), size, tt.size)
			}
			if ct, cd := aws.ToString(got.ContentType), aws.ToString(got.ContentDisposition); ct != "text/csv; charset=utf-8" || cd != `attachment; filename="contact-added.csv"` {
				t.Errorf("content type %q, disposition %q", ct, cd)
			}
		})
	}
}

func TestPresignedLinkDownloads(t *testing.T) {
	client := stacktest.S3(t)
	bucket := stacktest.Bucket(t)
	if _, err := client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("exports/acme/x.csv"), Body: bytes.NewReader([]byte("a,b\r\n"))}); err != nil {
		t.Fatal(err)
	}
	link, err := files.NewPresigner(client, bucket, 15*time.Minute).Link(context.Background(), "exports/acme/x.csv")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != "a,b\r\n" {
		t.Errorf("GET %s: %d %q", link, resp.StatusCode, body)
	}
	if q := resp.Request.URL.Query(); q.Get("X-Amz-Expires") != "900" || q.Get("X-Amz-Signature") == "" {
		t.Errorf("link %s is not signed for 900 s", link)
	}
}
