package console

import "github.com/contrail/contrail/shared/env"

// ReadBucket reads CONSOLE_BUCKET: the bucket the Deployer puts the console into.
func ReadBucket(r *env.Reader) string { return r.String("CONSOLE_BUCKET") }
