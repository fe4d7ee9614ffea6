package files_test

import (
	"context"
	"io"
	"runtime"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/contrail/contrail/shared/export/files"
)

// discardS3 reads every body and keeps nothing: what the client side of an upload costs,
// without a server in the same process holding the object.
type discardS3 struct {
	parts int
	bytes int64
}

func (d *discardS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	n, _ := io.Copy(io.Discard, in.Body)
	d.bytes += n
	return &s3.PutObjectOutput{}, nil
}

func (d *discardS3) CreateMultipartUpload(context.Context, *s3.CreateMultipartUploadInput, ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	return &s3.CreateMultipartUploadOutput{UploadId: aws.String("u-1")}, nil
}

func (d *discardS3) UploadPart(_ context.Context, in *s3.UploadPartInput, _ ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	n, _ := io.Copy(io.Discard, in.Body)
	d.parts++
	d.bytes += n
	return &s3.UploadPartOutput{ETag: aws.String("e")}, nil
}

func (d *discardS3) CompleteMultipartUpload(context.Context, *s3.CompleteMultipartUploadInput, ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	return &s3.CompleteMultipartUploadOutput{}, nil
}

func (d *discardS3) AbortMultipartUpload(context.Context, *s3.AbortMultipartUploadInput, ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error) {
	return &s3.AbortMultipartUploadOutput{}, nil
}

// TestUploadMemoryIsOnePart writes 100 MiB and checks the upload allocated about one part,
// not the file: a large export streams.
func TestUploadMemoryIsOnePart(t *testing.T) {
	const size = 100 << 20
	chunk := content(64 << 10)
	d := &discardS3{}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	up := files.NewUpload(context.Background(), d, "b", "k", "text/csv", "f.csv")
	for written := 0; written < size; written += len(chunk) {
		if _, err := up.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := up.Close(); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if d.bytes != size || d.parts != 20 {
		t.Fatalf("uploaded %d bytes in %d parts, want %d in 20", d.bytes, d.parts, size)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 2*files.PartSize {
		t.Errorf("writing %d MiB allocated %d MiB; want at most two parts (%d MiB)", size>>20, alloc>>20, 2*files.PartSize>>20)
	}
}

// BenchmarkUpload measures the client side of a 64 MiB streamed upload (parts discarded).
func BenchmarkUpload(b *testing.B) {
	chunk := content(64 << 10)
	const size = 64 << 20
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		up := files.NewUpload(context.Background(), &discardS3{}, "b", "k", "text/csv", "f.csv")
		for written := 0; written < size; written += len(chunk) {
			if _, err := up.Write(chunk); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := up.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
