package s3bucket

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/contrail/contrail/shared/env"
)

// S3_FORCE_PATH_STYLE has one default (false, AWS's virtual-hosted addressing) and one parse
// for every bucket.
func TestRead(t *testing.T) {
	for _, tc := range []struct {
		set       bool // S3_FORCE_PATH_STYLE is set, to pathStyle
		pathStyle string
		want      bool
		problem   string
	}{
		{false, "", false, ""},
		{true, "", false, ""},
		{true, "false", false, ""},
		{true, "true", true, ""},
		{true, "TRUE", true, ""},
		{true, "1", false, `configuration: S3_FORCE_PATH_STYLE="1" is not true or false`},
	} {
		vars := map[string]string{"ARCHIVE_BUCKET": "archive"}
		if tc.set {
			vars["S3_FORCE_PATH_STYLE"] = tc.pathStyle
		}
		r := env.Reader{Lookup: env.Map(vars)}
		c := Read(&r, "ARCHIVE_BUCKET")
		problem := ""
		if err := r.Err(); err != nil {
			problem = err.Error()
		}
		var o s3.Options
		c.Options(&o)
		if c.Name != "archive" || c.PathStyle != tc.want || o.UsePathStyle != tc.want || problem != tc.problem {
			t.Errorf("S3_FORCE_PATH_STYLE=%q: %+v, UsePathStyle %v, %q; want path style %v, %q", tc.pathStyle, c, o.UsePathStyle, problem, tc.want, tc.problem)
		}
	}
}
