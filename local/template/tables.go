package template

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"gopkg.in/yaml.v3"
)

// Table is an AWS::DynamoDB::Table of the template.
type Table struct {
	LogicalID      string
	TTLAttribute   string // TimeToLiveSpecification.AttributeName when Enabled, else ""
	StreamViewType string // StreamSpecification.StreamViewType, "" without a stream

	attributes []types.AttributeDefinition
	keySchema  []types.KeySchemaElement
	gsis       []types.GlobalSecondaryIndex
	lsis       []types.LocalSecondaryIndex
}

// Indexes returns the names of the table's global and local secondary indexes, in template order.
func (tb Table) Indexes() []string {
	var names []string
	for _, g := range tb.gsis {
		names = append(names, aws.ToString(g.IndexName))
	}
	for _, l := range tb.lsis {
		names = append(names, aws.ToString(l.IndexName))
	}
	return names
}

// Tables returns every AWS::DynamoDB::Table, sorted by LogicalID.
func (t *Template) Tables() []Table {
	var tables []Table
	for _, id := range t.ResourcesOfType("AWS::DynamoDB::Table") {
		tables = append(tables, t.table(id))
	}
	return tables
}

func (t *Template) table(id string) Table {
	props := get(t.resources[id], "Properties")
	tb := Table{LogicalID: id, StreamViewType: scalar(get(get(props, "StreamSpecification"), "StreamViewType"))}
	if ttl := get(props, "TimeToLiveSpecification"); scalar(get(ttl, "Enabled")) == "true" {
		tb.TTLAttribute = scalar(get(ttl, "AttributeName"))
	}
	for _, a := range seq(get(props, "AttributeDefinitions")) {
		tb.attributes = append(tb.attributes, types.AttributeDefinition{
			AttributeName: aws.String(scalar(get(a, "AttributeName"))),
			AttributeType: types.ScalarAttributeType(scalar(get(a, "AttributeType"))),
		})
	}
	tb.keySchema = keySchema(get(props, "KeySchema"))
	for _, g := range seq(get(props, "GlobalSecondaryIndexes")) {
		tb.gsis = append(tb.gsis, types.GlobalSecondaryIndex{
			IndexName:  aws.String(scalar(get(g, "IndexName"))),
			KeySchema:  keySchema(get(g, "KeySchema")),
			Projection: projection(get(g, "Projection")),
		})
	}
	for _, l := range seq(get(props, "LocalSecondaryIndexes")) {
		tb.lsis = append(tb.lsis, types.LocalSecondaryIndex{
			IndexName:  aws.String(scalar(get(l, "IndexName"))),
			KeySchema:  keySchema(get(l, "KeySchema")),
			Projection: projection(get(l, "Projection")),
		})
	}
	return tb
}

func keySchema(n *yaml.Node) []types.KeySchemaElement {
	var ks []types.KeySchemaElement
	for _, k := range seq(n) {
		ks = append(ks, types.KeySchemaElement{
			AttributeName: aws.String(scalar(get(k, "AttributeName"))),
			KeyType:       types.KeyType(scalar(get(k, "KeyType"))),
		})
	}
	return ks
}

func projection(n *yaml.Node) *types.Projection {
	p := &types.Projection{ProjectionType: types.ProjectionType(scalar(get(n, "ProjectionType")))}
	if p.ProjectionType == "" {
		p.ProjectionType = types.ProjectionTypeKeysOnly // CloudFormation's default
	}
	for _, a := range seq(get(n, "NonKeyAttributes")) {
		p.NonKeyAttributes = append(p.NonKeyAttributes, scalar(a))
	}
	return p
}

// CreateTableInput returns the request that creates this table under name: attributes, key
// schema, indexes with their projections, on-demand billing and the stream. TTL is a separate
// call (UpdateTimeToLive with TTLAttribute). Every call returns fresh slices.
func (tb Table) CreateTableInput(name string) *dynamodb.CreateTableInput {
	in := &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: append([]types.AttributeDefinition(nil), tb.attributes...),
		KeySchema:            append([]types.KeySchemaElement(nil), tb.keySchema...),
		BillingMode:          types.BillingModePayPerRequest,
	}
	if len(tb.gsis) > 0 {
		in.GlobalSecondaryIndexes = append([]types.GlobalSecondaryIndex(nil), tb.gsis...)
	}
	if len(tb.lsis) > 0 {
		in.LocalSecondaryIndexes = append([]types.LocalSecondaryIndex(nil), tb.lsis...)
	}
	if tb.StreamViewType != "" {
		in.StreamSpecification = &types.StreamSpecification{
			StreamEnabled:  aws.Bool(true),
			StreamViewType: types.StreamViewType(tb.StreamViewType),
		}
	}
	return in
}
