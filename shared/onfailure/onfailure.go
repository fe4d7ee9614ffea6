// Package onfailure holds the record Lambda sends to a DynamoDB stream event source
// mapping's on-failure destination when a batch exhausts its retries: where the batch is in
// the stream (shard and sequence range), not its records. The local stream poller writes
// it; the replays of the archive and of the mail parse it and read its range back (Parse,
// Read).
package onfailure

// Record is the on-failure record (the body of the destination queue's message).
type Record struct {
	RequestContext  RequestContext  `json:"requestContext"`
	ResponseContext ResponseContext `json:"responseContext"`
	Version         string          `json:"version"`
	Timestamp       string          `json:"timestamp"`
	// DDBStreamBatchInfo is absent when the record comes from another kind of source.
	DDBStreamBatchInfo *BatchInfo `json:"DDBStreamBatchInfo,omitempty"`
}

// RequestContext says which function gave up, and why.
type RequestContext struct {
	RequestID              string `json:"requestId"`
	FunctionArn            string `json:"functionArn"`
	Condition              string `json:"condition"` // RetryAttemptsExhausted, RecordAgeExceeded, ...
	ApproximateInvokeCount int    `json:"approximateInvokeCount"`
}

// ResponseContext is the last invocation's outcome.
type ResponseContext struct {
	StatusCode      int    `json:"statusCode"`
	ExecutedVersion string `json:"executedVersion"`
	FunctionError   string `json:"functionError,omitempty"`
}

// BatchInfo is where the failed batch is: a shard and an inclusive sequence number range.
type BatchInfo struct {
	ShardID                         string `json:"shardId"`
	StartSequenceNumber             string `json:"startSequenceNumber"`
	EndSequenceNumber               string `json:"endSequenceNumber"`
	ApproximateArrivalOfFirstRecord string `json:"approximateArrivalOfFirstRecord"`
	ApproximateArrivalOfLastRecord  string `json:"approximateArrivalOfLastRecord"`
	BatchSize                       int    `json:"batchSize"`
	StreamArn                       string `json:"streamArn"`
}
