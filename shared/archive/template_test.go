package archive

import (
	"github.com/apache/arrow/go/v17/arrow"
	"strings"
	"testing"

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
	// The Hive types are what the arrow schema becomes in Parquet.
	for i, f := range Schema.Fields() {
		var hive string
		switch f.Type.ID() {
		case arrow.STRING:
			hive = "string"
		case arrow.TIMESTAMP:
			hive = "timestamp"
		case arrow.BOOL:
			hive = "boolean"
		case arrow.LIST:
			if f.Type.(*arrow.ListType).Elem().ID() == arrow.STRING {
				hive = "array<string>"
			}
		}
		if hive != HiveTypes[i] {
			t.Errorf("column %s: arrow %s, Hive type %s", f.Name, f.Type, HiveTypes[i])
		}
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
		"storage.location.template": "s3://${ArchiveBucket}/" + DayPrefix("${!tenant}", "${!date}"),
	} {
		if params[k] != v {
			t.Errorf("table parameter %s = %q, want %q", k, params[k], v)
		}
	}
	if got := node(table, "StorageDescriptor", "SerdeInfo", "SerializationLibrary").Value; got != "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe" {
		t.Errorf("serde = %s", got)
	}
	if got := node(doc, "Resources", "ArchiveWorkGroup", "Properties", "WorkGroupConfiguration", "ResultConfiguration", "OutputLocation").Value; got != "s3://${ArchiveBucket}/athena-results/" {
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
