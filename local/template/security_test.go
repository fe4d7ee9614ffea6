package template

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The stack in AWS: nothing deletes or rewrites the audit trail, sign-in is locked down, each
// function holds only what it uses, operators see trouble. No cfn-nag, Checkov or AWS account
// runs here, so these rules are the review, and they keep it from silently regressing.

// starAllowed lists the actions a function may hold on Resource "*" (after its permissions
// boundary): AWS offers nothing narrower for them.
var starAllowed = map[string]string{
	// X-Ray has no resource-level permissions: traces go to the account's X-Ray.
	"xray:PutTraceSegments":              "X-Ray has no resource-level permissions",
	"xray:PutTelemetryRecords":           "X-Ray has no resource-level permissions",
	"xray:GetSamplingRules":              "X-Ray has no resource-level permissions",
	"xray:GetSamplingTargets":            "X-Ray has no resource-level permissions",
	"xray:GetSamplingStatisticSummaries": "X-Ray has no resource-level permissions",
	// Lambda's stream poller lists the table's streams; ListStreams takes no resource, and
	// returns stream ARNs only (reading a stream needs the exact stream ARN).
	"dynamodb:ListStreams": "ListStreams has no resource-level permissions",
}

// samManaged are the managed policies SAM attaches to a function's role by itself.
var samManaged = map[string][]string{
	"AWSLambdaBasicExecutionRole":    {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"},
	"AWSXrayWriteOnlyAccess":         {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:GetSamplingStatisticSummaries"},
	"AWSLambdaDynamoDBExecutionRole": {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams", "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"},
	"AWSLambdaSQSQueueExecutionRole": {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"},
}

// grant is one action on one resource (an ARN, an ARN pattern, or "*").
type grant struct{ Action, Resource string }

// stmt is an IAM statement with its resources resolved.
type stmt struct {
	Effect    string
	Actions   []string
	Resources []string
}

// fakeRefs gives every resource plausible deployed values, so ARNs resolve to comparable text.
func fakeRefs(tp *Template) map[string]string {
	refs := map[string]string{}
	for id, r := range tp.resources {
		typ := scalar(get(r, "Type"))
		svc := strings.ToLower(strings.Split(strings.TrimPrefix(typ, "AWS::"), "::")[0])
		arn := "arn:aws:" + svc + ":us-east-1:000000000000:" + id
		refs[id] = id
		refs[id+".Arn"] = arn
		refs[id+".StreamArn"] = arn + "/stream/1"
		refs[id+".QueueName"] = id
		if typ == "AWS::S3::Bucket" {
			refs[id+".Arn"] = "arn:aws:s3:::" + id
		}
	}
	return refs
}

// resources resolves a Resource value to strings; what cannot be resolved here is kept as
// its YAML text (never "*"), and AWS::NoValue is dropped.
func resources(tp *Template, n *yaml.Node, refs map[string]string) []string {
	var out []string
	items := []*yaml.Node{n}
	if n != nil && n.Kind == yaml.SequenceNode && (n.Tag == "" || n.Tag == "!!seq") {
		items = n.Content
	}
	for _, it := range items {
		s, err := tp.Resolve(Value{it}, refs)
		switch {
		case err == nil:
			out = append(out, s)
		case strings.Contains(err.Error(), ErrNoValue.Error()):
		default:
			out = append(out, Value{it}.String())
		}
	}
	return out
}

func statements(tp *Template, doc *yaml.Node, refs map[string]string) []stmt {
	var out []stmt
	for _, s := range seq(get(doc, "Statement")) {
		st := stmt{Effect: scalar(get(s, "Effect"))}
		for _, a := range seq(get(s, "Action")) {
			st.Actions = append(st.Actions, scalar(a))
		}
		st.Resources = resources(tp, get(s, "Resource"), refs)
		out = append(out, st)
	}
	return out
}

// identity returns a function's identity-based grants: its Policies statements and the
// managed policies SAM attaches (basic execution, X-Ray with tracing, the event sources').
func identity(t *testing.T, tp *Template, f Function, refs map[string]string) []grant {
	props := get(tp.resources[f.LogicalID], "Properties")
	var gs []grant
	for _, p := range seq(get(props, "Policies")) {
		if p.Kind == yaml.ScalarNode {
			acts, ok := samManaged[p.Value]
			if !ok {
				t.Errorf("%s uses the policy %q; write explicit statements so their resources can be checked", f.LogicalID, p.Value)
			}
			for _, a := range acts {
				gs = append(gs, grant{a, "*"})
			}
			continue
		}
		if get(p, "Statement") == nil {
			t.Errorf("%s has a SAM policy template %s; write explicit statements so their resources can be checked", f.LogicalID, Value{p})
			continue
		}
		for _, st := range statements(tp, p, refs) {
			if st.Effect != "Allow" {
				continue
			}
			for _, a := range st.Actions {
				for _, r := range st.Resources {
					gs = append(gs, grant{a, r})
				}
			}
		}
	}
	implied := []string{"AWSLambdaBasicExecutionRole"}
	tracing := scalar(get(props, "Tracing"))
	if tracing == "" {
		tracing = scalar(get(tp.globalsFn, "Tracing"))
	}
	if tracing == "Active" {
		implied = append(implied, "AWSXrayWriteOnlyAccess")
	}
	if len(f.Streams) > 0 {
		implied = append(implied, "AWSLambdaDynamoDBExecutionRole")
	}
	if len(f.Queues) > 0 {
		implied = append(implied, "AWSLambdaSQSQueueExecutionRole")
	}
	for _, m := range implied {
		for _, a := range samManaged[m] {
			gs = append(gs, grant{a, "*"})
		}
	}
	return gs
}

// boundary returns the statements of a function's permissions boundary (its own, else the
// Globals one), nil when it has none.
func boundary(tp *Template, id string, refs map[string]string) ([]stmt, string) {
	b := get(get(tp.resources[id], "Properties"), "PermissionsBoundary")
	if b == nil {
		b = get(tp.globalsFn, "PermissionsBoundary")
	}
	name := refTarget(b)
	if name == "" || tp.ResourceType(name) != "AWS::IAM::ManagedPolicy" {
		return nil, ""
	}
	return statements(tp, get(get(tp.resources[name], "Properties"), "PolicyDocument"), refs), name
}

var globCache = map[string]*regexp.Regexp{}

// matches reports whether IAM pattern p (with * and ?) covers s.
func matches(p, s string) bool {
	re, ok := globCache[p]
	if !ok {
		q := regexp.QuoteMeta(p)
		q = strings.ReplaceAll(q, `\*`, ".*")
		q = strings.ReplaceAll(q, `\?`, ".")
		re = regexp.MustCompile("^" + q + "$")
		globCache[p] = re
	}
	return re.MatchString(s)
}

// effective intersects identity grants with a boundary: what the role can really do. A
// boundary Deny removes; no boundary leaves the identity grants as they are.
func effective(gs []grant, bound []stmt, hasBoundary bool) []grant {
	if !hasBoundary {
		return gs
	}
	seen := map[grant]bool{}
	var out []grant
	for _, g := range gs {
		for _, b := range bound {
			if b.Effect != "Allow" || !slices.ContainsFunc(b.Actions, func(a string) bool { return matches(a, g.Action) }) {
				continue
			}
			for _, br := range b.Resources {
				r := ""
				switch {
				case g.Resource == "*":
					r = br
				case br == "*" || matches(br, g.Resource):
					r = g.Resource
				case matches(g.Resource, br):
					r = br
				}
				if r == "" {
					continue
				}
				e := grant{g.Action, r}
				denied := slices.ContainsFunc(bound, func(d stmt) bool {
					return d.Effect == "Deny" && slices.ContainsFunc(d.Actions, func(a string) bool { return matches(a, e.Action) }) &&
						slices.ContainsFunc(d.Resources, func(dr string) bool { return matches(dr, e.Resource) })
				})
				if !denied && !seen[e] {
					seen[e] = true
					out = append(out, e)
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Action+out[i].Resource < out[j].Action+out[j].Resource })
	return out
}

func effectiveOf(t *testing.T, tp *Template, f Function) []grant {
	refs := fakeRefs(tp)
	b, name := boundary(tp, f.LogicalID, refs)
	return effective(identity(t, tp, f, refs), b, name != "")
}

// TestContractEffectivePermissions: every function has a permissions boundary, and what it
// can really do (Policies and SAM's managed policies, intersected with the boundary) names
// exact resources: Resource "*" only for the actions of starAllowed.
func TestContractEffectivePermissions(t *testing.T) {
	_, tp := repoRoot(t)
	for _, f := range tp.Functions() {
		t.Run(f.LogicalID, func(t *testing.T) {
			if _, name := boundary(tp, f.LogicalID, fakeRefs(tp)); name == "" {
				t.Errorf("%s has no PermissionsBoundary (its own or Globals'): SAM's managed policies reach every log group, stream and queue", f.LogicalID)
			}
			for _, g := range effectiveOf(t, tp, f) {
				if g.Resource == "*" && starAllowed[g.Action] == "" {
					t.Errorf("%s can %s on every resource (\"*\"); bound it to what it uses", f.LogicalID, g.Action)
				}
			}
		})
	}
}

// TestContractBoundaryKeepsPolicies: a boundary never silently cuts what a function's own
// Policies grant (the function would fail in AWS only, at the first call).
func TestContractBoundaryKeepsPolicies(t *testing.T) {
	_, tp := repoRoot(t)
	refs := fakeRefs(tp)
	for _, f := range tp.Functions() {
		b, name := boundary(tp, f.LogicalID, refs)
		if name == "" {
			continue
		}
		var own []grant
		for _, p := range seq(get(get(tp.resources[f.LogicalID], "Properties"), "Policies")) {
			for _, st := range statements(tp, p, refs) {
				for _, a := range st.Actions {
					for _, r := range st.Resources {
						if st.Effect == "Allow" {
							own = append(own, grant{a, r})
						}
					}
				}
			}
		}
		eff := effective(own, b, true)
		for _, g := range own {
			if !slices.Contains(eff, g) {
				t.Errorf("%s's boundary %s cuts its own grant %s on %s", f.LogicalID, name, g.Action, g.Resource)
			}
		}
	}
}

// auditDestructive are the actions that delete, update or blindly overwrite audit events.
var auditDestructive = []string{"dynamodb:DeleteItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem",
	"dynamodb:PartiQLDelete", "dynamodb:PartiQLUpdate", "dynamodb:PartiQLInsert", "dynamodb:DeleteTable", "dynamodb:*"}

// TestContractAuditTableAppendOnly: no function can delete, update or batch-write an audit
// event (BatchWriteItem carries no condition and deletes too); the table's own policy denies
// it to everyone but the break-glass role. That each PutItem carries attribute_not_exists is
// the code's promise (TestContractAuditPutsConditional): IAM has no key for it.
func TestContractAuditTableAppendOnly(t *testing.T) {
	_, tp := repoRoot(t)
	refs := fakeRefs(tp)
	table := refs["AuditTable.Arn"]
	for _, f := range tp.Functions() {
		for _, g := range effectiveOf(t, tp, f) {
			onAudit := g.Resource == "*" || matches(g.Resource, table) || strings.HasPrefix(g.Resource, table+"/index/")
			if onAudit && slices.ContainsFunc(auditDestructive, func(a string) bool { return matches(g.Action, a) || g.Action == a }) {
				t.Errorf("%s holds %s on %s: audit events are only ever added", f.LogicalID, g.Action, g.Resource)
			}
		}
	}
	policy := get(get(get(tp.resources["AuditTable"], "Properties"), "ResourcePolicy"), "PolicyDocument")
	denied := map[string]bool{}
	for _, st := range statements(tp, policy, refs) {
		if st.Effect == "Deny" {
			for _, a := range st.Actions {
				denied[a] = true
			}
		}
	}
	for _, a := range []string{"dynamodb:DeleteItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"} {
		if !denied[a] {
			t.Errorf("AuditTable's ResourcePolicy does not deny %s (to all but the break-glass role)", a)
		}
	}
}

// conditionalPut matches a put of an item in code: a PutItemInput or a transaction Put.
var conditionalPut = regexp.MustCompile(`(?:dynamodb\.PutItemInput|types\.Put)\{`)

// batchWriters are the only files that may call BatchWriteItem, and why each write is safe
// without a condition. None writes AuditTable (TestContractAuditTableAppendOnly: no function
// holds BatchWriteItem on it, and its resource policy denies it).
var batchWriters = map[string]string{
	"shared/vlog/state.go": "LogTable's index items, written after the commit from committed appends only: whoever writes one writes the same bytes",
}

// TestContractAuditPutsConditional: every put in the code carries a ConditionExpression
// (audit events: attribute_not_exists(pk)), and nothing calls BatchWriteItem, which cannot
// carry one, but the batchWriters. IAM cannot require a condition, so this is where the
// guarantee is kept.
func TestContractAuditPutsConditional(t *testing.T) {
	root, _ := repoRoot(t)
	for _, dir := range []string{"shared", "functions"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || strings.Contains(path, string(filepath.Separator)+"template"+string(filepath.Separator)) {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			src, rel := string(b), strings.TrimPrefix(path, root+string(filepath.Separator))
			if _, ok := batchWriters[filepath.ToSlash(rel)]; !ok && strings.Contains(src, ".BatchWriteItem(") {
				t.Errorf("%s calls BatchWriteItem, which cannot carry a condition (and deletes too)", rel)
			}
			for _, loc := range conditionalPut.FindAllStringIndex(src, -1) {
				lit := literal(src, loc[1]-1)
				if !strings.Contains(lit, "ConditionExpression") {
					line := strings.Count(src[:loc[0]], "\n") + 1
					t.Errorf("%s:%d puts an item without a ConditionExpression: it could overwrite an event", rel, line)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if s := readFile(t, root, "shared/audit/item.go"); !strings.Contains(s, `ConditionExpression: aws.String("attribute_not_exists(pk)")`) {
		t.Error("shared/audit/item.go: PutTx no longer writes events conditional on attribute_not_exists(pk)")
	}
}

// literal returns src from the brace at open to its matching close.
func literal(src string, open int) string {
	depth := 0
	for i := open; i < len(src); i++ {
		switch src[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return src[open : i+1]
			}
		}
	}
	return src[open:]
}

func readFile(t *testing.T, root, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// stateful are the resource types whose loss loses data: they outlive the stack.
var stateful = []string{"AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::Cognito::UserPool", "AWS::KMS::Key", "AWS::SQS::Queue"}

// notData are the resources of a stateful type that hold no data: each is rebuilt from the
// repository on every deploy. They need neither retention nor the customer-managed key.
var notData = map[string]string{
	// The console's static build, put there by ConsoleDeployment on every deploy; CloudFront
	// reads it through origin access control.
	"ConsoleBucket": "static console build, re-put on every deploy",
}

// TestContractStatefulRetained: a stack deletion or a replacement keeps every stateful
// resource; tables and the user pool also refuse deletion outright.
func TestContractStatefulRetained(t *testing.T) {
	_, tp := repoRoot(t)
	for _, typ := range stateful {
		for _, id := range tp.ResourcesOfType(typ) {
			if notData[id] != "" {
				continue
			}
			r := tp.resources[id]
			for _, pol := range []string{"DeletionPolicy", "UpdateReplacePolicy"} {
				if scalar(get(r, pol)) != "Retain" {
					t.Errorf("%s (%s) has %s %q, want Retain", id, typ, pol, scalar(get(r, pol)))
				}
			}
			props := get(r, "Properties")
			switch typ {
			case "AWS::DynamoDB::Table":
				if scalar(get(props, "DeletionProtectionEnabled")) != "true" {
					t.Errorf("%s has no DeletionProtectionEnabled: true", id)
				}
				if scalar(get(get(props, "PointInTimeRecoverySpecification"), "PointInTimeRecoveryEnabled")) != "true" {
					t.Errorf("%s has no point-in-time recovery", id)
				}
			case "AWS::Cognito::UserPool":
				if scalar(get(props, "DeletionProtection")) != "ACTIVE" {
					t.Errorf("%s has DeletionProtection %q, want ACTIVE", id, scalar(get(props, "DeletionProtection")))
				}
			}
		}
	}
}

// dataKey is how every encrypted resource names the customer-managed key.
const dataKey = "!If [CreateDataKey, !GetAtt DataKey.Arn, !Ref KmsKeyArn]"

// TestContractCustomerManagedKey: tables, queues, buckets, the secret, log groups, the alarm
// topic and the functions' environment use the customer-managed key (KmsKeyArn, or the
// stack's own). The one exception is the S3 access-log bucket: S3 delivers server access
// logs only to SSE-S3 buckets.
func TestContractCustomerManagedKey(t *testing.T) {
	_, tp := repoRoot(t)
	if d, ok := tp.Parameter("KmsKeyArn"); !ok || d != "" {
		t.Fatalf("no KmsKeyArn parameter defaulting to empty (= the stack creates the key)")
	}
	key := func(n *yaml.Node) bool { return n != nil && flow(n) == dataKey }
	check := func(typ string, path ...string) {
		for _, id := range tp.ResourcesOfType(typ) {
			n := get(tp.resources[id], "Properties")
			for _, p := range path {
				n = get(n, p)
			}
			if !key(n) {
				t.Errorf("%s (%s) %s is %s, want the customer-managed key %s", id, typ, strings.Join(path, "."), Value{n}, dataKey)
			}
		}
	}
	check("AWS::DynamoDB::Table", "SSESpecification", "KMSMasterKeyId")
	check("AWS::SQS::Queue", "KmsMasterKeyId")
	check("AWS::SecretsManager::Secret", "KmsKeyId")
	check("AWS::Logs::LogGroup", "KmsKeyId")
	check("AWS::SNS::Topic", "KmsMasterKeyId")
	for _, id := range tp.ResourcesOfType("AWS::DynamoDB::Table") {
		if s := scalar(get(get(get(tp.resources[id], "Properties"), "SSESpecification"), "SSEType")); s != "KMS" {
			t.Errorf("%s SSEType %q, want KMS", id, s)
		}
	}
	if !key(get(tp.globalsFn, "KmsKeyArn")) {
		t.Errorf("Globals.Function.KmsKeyArn is not the customer-managed key")
	}
	logTargets := map[string]bool{}
	for _, id := range tp.Buckets() {
		if dst := refTarget(get(get(get(tp.resources[id], "Properties"), "LoggingConfiguration"), "DestinationBucketName")); dst != "" {
			logTargets[dst] = true
		}
	}
	for _, id := range tp.Buckets() {
		def := get(seq(get(get(get(tp.resources[id], "Properties"), "BucketEncryption"), "ServerSideEncryptionConfiguration"))[0], "ServerSideEncryptionByDefault")
		alg := scalar(get(def, "SSEAlgorithm"))
		if notData[id] != "" {
			continue
		}
		if logTargets[id] {
			if alg != "AES256" {
				t.Errorf("%s receives S3 access logs, which S3 delivers only with SSE-S3 (AES256); it has %q", id, alg)
			}
			continue
		}
		if alg != "aws:kms" || !key(get(def, "KMSMasterKeyID")) {
			t.Errorf("%s is encrypted with %q / %s, want aws:kms with the customer-managed key", id, alg, Value{get(def, "KMSMasterKeyID")})
		}
	}
}

// flow renders a node on one line in flow style, for comparing intrinsic expressions.
func flow(n *yaml.Node) string {
	c := *n
	var style func(*yaml.Node)
	style = func(m *yaml.Node) {
		m.Style |= yaml.FlowStyle
		for _, k := range m.Content {
			style(k)
		}
	}
	style(&c)
	b, _ := yaml.Marshal(&c)
	return strings.TrimSpace(string(b))
}

// TestContractArchiveWriteOnce: the archive bucket has Object Lock (the compactor gives
// compacted objects and rollups their retention), keeps versions, logs access, and its policy
// keeps version deletion, retention bypass and changes of its policy, lifecycle and lock
// configuration to the break-glass role. Exports and Athena results are elsewhere; no
// function can delete a version or touch the bucket's configuration.
func TestContractArchiveWriteOnce(t *testing.T) {
	_, tp := repoRoot(t)
	props := get(tp.resources["ArchiveBucket"], "Properties")
	if scalar(get(props, "ObjectLockEnabled")) != "true" || scalar(get(get(props, "ObjectLockConfiguration"), "ObjectLockEnabled")) != "Enabled" {
		t.Error("ArchiveBucket has no S3 Object Lock (ObjectLockEnabled: true, ObjectLockConfiguration.ObjectLockEnabled: Enabled)")
	}
	if scalar(get(get(props, "VersioningConfiguration"), "Status")) != "Enabled" {
		t.Error("ArchiveBucket is not versioned")
	}
	if refTarget(get(get(props, "LoggingConfiguration"), "DestinationBucketName")) == "" {
		t.Error("ArchiveBucket has no S3 server access logging")
	}
	for _, r := range seq(get(get(props, "LifecycleConfiguration"), "Rules")) {
		if p := scalar(get(r, "Prefix")); p == "exports/" || p == "athena-results/" {
			t.Errorf("ArchiveBucket still holds %s: transient files belong outside the write-once archive", p)
		}
	}
	results := Value{get(get(get(get(tp.resources["ArchiveWorkGroup"], "Properties"), "WorkGroupConfiguration"), "ResultConfiguration"), "OutputLocation")}
	if s := results.String(); strings.Contains(s, "ArchiveBucket") {
		t.Errorf("Athena results go to the archive bucket: %s", s)
	}
	compactor, _ := tp.Function("CompactorFunction")
	if _, ok := compactor.Env["ARCHIVE_LOCK_MODE"]; !ok {
		t.Error("CompactorFunction has no ARCHIVE_LOCK_MODE: compacted objects would be written unlocked")
	}

	mustDeny := []string{"s3:DeleteObjectVersion", "s3:BypassGovernanceRetention", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy",
		"s3:PutLifecycleConfiguration", "s3:PutBucketObjectLockConfiguration", "s3:PutBucketVersioning"}
	var policy *yaml.Node
	for _, id := range tp.ResourcesOfType("AWS::S3::BucketPolicy") {
		if refTarget(get(get(tp.resources[id], "Properties"), "Bucket")) == "ArchiveBucket" {
			policy = get(get(tp.resources[id], "Properties"), "PolicyDocument")
		}
	}
	denied := map[string]bool{}
	for _, s := range seq(get(policy, "Statement")) {
		if scalar(get(s, "Effect")) != "Deny" {
			continue
		}
		cond := Value{get(s, "Condition")}.String()
		if !strings.Contains(cond, "aws:PrincipalArn") || !strings.Contains(cond, "BreakGlassRole") {
			continue
		}
		for _, a := range seq(get(s, "Action")) {
			denied[scalar(a)] = true
		}
	}
	for _, a := range mustDeny {
		if !denied[a] {
			t.Errorf("ArchiveBucket's policy does not deny %s to all but the break-glass role", a)
		}
	}
	refs := fakeRefs(tp)
	for _, f := range tp.Functions() {
		for _, g := range effectiveOf(t, tp, f) {
			if slices.Contains(mustDeny, g.Action) || g.Action == "s3:*" {
				t.Errorf("%s holds %s on %s", f.LogicalID, g.Action, g.Resource)
			}
			if strings.HasPrefix(g.Resource, refs["ArchiveBucket.Arn"]+"/exports/") {
				t.Errorf("%s uses exports/ in the archive bucket (%s)", f.LogicalID, g.Action)
			}
		}
	}
}

// TestContractSignIn: the user pool requires MFA, takes admin-created users only, enforces a
// password policy and threat protection (on the Plus plan it needs), and its client issues
// short-lived tokens; each setting is a parameter with a safe default.
func TestContractSignIn(t *testing.T) {
	_, tp := repoRoot(t)
	param := func(name string) string {
		v, ok := tp.Parameter(name)
		if !ok {
			t.Errorf("template.yaml has no parameter %s", name)
		}
		return v
	}
	atLeast := func(name string, min int) {
		if n, err := strconv.Atoi(param(name)); err != nil || n < min {
			t.Errorf("parameter %s defaults to %q, want at least %d", name, param(name), min)
		}
	}
	atMost := func(name string, max int) {
		if n, err := strconv.Atoi(param(name)); err != nil || n > max {
			t.Errorf("parameter %s defaults to %q, want at most %d", name, param(name), max)
		}
	}
	if v := param("MfaConfiguration"); v != "ON" {
		t.Errorf("MfaConfiguration defaults to %q, want ON", v)
	}
	if v := param("AdvancedSecurityMode"); v != "ENFORCED" {
		t.Errorf("AdvancedSecurityMode defaults to %q, want ENFORCED", v)
	}
	atLeast("PasswordMinimumLength", 12)
	atMost("AccessTokenMinutes", 60)
	atMost("RefreshTokenHours", 24)

	for resource, props := range map[string]map[string]string{"UserPool": {
		"MfaConfiguration":                               "!Ref MfaConfiguration",
		"UserPoolAddOns.AdvancedSecurityMode":            "!Ref AdvancedSecurityMode",
		"UserPoolTier":                                   "!If [ThreatProtectionOff, ESSENTIALS, PLUS]",
		"AdminCreateUserConfig.AllowAdminCreateUserOnly": "true",
		"Policies.PasswordPolicy.MinimumLength":          "!Ref PasswordMinimumLength",
		"Policies.PasswordPolicy.RequireSymbols":         "true",
		"Policies.PasswordPolicy.RequireNumbers":         "true",
		"Policies.PasswordPolicy.RequireUppercase":       "true",
		"Policies.PasswordPolicy.RequireLowercase":       "true",
	}, "UserPoolClient": {
		"AccessTokenValidity":             "!Ref AccessTokenMinutes",
		"IdTokenValidity":                 "!Ref AccessTokenMinutes",
		"RefreshTokenValidity":            "!Ref RefreshTokenHours",
		"TokenValidityUnits.AccessToken":  "minutes",
		"TokenValidityUnits.IdToken":      "minutes",
		"TokenValidityUnits.RefreshToken": "hours",
		"EnableTokenRevocation":           "true",
		"PreventUserExistenceErrors":      "ENABLED",
	}} {
		for path, want := range props {
			if n := getPath(get(tp.resources[resource], "Properties"), path); n == nil || flow(n) != want {
				t.Errorf("%s %s = %s, want %s", resource, path, Value{n}, want)
			}
		}
	}
}

// maxRecordAge leaves replay time: the stream keeps records 24 h, so a batch given up on
// must reach its on-failure destination with hours to spare.
const maxRecordAge = 43200

// TestContractFailuresLand: every stream consumer gives up within maxRecordAge into an
// on-failure destination, and every schedule has a dead-letter queue.
func TestContractFailuresLand(t *testing.T) {
	_, tp := repoRoot(t)
	for _, f := range tp.Functions() {
		events := mapping(get(get(tp.resources[f.LogicalID], "Properties"), "Events"))
		for name, ev := range events {
			ep := get(ev, "Properties")
			switch scalar(get(ev, "Type")) {
			case "DynamoDB":
				if refTarget(get(get(get(ep, "DestinationConfig"), "OnFailure"), "Destination")) == "" {
					t.Errorf("%s.%s has no DestinationConfig.OnFailure: a batch given up on is lost", f.LogicalID, name)
				}
				if age := intOr(get(ep, "MaximumRecordAgeInSeconds"), -1); age < 60 || age > maxRecordAge {
					t.Errorf("%s.%s MaximumRecordAgeInSeconds = %d, want 60..%d (replay time before the 24 h stream trims it)", f.LogicalID, name, age, maxRecordAge)
				}
			case "Schedule", "ScheduleV2":
				if refTarget(get(get(ep, "DeadLetterConfig"), "Arn")) == "" {
					t.Errorf("%s.%s has no DeadLetterConfig: a run EventBridge cannot deliver is lost", f.LogicalID, name)
				}
			}
		}
	}
}

// failureQueues returns the queues that can hold failures: on-failure destinations, redrive
// targets and schedule dead-letter queues.
func failureQueues(tp *Template) []string {
	set := map[string]bool{}
	for _, f := range tp.Functions() {
		for _, s := range f.Streams {
			if s.OnFailure != "" {
				set[s.OnFailure] = true
			}
		}
		for _, ev := range mapping(get(get(tp.resources[f.LogicalID], "Properties"), "Events")) {
			if q := refTarget(get(get(get(ev, "Properties"), "DeadLetterConfig"), "Arn")); q != "" {
				set[q] = true
			}
		}
	}
	for _, id := range tp.ResourcesOfType("AWS::SQS::Queue") {
		if q := refTarget(get(get(get(tp.resources[id], "Properties"), "RedrivePolicy"), "deadLetterTargetArn")); q != "" {
			set[q] = true
		}
	}
	var out []string
	for q := range set {
		out = append(out, q)
	}
	sort.Strings(out)
	return out
}

// alarms returns every CloudWatch alarm as namespace/metric -> the resources its dimensions
// name; and whether each alarm notifies someone.
func alarms(t *testing.T, tp *Template) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, id := range tp.ResourcesOfType("AWS::CloudWatch::Alarm") {
		p := get(tp.resources[id], "Properties")
		if len(seq(get(p, "AlarmActions"))) == 0 {
			t.Errorf("alarm %s notifies nobody (no AlarmActions)", id)
		}
		k := scalar(get(p, "Namespace")) + "/" + scalar(get(p, "MetricName"))
		if out[k] == nil {
			out[k] = map[string]bool{}
		}
		for _, d := range seq(get(p, "Dimensions")) {
			out[k][refTarget(get(d, "Value"))] = true
		}
	}
	return out
}

// TestContractOperatorsSeeTrouble: every failure queue has a depth alarm; every stream
// consumer an iterator-age alarm; the stream consumers and scheduled functions error alarms;
// the ones with reserved concurrency throttle alarms; alarms notify a topic parameter.
func TestContractOperatorsSeeTrouble(t *testing.T) {
	_, tp := repoRoot(t)
	if _, ok := tp.Parameter("AlarmTopicArn"); !ok {
		t.Error("template.yaml has no AlarmTopicArn parameter")
	}
	al := alarms(t, tp)
	for _, q := range failureQueues(tp) {
		if !al["AWS/SQS/ApproximateNumberOfMessagesVisible"][q] {
			t.Errorf("failure queue %s has no ApproximateNumberOfMessagesVisible alarm", q)
		}
	}
	if len(failureQueues(tp)) < 2 {
		t.Errorf("failure queues %v: the mailer, export worker and schedules have none", failureQueues(tp))
	}
	for _, f := range tp.Functions() {
		reserved := get(get(tp.resources[f.LogicalID], "Properties"), "ReservedConcurrentExecutions") != nil
		if len(f.Streams) > 0 && !al["AWS/Lambda/IteratorAge"][f.LogicalID] {
			t.Errorf("%s reads a stream without an IteratorAge alarm", f.LogicalID)
		}
		if len(f.Streams)+len(f.Queues)+len(f.Schedules) > 0 && !al["AWS/Lambda/Errors"][f.LogicalID] {
			t.Errorf("%s runs in the background without an Errors alarm", f.LogicalID)
		}
		if reserved && !al["AWS/Lambda/Throttles"][f.LogicalID] {
			t.Errorf("%s has reserved concurrency without a Throttles alarm", f.LogicalID)
		}
	}
	if !al["AWS/ApiGateway/5xx"]["HttpApi"] {
		t.Error("the HTTP API has no 5xx alarm")
	}
	for _, id := range []string{"ArchiverFunction", "MailerFunction", "CompactorFunction"} {
		if n := intOr(get(get(tp.resources[id], "Properties"), "ReservedConcurrentExecutions"), 0); n < 1 {
			t.Errorf("%s has no ReservedConcurrentExecutions: an API burst can starve it", id)
		}
	}
}

// TestContractLogsAndApi: every log group expires (LogRetentionDays), every function logs to
// one of them (not to an implicit group that never expires), the HTTP API writes access logs
// and throttles by default.
func TestContractLogsAndApi(t *testing.T) {
	_, tp := repoRoot(t)
	groups := tp.ResourcesOfType("AWS::Logs::LogGroup")
	for _, id := range groups {
		if flow(get(get(tp.resources[id], "Properties"), "RetentionInDays")) != "!Ref LogRetentionDays" {
			t.Errorf("log group %s does not expire after LogRetentionDays", id)
		}
	}
	for _, f := range tp.Functions() {
		lg := get(get(get(tp.resources[f.LogicalID], "Properties"), "LoggingConfig"), "LogGroup")
		if lg == nil {
			lg = get(get(tp.globalsFn, "LoggingConfig"), "LogGroup")
		}
		if g := refTarget(lg); !slices.Contains(groups, g) {
			t.Errorf("%s logs to %s, not to a log group of the template with a retention", f.LogicalID, Value{lg})
		}
	}
	for _, id := range tp.ResourcesOfType("AWS::Serverless::HttpApi") {
		p := get(tp.resources[id], "Properties")
		if g := refTarget(get(get(p, "AccessLogSettings"), "DestinationArn")); !slices.Contains(groups, g) {
			t.Errorf("%s has no access log to a log group of the template", id)
		}
		rs := get(p, "DefaultRouteSettings")
		if get(rs, "ThrottlingRateLimit") == nil || get(rs, "ThrottlingBurstLimit") == nil {
			t.Errorf("%s has no default route throttling", id)
		}
	}
}

// TestEffectiveIntersection pins the intersection on small cases.
func TestEffectiveIntersection(t *testing.T) {
	bound := []stmt{
		{Effect: "Allow", Actions: []string{"dynamodb:GetRecords"}, Resources: []string{"arn:t/A/stream/1"}},
		{Effect: "Allow", Actions: []string{"s3:GetObject"}, Resources: []string{"arn:b/events/*"}},
		{Effect: "Allow", Actions: []string{"xray:PutTraceSegments"}, Resources: []string{"*"}},
		{Effect: "Deny", Actions: []string{"s3:*"}, Resources: []string{"arn:b/events/secret*"}},
	}
	gs := []grant{
		{"dynamodb:GetRecords", "*"}, {"sqs:ReceiveMessage", "*"}, {"s3:GetObject", "arn:b/events/x"},
		{"s3:GetObject", "arn:b/exports/x"}, {"s3:GetObject", "arn:b/events/secret1"}, {"xray:PutTraceSegments", "*"},
	}
	got := fmt.Sprint(effective(gs, bound, true))
	want := "[{dynamodb:GetRecords arn:t/A/stream/1} {s3:GetObject arn:b/events/x} {xray:PutTraceSegments *}]"
	if got != want {
		t.Errorf("effective = %s, want %s", got, want)
	}
	if got := len(effective(gs, nil, false)); got != len(gs) {
		t.Errorf("without a boundary %d grants, want %d", got, len(gs))
	}
}

// getPath follows a dotted path of mapping keys ("Policies.PasswordPolicy.MinimumLength").
func getPath(n *yaml.Node, path string) *yaml.Node {
	for _, p := range strings.Split(path, ".") {
		n = get(n, p)
	}
	return n
}
