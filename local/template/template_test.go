package template

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// inline is a small template using every form the package reads.
const inline = `
Parameters:
  MailFrom: {Type: String, Default: from@example.com}
  Issuer: {Type: String, Default: ''}
  NoDefault: {Type: String}
Conditions:
  NoIssuer: !Equals [!Ref Issuer, '']
  HasIssuer: !Not [!Equals [!Ref Issuer, '']]
  Both: {"Fn::And": [{Condition: NoIssuer}, !Equals [a, a]]}
Globals:
  Function:
    Timeout: 10
    MemorySize: 256
    Environment:
      Variables:
        TABLE: !Ref ItemsTable
        SHARED: shared
        SECRET_ARN: !Ref Key
Resources:
  Key: {Type: AWS::SecretsManager::Secret}
  Files: {Type: AWS::S3::Bucket}
  Failed:
    Type: AWS::SQS::Queue
    Properties: {RedrivePolicy: {deadLetterTargetArn: !GetAtt FailedDLQ.Arn, maxReceiveCount: 3}}
  FailedDLQ: {Type: AWS::SQS::Queue}
  Other: {Type: AWS::S3::Bucket}
  ItemsTable:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - {AttributeName: pk, AttributeType: S}
        - {AttributeName: sk, AttributeType: S}
        - {AttributeName: gk, AttributeType: N}
      KeySchema:
        - {AttributeName: pk, KeyType: HASH}
        - {AttributeName: sk, KeyType: RANGE}
      GlobalSecondaryIndexes:
        - IndexName: ByG
          KeySchema: [{AttributeName: gk, KeyType: HASH}]
          Projection: {ProjectionType: INCLUDE, NonKeyAttributes: [a, b]}
        - IndexName: ByGKeys
          KeySchema: [{AttributeName: gk, KeyType: HASH}, {AttributeName: sk, KeyType: RANGE}]
          Projection: {ProjectionType: KEYS_ONLY}
      StreamSpecification: {StreamViewType: NEW_IMAGE}
      TimeToLiveSpecification: {AttributeName: expiresAt, Enabled: true}
  PlainTable:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      TimeToLiveSpecification: {AttributeName: ttl, Enabled: false}
  GetItemFunction:
    Type: AWS::Serverless::Function
    Properties:
      Timeout: 3
      Environment:
        Variables:
          SHARED: own
          FROM: !Ref MailFrom
          BUCKET_ARN: !GetAtt Files.Arn
          LONG: {"Fn::Sub": "${Files}/${AWS::Region}/${!Literal}/${X}"}
          PICK: !If [NoIssuer, !Sub '${AWS::AccountId}', !Ref Issuer]
          GONE: !Ref AWS::NoValue
          PLAIN: '${NotSubstituted}'
      Events:
        Get:
          Type: HttpApi
          Properties: {Method: get, Path: '/v1/items/{id}'}
        Health:
          Type: HttpApi
          Properties: {Method: GET, Path: /v1/ping, Auth: {Authorizer: NONE}}
  ArchiveEventsFunction:
    Type: AWS::Serverless::Function
    Properties:
      MemorySize: 1024
      Events:
        Stream:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt ItemsTable.StreamArn
            StartingPosition: TRIM_HORIZON
            BatchSize: 500
            MaximumBatchingWindowInSeconds: 5
            MaximumRetryAttempts: 3
            BisectBatchOnFunctionError: true
            FunctionResponseTypes: [ReportBatchItemFailures]
            FilterCriteria:
              Filters:
                - Pattern: '{"eventName": ["INSERT"]}'
            DestinationConfig:
              OnFailure: {Type: SQS, Destination: !GetAtt Failed.Arn}
        Long:
          Type: DynamoDB
          Properties:
            Stream: {"Fn::GetAtt": [PlainTable, StreamArn]}
            StartingPosition: LATEST
        Nightly:
          Type: Schedule
          Properties: {Schedule: 'cron(0 3 * * ? *)', Input: '{"k":"v"}'}
        Off:
          Type: ScheduleV2
          Properties: {ScheduleExpression: rate(1 hour), State: DISABLED}
        Failures:
          Type: SQS
          Properties: {Queue: !GetAtt Failed.Arn, BatchSize: 1, FunctionResponseTypes: [ReportBatchItemFailures]}
        Plain:
          Type: SQS
          Properties: {Queue: {"Fn::GetAtt": [Other, Arn]}}
`

