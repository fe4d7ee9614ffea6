package devstack

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/contrail/contrail/local/devauth"
	"github.com/contrail/contrail/local/emulator"
)

// DemoTenant is the tenant of the tokens Run prints.
const DemoTenant = "demo"

// Run starts the stack, prints where everything is and development tokens, and stops it all
// when ctx ends (Ctrl-C or SIGTERM in `make run`).
func Run(ctx context.Context, o Options) error {
	w := o.Banner
	if w == nil {
		w = os.Stdout
	}
	if o.Progress == nil {
		o.Progress = w
	}
	s, err := Start(ctx, o)
	if err != nil {
		return err
	}
	if err := s.printBanner(w); err != nil {
		s.Stop()
		return err
	}
	<-ctx.Done()
	fmt.Fprintln(w, "\nStopping the local stack...")
	return s.Stop()
}

func (s *Stack) printBanner(w io.Writer) error {
	rel := func(p string) string {
		if r, err := filepath.Rel(s.Root, p); err == nil && !strings.HasPrefix(r, "..") {
			return r
		}
		return p
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nContrail is running locally (%d functions).\n\n", len(s.Functions))
	fmt.Fprintf(&b, "  API            %s        try: curl %s/v1/health\n", s.URL, s.URL)
	fmt.Fprintf(&b, "  Console        %s/console/   sign in as a development user (tenant, role, name)\n", s.URL)
	if s.MailViewer != "" {
		fmt.Fprintf(&b, "  Mail viewer    %s\n", s.MailViewer)
		fmt.Fprintf(&b, "  DynamoDB       %s   data in %s\n", s.DynamoDBEndpoint, rel(filepath.Join(s.StateDir, "dynamodb")))
		fmt.Fprintf(&b, "                 (DynamoDB Local itself listens on port %s of every interface: it has no option to bind one)\n", port(s.dynamoDBLocal))
		fmt.Fprintf(&b, "  S3             %s   objects in %s/<bucket>/<key>, SigV4-signed requests only\n", s.S3Endpoint, rel(filepath.Join(s.StateDir, "s3")))
		fmt.Fprintf(&b, "  Credentials    AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_REGION=%s (S3, Secrets Manager and KMS check them)\n", emulator.AccessKeyID, emulator.SecretAccessKey, emulator.Region)
	} else {
		fmt.Fprintf(&b, "  AWS endpoint   %s   (AWS_ENDPOINT_URL: no local emulators started)\n", s.DynamoDBEndpoint)
	}
	fmt.Fprintf(&b, "  Secrets        %s   Secrets Manager (GetSecretValue): values in %s/<LogicalId>\n", s.SecretsEndpoint, rel(filepath.Join(s.StateDir, "secrets")))
	fmt.Fprintf(&b, "  KMS            %s   PersonalDataKey (Encrypt, Decrypt): key in %s (losing it loses every tenant's personal data)\n", s.KMSEndpoint, rel(filepath.Join(s.StateDir, KMSKeyFile)))
	fmt.Fprintf(&b, "  Tables         %s\n", strings.Join(sortedValues(s.Tables), ", "))
	fmt.Fprintf(&b, "  Bucket         %s\n", strings.Join(sortedValues(s.Buckets), ", "))
	fmt.Fprintf(&b, "  Signing key    %s   (make token ROLE=agent TENANT=<id> mints more)\n", rel(filepath.Join(s.StateDir, devauth.KeyFile)))
	if s.LogVerifierKey != "" {
		fmt.Fprintf(&b, "  Log key        %s   verifies the audit log's checkpoints (docs/verifying.md)\n", s.LogVerifierKey)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "Development tokens for tenant %q (valid 12 h):\n", DemoTenant)
	for _, role := range devauth.Roles {
		tok, err := s.Token(devauth.Claims{Tenant: DemoTenant, Roles: []string{role}})
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "  %-8s %s\n", role, tok)
	}
	fmt.Fprintf(&b, "\nCtrl-C stops everything.\n\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// port is the port of an http://host:port endpoint.
func port(endpoint string) string {
	if u, err := url.Parse(endpoint); err == nil {
		return u.Port()
	}
	return endpoint
}

func sortedValues(m map[string]string) []string {
	v := make([]string, 0, len(m))
	for _, x := range m {
		v = append(v, x)
	}
	sort.Strings(v)
	return v
}
