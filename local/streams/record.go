package streams

import (
	"encoding/json"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// Record is one stream record in the JSON shape Lambda hands a function
// (events.DynamoDBEventRecord decodes it).
type Record struct {
	EventID        string        `json:"eventID"`
	EventName      string        `json:"eventName"`
	EventVersion   string        `json:"eventVersion"`
	EventSource    string        `json:"eventSource"`
	AWSRegion      string        `json:"awsRegion"`
	DynamoDB       StreamRecord  `json:"dynamodb"`
	EventSourceARN string        `json:"eventSourceARN"`
	UserIdentity   *UserIdentity `json:"userIdentity,omitempty"`
}

// StreamRecord is the dynamodb member of a Record.
type StreamRecord struct {
	ApproximateCreationDateTime int64          `json:"ApproximateCreationDateTime,omitempty"`
	Keys                        map[string]any `json:"Keys,omitempty"`
	NewImage                    map[string]any `json:"NewImage,omitempty"`
	OldImage                    map[string]any `json:"OldImage,omitempty"`
	SequenceNumber              string         `json:"SequenceNumber"`
	SizeBytes                   int64          `json:"SizeBytes"`
	StreamViewType              string         `json:"StreamViewType"`
}

// UserIdentity marks TTL deletions (type Service, principal dynamodb.amazonaws.com).
type UserIdentity struct {
	Type        string `json:"type"`
	PrincipalID string `json:"principalId"`
}

// Event is the payload of one invoke: Lambda's DynamoDB event.
type Event struct {
	Records []Record `json:"Records"`
}

// convert turns a record read with the dynamodbstreams client into Lambda's shape.
func convert(r types.Record, streamARN string) Record {
	out := Record{
		EventID:        aws.ToString(r.EventID),
		EventName:      string(r.EventName),
		EventVersion:   aws.ToString(r.EventVersion),
		EventSource:    aws.ToString(r.EventSource),
		AWSRegion:      aws.ToString(r.AwsRegion),
		EventSourceARN: streamARN,
	}
	if out.EventSource == "" {
		out.EventSource = "aws:dynamodb"
	}
	if out.AWSRegion == "" || out.AWSRegion == "ddblocal" { // DynamoDB Local's own name
		out.AWSRegion = "us-east-1"
	}
	if r.UserIdentity != nil {
		out.UserIdentity = &UserIdentity{Type: aws.ToString(r.UserIdentity.Type), PrincipalID: aws.ToString(r.UserIdentity.PrincipalId)}
	}
	if d := r.Dynamodb; d != nil {
		if d.ApproximateCreationDateTime != nil {
			out.DynamoDB.ApproximateCreationDateTime = d.ApproximateCreationDateTime.Unix()
		}
		out.DynamoDB.Keys = attrMap(d.Keys)
		out.DynamoDB.NewImage = attrMap(d.NewImage)
		out.DynamoDB.OldImage = attrMap(d.OldImage)
		out.DynamoDB.SequenceNumber = aws.ToString(d.SequenceNumber)
		out.DynamoDB.SizeBytes = aws.ToInt64(d.SizeBytes)
		out.DynamoDB.StreamViewType = string(d.StreamViewType)
	}
	return out
}

func attrMap(m map[string]types.AttributeValue) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = attr(v)
	}
	return out
}

// attr renders an attribute value as DynamoDB JSON: {"S": "..."}, {"N": "1"}, {"M": {...}}, ...
func attr(v types.AttributeValue) map[string]any {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return map[string]any{"S": x.Value}
	case *types.AttributeValueMemberN:
		return map[string]any{"N": x.Value}
	case *types.AttributeValueMemberB:
		return map[string]any{"B": x.Value}
	case *types.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": x.Value}
	case *types.AttributeValueMemberNULL:
		return map[string]any{"NULL": x.Value}
	case *types.AttributeValueMemberSS:
		return map[string]any{"SS": x.Value}
	case *types.AttributeValueMemberNS:
		return map[string]any{"NS": x.Value}
	case *types.AttributeValueMemberBS:
		return map[string]any{"BS": x.Value}
	case *types.AttributeValueMemberM:
		return map[string]any{"M": attrMap(x.Value)}
	case *types.AttributeValueMemberL:
		l := make([]any, len(x.Value))
		for i, e := range x.Value {
			l[i] = attr(e)
		}
		return map[string]any{"L": l}
	}
	return map[string]any{"NULL": true}
}

// generic returns the record as plain JSON values, the form filter patterns match against.
func (r Record) generic() map[string]any {
	b, _ := json.Marshal(r)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}