func mustParse(t *testing.T, text string) *Template {
	t.Helper()
	tp, err := Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

func TestFunctionsInline(t *testing.T) {
	tp := mustParse(t, inline)
	got := tp.Functions()
	want := []Function{
		{
			LogicalID: "ArchiveEventsFunction", Dir: "archive-events",
			Streams: []Stream{
				{Table: "PlainTable", BatchSize: 100, MaxRetryAttempts: -1, StartingPosition: "LATEST"},
				{Table: "ItemsTable", BatchSize: 500, MaxBatchingWindowSeconds: 5, MaxRetryAttempts: 3,
					StartingPosition: "TRIM_HORIZON", BisectOnError: true, ReportBatchItemFailures: true,
					Filters: []string{`{"eventName": ["INSERT"]}`}, OnFailure: "Failed"},
			},
			Schedules: []Schedule{
				{Expression: "cron(0 3 * * ? *)", Input: `{"k":"v"}`, Enabled: true},
				{Expression: "rate(1 hour)", Enabled: false},
			},
			Queues:  []Queue{{Queue: "Failed", BatchSize: 1, ReportBatchItemFailures: true}, {Queue: "Other", BatchSize: 10}},
			Timeout: 10, MemorySize: 1024,
		},
		{
			LogicalID: "GetItemFunction", Dir: "get-item",
			Routes: []Route{
				{Method: "GET", Path: "/v1/items/{id}"},
				{Method: "GET", Path: "/v1/ping", Public: true},
			},
			Timeout: 3, MemorySize: 256,
		},
	}
	envNames := map[string][]string{
		"ArchiveEventsFunction": {"SECRET_ARN", "SHARED", "TABLE"},
		"GetItemFunction":       {"BUCKET_ARN", "FROM", "GONE", "LONG", "PICK", "PLAIN", "SECRET_ARN", "SHARED", "TABLE"},
	}
	for _, f := range got {
		var names []string
		for k := range f.Env {
			names = append(names, k)
		}
		if d := cmp.Diff(envNames[f.LogicalID], names, cmpopts.SortSlices(func(a, b string) bool { return a < b })); d != "" {
			t.Errorf("%s env names (-want +got):\n%s", f.LogicalID, d)
		}
	}
	if d := cmp.Diff(want, got, cmpopts.IgnoreFields(Function{}, "Env")); d != "" {
		t.Errorf("Functions (-want +got):\n%s", d)
	}
}

func TestMaxReceiveCount(t *testing.T) {
	tp := mustParse(t, inline)
	for queue, want := range map[string]int{"Failed": 3, "FailedDLQ": 0, "Nothing": 0} {
		if got := tp.MaxReceiveCount(queue); got != want {
			t.Errorf("MaxReceiveCount(%s) = %d, want %d", queue, got, want)
		}
	}
	if got := loadRepo(t).MaxReceiveCount("ArchiveFailureQueue"); got != 5 {
		t.Errorf("template.yaml: ArchiveFailureQueue's maxReceiveCount = %d, want 5", got)
	}
}

func TestFunctionEnvInline(t *testing.T) {
	tp := mustParse(t, inline)
	f, ok := tp.Function("GetItemFunction")
	if !ok {
		t.Fatal("no GetItemFunction")
	}
	refs := map[string]string{
		"ItemsTable":                  "t1-items",
		"Files":                       "files-bucket",
		"Files.Arn":                   "arn:aws:s3:::files-bucket",
		"X":                           "x",
		"Key":                         "arn:aws:secretsmanager:us-east-1:000000000000:secret:Key",
		"AWS::AccountId":              "123456789012",
		"unused-keys-are-fine-though": "",
	}
	got, err := tp.FunctionEnv(f, refs)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"TABLE":      "t1-items",
		"SHARED":     "own",
		"SECRET_ARN": "arn:aws:secretsmanager:us-east-1:000000000000:secret:Key",
		"FROM":       "from@example.com",
		"BUCKET_ARN": "arn:aws:s3:::files-bucket",
		"LONG":       "files-bucket/us-east-1/${Literal}/x",
		"PICK":       "123456789012",
		"PLAIN":      "${NotSubstituted}",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("FunctionEnv (-want +got):\n%s", d)
	}
}

