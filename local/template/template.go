// Package template reads template.yaml, the one description of Contrail's routes, tables,
// indexes, stream mappings and schedules, so the local stack and the tests use the same
// definitions SAM deploys (the way `sam local start-api` reads the template).
//
// It understands the CloudFormation short tags (!Ref, !Sub, !GetAtt, !If, !Equals, !Not, ...)
// and their long forms (Ref, Fn::Sub, Fn::GetAtt, ...), and SAM's Globals.Function defaults.
package template

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// FileName is the template's file name at the repository root.
const FileName = "template.yaml"

// Template is a parsed template.yaml.
type Template struct {
	Path string // file it was loaded from

	root       *yaml.Node // the top mapping
	parameters map[string]*yaml.Node
	conditions map[string]*yaml.Node
	resources  map[string]*yaml.Node // logical id -> resource mapping
	globalsFn  *yaml.Node            // Globals.Function, or nil
}

// Value is an unresolved template value: a scalar, a list, a mapping or an intrinsic function
// (!Ref, !Sub, ...). Resolve turns it into a string.
type Value struct {
	n *yaml.Node
}

// IsZero reports whether the value is absent.
func (v Value) IsZero() bool { return v.n == nil }

// String returns the value as YAML, for messages and debugging.
func (v Value) String() string {
	if v.n == nil {
		return "<none>"
	}
	b, err := yaml.Marshal(v.n)
	if err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return strings.TrimSpace(string(b))
}

// Function is an AWS::Serverless::Function with Globals.Function applied.
type Function struct {
	LogicalID  string
	Dir        string           // folder under functions/: kebab-case of LogicalID without "Function"
	Env        map[string]Value // Globals.Function.Environment.Variables merged with the function's own
	Routes     []Route          // HttpApi (and Api) events
	Streams    []Stream         // DynamoDB events
	Schedules  []Schedule       // Schedule and ScheduleV2 events
	Queues     []Queue          // SQS events
	Timeout    int              // seconds
	MemorySize int              // MB
}

// Route is one HTTP API event of a function.
type Route struct {
	Method string // upper case, e.g. GET
	Path   string // e.g. /v1/contacts/{id}
	Public bool   // Auth: {Authorizer: NONE}: no JWT required
}

// Stream is one DynamoDB stream event source mapping of a function.
type Stream struct {
	Table                    string // logical id of the table whose StreamArn the mapping reads
	BatchSize                int
	MaxBatchingWindowSeconds int
	MaxRetryAttempts         int // -1 when the template leaves it unset (retry until the record expires)
	StartingPosition         string
	BisectOnError            bool
	ReportBatchItemFailures  bool     // FunctionResponseTypes contains ReportBatchItemFailures
	Filters                  []string // FilterCriteria.Filters[].Pattern, as written
	OnFailure                string   // logical id of DestinationConfig.OnFailure.Destination, "" when none
}

// Queue is one SQS event source mapping of a function.
type Queue struct {
	Queue                   string // logical id of the queue it reads
	BatchSize               int
	ReportBatchItemFailures bool // FunctionResponseTypes contains ReportBatchItemFailures
}

// Schedule is one EventBridge schedule of a function.
type Schedule struct {
	Expression string // rate(...) or cron(...)
	Input      string // JSON text passed as the event detail, "" when unset
	Enabled    bool
}

// Find walks up from the working directory to the folder holding template.yaml and returns
// the file's path. Tests run in their package's folder, so this finds the repository root.
func Find() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find %s: %w", FileName, err)
	}
	for {
		p := filepath.Join(dir, FileName)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("find %s: not in the working directory or any parent", FileName)
		}
		dir = parent
	}
}

// Load parses the template at path.
func Load(path string) (*Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load template: %w", err)
	}
	t, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("load template %s: %w", path, err)
	}
	t.Path = path
	return t, nil
}

// Parse parses template text.
func Parse(b []byte) (*Template, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("parse: the template is not a YAML mapping")
	}
	t := &Template{root: doc.Content[0]}
	t.parameters = mapping(get(t.root, "Parameters"))
	t.conditions = mapping(get(t.root, "Conditions"))
	t.resources = mapping(get(t.root, "Resources"))
	t.globalsFn = get(get(t.root, "Globals"), "Function")
	if len(t.resources) == 0 {
		return nil, errors.New("parse: the template has no Resources")
	}
	return t, nil
}

// ResourceType returns the Type of a resource, or "" when there is no such resource.
func (t *Template) ResourceType(logicalID string) string {
	return scalar(get(t.resources[logicalID], "Type"))
}

