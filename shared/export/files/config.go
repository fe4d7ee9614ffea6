package files

import (
	"github.com/contrail/contrail/shared/env"
	"github.com/contrail/contrail/shared/s3bucket"
)

// ReadBucket reads the bucket of the export files: EXPORTS_BUCKET (and S3_FORCE_PATH_STYLE,
// s3bucket.Read). Exports never go to the write-once archive.
func ReadBucket(r *env.Reader) s3bucket.Config { return s3bucket.Read(r, "EXPORTS_BUCKET") }
