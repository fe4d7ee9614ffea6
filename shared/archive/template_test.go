package archive

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/schema"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

// node returns the value under path in a YAML mapping tree (nil when absent).
func node(n *yaml.Node, path ...string) *yaml.Node {
	if n != nil && n.Kind == yaml.DocumentNode {
		n = n.Content[0]
	}
	for _, p := range path {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == p {
				next = n.Content[i+1]
			}
		}
		n = next
	}
	return n
}

func loadTemplate(t *testing.T) *yaml.Node {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(readRepoFile(t, "template.yaml"), &doc); err != nil {
		t.Fatal(err)
	}
	return &doc
}

// The Glue table Athena reads is the schema the archiver writes.
func TestGlueTableMatchesParquetSchema(t *testing.T) {
	doc := loadTemplate(t)
	table := node(doc, "Resources", "ArchiveEventsTable", "Properties", "TableInput")
	if table == nil {
		t.Fatal("template.yaml has no ArchiveEventsTable")
	}
	type col struct{ Name, Type string }
	var got, want []col
	for _, c := range node(table, "StorageDescriptor", "Columns").Content {
		got = append(got, col{node(c, "Name").Value, node(c, "Type").Value})
	}
	for i, name := range Columns {
		want = append(want, col{name, HiveTypes[i]})
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Glue columns (-archive.Columns +template.yaml):\n%s", d)
	}
	// The Hive types are what the Parquet schema the writer produces declares.
	obj, err := Encode(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	pf, err := file.NewParquetReader(bytes.NewReader(obj))
	if err != nil {
		t.Fatal(err)
	}
	root := pf.MetaData().Schema.Root()
	var written []col
	for i := 0; i < root.NumFields(); i++ {
		written = append(written, col{root.Field(i).Name(), hiveType(root.Field(i))})
	}
	if d := cmp.Diff(want, written); d != "" {
		t.Errorf("columns (-archive.Columns and HiveTypes +Parquet schema written):\n%s", d)
	}

	var parts []col
	for _, c := range node(table, "PartitionKeys").Content {
		parts = append(parts, col{node(c, "Name").Value, node(c, "Type").Value})
	}
	if d := cmp.Diff([]col{{"tenant", "string"}, {"date", "string"}}, parts); d != "" {
		t.Errorf("partition keys (-want +got):\n%s", d)
	}
	params := map[string]string{}
	p := node(table, "Parameters")
	for i := 0; i+1 < len(p.Content); i += 2 {
		params[p.Content[i].Value] = p.Content[i+1].Value
	}
	for k, v := range map[string]string{
		"projection.enabled": "true", "projection.tenant.type": "injected",
		"projection.date.type": "date", "projection.date.format": "yyyy-MM-dd",
		"storage.location.template": "s3://${ArchiveBucket}/" + EventsPrefix + "tenant=${!tenant}/date=${!date}/",
	} {
		if params[k] != v {
			t.Errorf("table parameter %s = %q, want %q", k, params[k], v)
		}
	}
	// The template's location is what DayPrefix builds, with the partition values put in.
	wantPrefix := strings.NewReplacer("s3://${ArchiveBucket}/", "", "${!tenant}", "acme", "${!date}", "2026-11-29").Replace(params["storage.location.template"])
	if got := mustKey(DayPrefix("acme", "2026-11-29")); got != wantPrefix {
		t.Errorf("DayPrefix = %q, the template's location gives %q", got, wantPrefix)
	}
	if got := node(table, "StorageDescriptor", "SerdeInfo", "SerializationLibrary").Value; got != "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe" {
		t.Errorf("serde = %s", got)
	}
	if got := node(doc, "Resources", "ArchiveWorkGroup", "Properties", "WorkGroupConfiguration", "ResultConfiguration", "OutputLocation").Value; got != "s3://${ExportsBucket}/athena-results/" {
		t.Errorf("Athena results go to %s", got)
	}
}

// The archiver's stream mapping has the settings the archive's guarantees rest on.
func TestArchiverStreamMapping(t *testing.T) {
	doc := loadTemplate(t)
	fn := node(doc, "Resources", "ArchiverFunction", "Properties")
	ev := node(fn, "Events", "AuditStream", "Properties")
	if ev == nil {
		t.Fatal("ArchiverFunction has no AuditStream event")
	}
	get := func(n *yaml.Node, path ...string) string {
		if v := node(n, path...); v != nil {
			if v.Kind == yaml.SequenceNode {
				var s []string
				for _, c := range v.Content {
					s = append(s, c.Value)
				}
				return strings.Join(s, ",")
			}
			return v.Value
		}
		return ""
	}
	got := map[string]string{
		"Stream": get(ev, "Stream"), "StartingPosition": get(ev, "StartingPosition"),
		"BatchSize": get(ev, "BatchSize"), "Window": get(ev, "MaximumBatchingWindowInSeconds"),
		"ResponseTypes": get(ev, "FunctionResponseTypes"), "Bisect": get(ev, "BisectBatchOnFunctionError"),
		"OnFailure": get(ev, "DestinationConfig", "OnFailure", "Destination"),
		"Filter":    get(node(ev, "FilterCriteria", "Filters").Content[0], "Pattern"),
		"Memory":    get(fn, "MemorySize"), "Timeout": get(fn, "Timeout"),
	}
	want := map[string]string{
		"Stream": "AuditTable.StreamArn", "StartingPosition": "TRIM_HORIZON",
		"BatchSize": "1000", "Window": "2", "ResponseTypes": "ReportBatchItemFailures", "Bisect": "true",
		"OnFailure": "ArchiveFailureQueue.Arn",
		"Filter":    `{"eventName": ["INSERT"], "dynamodb": {"NewImage": {"itemType": {"S": ["event"]}}}}`,
		"Memory":    "1024", "Timeout": "120",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("stream mapping (-want +got):\n%s", d)
	}
}

// hiveType is the Hive type Athena reads a Parquet field as ("?" plus a description when
// it is none this archive uses).
func hiveType(n schema.Node) string {
	switch n := n.(type) {
	case *schema.PrimitiveNode:
		switch lt := n.LogicalType().(type) {
		case schema.StringLogicalType:
			if n.PhysicalType() == parquet.Types.ByteArray {
				return "string"
			}
		case *schema.TimestampLogicalType:
			if n.PhysicalType() == parquet.Types.Int64 && lt.IsAdjustedToUTC() && lt.TimeUnit() == schema.TimeUnitMillis {
				return "timestamp"
			}
		case schema.NoLogicalType, nil:
			if n.PhysicalType() == parquet.Types.Boolean {
				return "boolean"
			}
		}
		return fmt.Sprintf("? %s %s", n.PhysicalType(), n.LogicalType())
	case *schema.GroupNode:
		if _, ok := n.LogicalType().(schema.ListLogicalType); ok && n.NumFields() == 1 {
			if list, ok := n.Field(0).(*schema.GroupNode); ok && list.RepetitionType() == parquet.Repetitions.Repeated && list.NumFields() == 1 {
				if el := hiveType(list.Field(0)); !strings.HasPrefix(el, "?") {
					return "array<" + el + ">"
				}
			}
		}
		return fmt.Sprintf("? group %s", n.LogicalType())
	}
	return "? unknown node"
}