// ResourcesOfType returns the logical ids of every resource of type typ, sorted.
func (t *Template) ResourcesOfType(typ string) []string {
	var ids []string
	for id, r := range t.resources {
		if scalar(get(r, "Type")) == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// Parameter returns a parameter's Default and whether the parameter is declared.
func (t *Template) Parameter(name string) (string, bool) {
	p, ok := t.parameters[name]
	if !ok {
		return "", false
	}
	return scalar(get(p, "Default")), true
}

// MaxReceiveCount returns how many times the SQS queue logicalID delivers a message before
// its RedrivePolicy moves it to the dead-letter queue; 0 when it has no redrive policy.
func (t *Template) MaxReceiveCount(logicalID string) int {
	return intOr(get(get(get(t.resources[logicalID], "Properties"), "RedrivePolicy"), "maxReceiveCount"), 0)
}

// VisibilityTimeout returns the seconds the SQS queue logicalID hides a received message
// before delivering it again; 0 when it declares none (SQS's default, 30 s).
func (t *Template) VisibilityTimeout(logicalID string) int {
	return intOr(get(get(t.resources[logicalID], "Properties"), "VisibilityTimeout"), 0)
}

// CustomResourcesOf returns the logical ids of the custom resources (Custom::* or
// AWS::CloudFormation::CustomResource) whose ServiceToken is function's Arn, sorted.
func (t *Template) CustomResourcesOf(function string) []string {
	var ids []string
	for id, r := range t.resources {
		typ := scalar(get(r, "Type"))
		if !strings.HasPrefix(typ, "Custom::") && typ != "AWS::CloudFormation::CustomResource" {
			continue
		}
		if refTarget(get(get(r, "Properties"), "ServiceToken")) == function {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// Buckets returns the logical ids of every AWS::S3::Bucket, sorted.
func (t *Template) Buckets() []string { return t.ResourcesOfType("AWS::S3::Bucket") }

// Functions returns every AWS::Serverless::Function, sorted by LogicalID.
func (t *Template) Functions() []Function {
	ids := t.ResourcesOfType("AWS::Serverless::Function")
	fns := make([]Function, 0, len(ids))
	for _, id := range ids {
		fns = append(fns, t.function(id))
	}
	return fns
}

// Function returns one function by logical id.
func (t *Template) Function(logicalID string) (Function, bool) {
	if t.ResourceType(logicalID) != "AWS::Serverless::Function" {
		return Function{}, false
	}
	return t.function(logicalID), true
}

func (t *Template) function(id string) Function {
	props := get(t.resources[id], "Properties")
	f := Function{
		LogicalID:  id,
		Dir:        Dir(id),
		Env:        map[string]Value{},
		Timeout:    intOr(get(props, "Timeout"), intOr(get(t.globalsFn, "Timeout"), 3)),
		MemorySize: intOr(get(props, "MemorySize"), intOr(get(t.globalsFn, "MemorySize"), 128)),
	}
	for _, vars := range []*yaml.Node{
		get(get(t.globalsFn, "Environment"), "Variables"),
		get(get(props, "Environment"), "Variables"),
	} {
		for k, v := range mapping(vars) {
			f.Env[k] = Value{v}
		}
	}
	events := mapping(get(props, "Events"))
	names := make([]string, 0, len(events))
	for name := range events {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		ev := events[name]
		ep := get(ev, "Properties")
		switch scalar(get(ev, "Type")) {
		case "HttpApi", "Api":
			f.Routes = append(f.Routes, Route{
				Method: strings.ToUpper(scalar(get(ep, "Method"))),
				Path:   scalar(get(ep, "Path")),
				Public: scalar(get(get(ep, "Auth"), "Authorizer")) == "NONE",
			})
		case "DynamoDB":
			s := Stream{
				Table:                    refTarget(get(ep, "Stream")),
				BatchSize:                intOr(get(ep, "BatchSize"), 100),
				MaxBatchingWindowSeconds: intOr(get(ep, "MaximumBatchingWindowInSeconds"), 0),
				MaxRetryAttempts:         intOr(get(ep, "MaximumRetryAttempts"), -1),
				StartingPosition:         scalar(get(ep, "StartingPosition")),
				BisectOnError:            scalar(get(ep, "BisectBatchOnFunctionError")) == "true",
			}
			s.ReportBatchItemFailures = reportsItemFailures(ep)
			s.OnFailure = refTarget(get(get(get(ep, "DestinationConfig"), "OnFailure"), "Destination"))
			for _, fl := range seq(get(get(ep, "FilterCriteria"), "Filters")) {
				s.Filters = append(s.Filters, scalar(get(fl, "Pattern")))
			}
			f.Streams = append(f.Streams, s)
		case "SQS":
			f.Queues = append(f.Queues, Queue{Queue: refTarget(get(ep, "Queue")), BatchSize: intOr(get(ep, "BatchSize"), 10),
				ReportBatchItemFailures: reportsItemFailures(ep)})
		case "Schedule", "ScheduleV2":
			s := Schedule{Expression: scalar(get(ep, "Schedule")), Input: scalar(get(ep, "Input")), Enabled: true}
			if s.Expression == "" {
				s.Expression = scalar(get(ep, "ScheduleExpression"))
			}
			if en := get(ep, "Enabled"); en != nil {
				s.Enabled = scalar(en) == "true"
			}
			if st := scalar(get(ep, "State")); st != "" {
				s.Enabled = st == "ENABLED"
			}
			f.Schedules = append(f.Schedules, s)
		}
	}
	return f
}

// Dir returns the functions/ folder of a logical id: kebab-case without the "Function"
// suffix. CreateContactFunction -> create-contact, ExportCSVFunction -> export-csv.
func Dir(logicalID string) string {
	name := []rune(strings.TrimSuffix(logicalID, "Function"))
	var b strings.Builder
	for i, r := range name {
		upper := r >= 'A' && r <= 'Z'
		if upper && i > 0 {
			prev := name[i-1]
			prevLowerOrDigit := (prev >= 'a' && prev <= 'z') || (prev >= '0' && prev <= '9')
			nextLower := i+1 < len(name) && name[i+1] >= 'a' && name[i+1] <= 'z'
			prevUpper := prev >= 'A' && prev <= 'Z'
			if prevLowerOrDigit || (prevUpper && nextLower) {
				b.WriteByte('-')
			}
		}
		if upper {
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// refTarget returns the logical id a !Ref / !GetAtt / !Sub value points at ("" if none).
// reportsItemFailures tells whether an event source mapping's FunctionResponseTypes
// contains ReportBatchItemFailures.
func reportsItemFailures(props *yaml.Node) bool {
	for _, rt := range seq(get(props, "FunctionResponseTypes")) {
		if scalar(rt) == "ReportBatchItemFailures" {
			return true
		}
	}
	return false
}

func refTarget(n *yaml.Node) string {
	fn, arg, ok := intrinsic(n)
	if !ok {
		return ""
	}
	switch fn {
	case "Ref":
		return scalar(arg)
	case "Fn::GetAtt":
		id, _ := getAttParts(arg)
		return id
	}
	return ""
}

// ---- yaml.Node helpers

// get returns the value of key in a mapping node, or nil.
func get(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// mapping returns a mapping node's entries.
func mapping(n *yaml.Node) map[string]*yaml.Node {
	m := map[string]*yaml.Node{}
	if n == nil || n.Kind != yaml.MappingNode {
		return m
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		m[n.Content[i].Value] = n.Content[i+1]
	}
	return m
}

// seq returns a sequence node's items, or the node itself as a one-item list.
func seq(n *yaml.Node) []*yaml.Node {
	switch {
	case n == nil:
		return nil
	case n.Kind == yaml.SequenceNode:
		return n.Content
	default:
		return []*yaml.Node{n}
	}
}

// scalar returns a scalar node's text, or "".
func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

func intOr(n *yaml.Node, def int) int {
	if i, err := strconv.Atoi(scalar(n)); err == nil {
		return i
	}
	return def
}

// shortTags maps the CloudFormation short tags to the long function names.
var shortTags = map[string]string{
	"!Ref":         "Ref",
	"!Condition":   "Condition",
	"!Sub":         "Fn::Sub",
	"!GetAtt":      "Fn::GetAtt",
	"!If":          "Fn::If",
	"!Equals":      "Fn::Equals",
	"!Not":         "Fn::Not",
	"!And":         "Fn::And",
	"!Or":          "Fn::Or",
	"!Join":        "Fn::Join",
	"!Select":      "Fn::Select",
	"!Split":       "Fn::Split",
	"!FindInMap":   "Fn::FindInMap",
	"!Base64":      "Fn::Base64",
	"!ImportValue": "Fn::ImportValue",
	"!GetAZs":      "Fn::GetAZs",
	"!Cidr":        "Fn::Cidr",
}

// intrinsic recognises an intrinsic function in short (!Ref X) or long ({Ref: X}) form and
// returns its long name and argument node.
func intrinsic(n *yaml.Node) (string, *yaml.Node, bool) {
	if n == nil {
		return "", nil, false
	}
	if name, ok := shortTags[n.Tag]; ok {
		arg := *n
		arg.Tag = ""
		arg.Style &^= yaml.TaggedStyle
		return name, &arg, true
	}
	if n.Kind == yaml.MappingNode && len(n.Content) == 2 {
		k := n.Content[0].Value
		if k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::") {
			return k, n.Content[1], true
		}
	}
	return "", nil, false
}

// getAttParts splits a GetAtt argument: "X.Attr" or [X, Attr].
func getAttParts(arg *yaml.Node) (id, attr string) {
	if arg.Kind == yaml.SequenceNode && len(arg.Content) == 2 {
		return scalar(arg.Content[0]), scalar(arg.Content[1])
	}
	id, attr, _ = strings.Cut(scalar(arg), ".")
	return id, attr
}