func TestResolveInline(t *testing.T) {
	tp := mustParse(t, inline)
	f, _ := tp.Function("GetItemFunction")
	tests := []struct {
		name    string
		env     string
		refs    map[string]string
		want    string
		wantErr string
	}{
		{name: "parameter default", env: "FROM", want: "from@example.com"},
		{name: "parameter override", env: "FROM", refs: map[string]string{"MailFrom": "a@b.c"}, want: "a@b.c"},
		{name: "resource ref", env: "TABLE", refs: map[string]string{"ItemsTable": "tbl"}, want: "tbl"},
		{name: "resource ref missing", env: "TABLE", wantErr: `resolve: no local value for resource ItemsTable (refs["ItemsTable"])`},
		{name: "getatt missing", env: "BUCKET_ARN", wantErr: `resolve: no local value for Files.Arn (refs["Files.Arn"])`},
		{name: "secret ARN", env: "SECRET_ARN", refs: map[string]string{"Key": "arn:key"}, want: "arn:key"},
		{name: "secret ARN missing", env: "SECRET_ARN", wantErr: `resolve: no local value for resource Key (refs["Key"])`},
		{name: "if true branch", env: "PICK", want: "000000000000"},
		{name: "if false branch", env: "PICK", refs: map[string]string{"Issuer": "https://issuer"}, want: "https://issuer"},
		{name: "no value", env: "GONE", wantErr: "AWS::NoValue"},
		{name: "plain scalar", env: "PLAIN", want: "${NotSubstituted}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tp.Resolve(f.Env[tt.env], tt.refs)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if gotErr != tt.wantErr || got != tt.want {
				t.Errorf("Resolve(%s) = %q, %q; want %q, %q", tt.env, got, gotErr, tt.want, tt.wantErr)
			}
		})
	}
}

func TestConditions(t *testing.T) {
	tp := mustParse(t, inline)
	tests := []struct {
		cond string
		refs map[string]string
		want bool
	}{
		{"NoIssuer", nil, true},
		{"NoIssuer", map[string]string{"Issuer": "x"}, false},
		{"HasIssuer", nil, false},
		{"HasIssuer", map[string]string{"Issuer": "x"}, true},
		{"Both", nil, true},
		{"Both", map[string]string{"Issuer": "x"}, false},
	}
	for _, tt := range tests {
		got, err := tp.condition(tt.cond, tt.refs)
		if err != nil || got != tt.want {
			t.Errorf("condition %s with %v = %v, %v; want %v", tt.cond, tt.refs, got, err, tt.want)
		}
	}
}

func TestTablesInline(t *testing.T) {
	tp := mustParse(t, inline)
	tables := tp.Tables()
	var ids []string
	for _, tb := range tables {
		ids = append(ids, tb.LogicalID)
	}
	if d := cmp.Diff([]string{"ItemsTable", "PlainTable"}, ids); d != "" {
		t.Fatalf("Tables (-want +got):\n%s", d)
	}
	items, plain := tables[0], tables[1]
	if items.TTLAttribute != "expiresAt" || items.StreamViewType != "NEW_IMAGE" || plain.TTLAttribute != "" || plain.StreamViewType != "" {
		t.Errorf("TTL/stream: items %q %q, plain %q %q", items.TTLAttribute, items.StreamViewType, plain.TTLAttribute, plain.StreamViewType)
	}
	want := &dynamodb.CreateTableInput{
		TableName: aws.String("t-items"),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("gk"), AttributeType: types.ScalarAttributeTypeN},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
			{
				IndexName:  aws.String("ByG"),
				KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("gk"), KeyType: types.KeyTypeHash}},
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: []string{"a", "b"}},
			},
			{
				IndexName: aws.String("ByGKeys"),
				KeySchema: []types.KeySchemaElement{
					{AttributeName: aws.String("gk"), KeyType: types.KeyTypeHash},
					{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
				},
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
			},
		},
		BillingMode:         types.BillingModePayPerRequest,
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewImage},
	}
	opts := cmpopts.IgnoreUnexported(dynamodb.CreateTableInput{}, types.AttributeDefinition{}, types.KeySchemaElement{},
		types.GlobalSecondaryIndex{}, types.Projection{}, types.StreamSpecification{})
	if d := cmp.Diff(want, items.CreateTableInput("t-items"), opts); d != "" {
		t.Errorf("CreateTableInput (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"ByG", "ByGKeys"}, items.Indexes()); d != "" {
		t.Errorf("Indexes (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"Files", "Other"}, tp.Buckets()); d != "" {
		t.Errorf("Buckets (-want +got):\n%s", d)
	}
}

func TestDir(t *testing.T) {
	tests := map[string]string{
		"CreateContactFunction":    "create-contact",
		"HealthFunction":           "health",
		"GetAuditLogFunction":      "get-audit-log",
		"ExportCSVFunction":        "export-csv",
		"ListS3ObjectsFunction":    "list-s3-objects",
		"CompactArchiveV2Function": "compact-archive-v2",
	}
	for id, want := range tests {
		if got := Dir(id); got != want {
			t.Errorf("Dir(%s) = %q, want %q", id, got, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := map[string]string{
		"not yaml":     "a: [",
		"not mapping":  "- a",
		"no resources": "Parameters: {}",
	}
	for name, text := range tests {
		if _, err := Parse([]byte(text)); err == nil || !strings.HasPrefix(err.Error(), "parse: ") {
			t.Errorf("%s: Parse error = %v, want a parse error", name, err)
		}
	}
}

// loadRepo loads the repository's template.yaml.
func loadRepo(t *testing.T) *Template {
	t.Helper()
	path, err := Find()
	if err != nil {
		t.Fatal(err)
	}
	tp, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

// TestRepoTemplate checks the parts of the real template.yaml that the foundation fixed.
func TestRepoTemplate(t *testing.T) {
	tp := loadRepo(t)

	var tables []string
	for _, tb := range tp.Tables() {
		tables = append(tables, tb.LogicalID+" "+tb.StreamViewType+" "+tb.TTLAttribute+" "+strings.Join(tb.Indexes(), ","))
	}
	wantTables := []string{
		"AuditTable NEW_IMAGE expiresAt ByContact,ByType,ByActor,ByCategory,BySession",
		"ContactsTable  expiresAt ByStatus", // no stream: nothing consumes one
		"JobsTable NEW_AND_OLD_IMAGES expiresAt ByDue",
		"KeysTable   ", // no stream, no TTL: a key outlives every event sealed under it
		"LogTable   ",  // no stream, no TTL: the verifiable log is kept for good
	}
	if d := cmp.Diff(wantTables, tables); d != "" {
		t.Errorf("tables (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"AccessLogsBucket", "ArchiveBucket", "CheckpointBucket", "ConsoleBucket", "ExportsBucket"}, tp.Buckets()); d != "" {
		t.Errorf("buckets (-want +got):\n%s", d)
	}

	health, ok := tp.Function("HealthFunction")
	if !ok {
		t.Fatal("template.yaml has no HealthFunction")
	}
	wantHealth := Function{LogicalID: "HealthFunction", Dir: "health", Timeout: 10, MemorySize: 256,
		Routes: []Route{{Method: "GET", Path: "/v1/health", Public: true}}}
	if d := cmp.Diff(wantHealth, health, cmpopts.IgnoreFields(Function{}, "Env")); d != "" {
		t.Errorf("HealthFunction (-want +got):\n%s", d)
	}

	refs := map[string]string{
		"ContactsTable": "c",
		"AuditTable":    "a",
		"JobsTable":     "j",
		"ArchiveBucket": "b",
	}
	env, err := tp.FunctionEnv(health, refs)
	if err != nil {
		t.Fatal(err)
	}
	wantEnv := map[string]string{
		"CONTACTS_TABLE":          "c",
		"AUDIT_TABLE":             "a",
		"JOBS_TABLE":              "j",
		"ARCHIVE_BUCKET":          "b",
		"AUDIT_WRITE_SHARDS":      "4",
		"RETENTION_CONTACT_DAYS":  "400",
		"RETENTION_PLATFORM_DAYS": "400",
		"RETENTION_ACCESS_DAYS":   "400",
		"RETENTION_COBROWSE_DAYS": "30",
	}
	if d := cmp.Diff(wantEnv, env); d != "" {
		t.Errorf("HealthFunction env (-want +got):\n%s", d)
	}

	auth := get(get(get(get(get(get(tp.resources["HttpApi"], "Properties"), "Auth"), "Authorizers"), "JwtAuthorizer"), "JwtConfiguration"), "issuer")
	issuer, err := tp.Resolve(Value{auth}, map[string]string{"UserPool": "pool"})
	if err != nil || issuer != "https://cognito-idp.us-east-1.amazonaws.com/pool" {
		t.Errorf("issuer = %q, %v", issuer, err)
	}
}

// A dynamic reference would copy a secret's value into a function's environment: Resolve
// refuses it (in a !Sub or a plain scalar) instead of making up a local value.
func TestResolveDynamicReference(t *testing.T) {
	tp := mustParse(t, `
Resources:
  Key: {Type: AWS::SecretsManager::Secret}
  ReadFunction:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          SUB: !Sub '{{resolve:secretsmanager:${Key}:SecretString}}'
          PLAIN: '{{resolve:ssm:/contrail/key}}'
`)
	f, _ := tp.Function("ReadFunction")
	for _, name := range []string{"SUB", "PLAIN"} {
		if _, err := tp.Resolve(f.Env[name], map[string]string{"Key": "arn:key"}); !errors.Is(err, ErrDynamicReference) {
			t.Errorf("Resolve(%s) = %v, want ErrDynamicReference", name, err)
		}
	}
	if _, err := tp.FunctionEnv(f, map[string]string{"Key": "arn:key"}); !errors.Is(err, ErrDynamicReference) {
		t.Errorf("FunctionEnv = %v, want ErrDynamicReference", err)
	}
}
