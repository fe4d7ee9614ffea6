package chaos

// The handlers that stand in front of the stand-ins: each passes a request through, or
// answers it with a drawn fault as AWS answers (the status, the error code where the SDK
// reads it, the body shape), or passes it through and then spoils the answer.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/contrail/contrail/local/devstack"
)

var _ devstack.Faults = (*Injector)(nil)

// Wrap returns h behind the faults of service (devstack.Faults); other services pass as they are.
func (in *Injector) Wrap(service string, h http.Handler) http.Handler {
	switch service {
	case devstack.ServiceDynamoDB:
		return in.dynamoDB(h)
	case devstack.ServiceS3:
		return in.s3(h)
	case devstack.ServiceSES:
		return in.ses(h)
	}
	return h
}

// dynamoDBData are the operations of the functions' own data: faults strike these only, not
// the stream reads of the local poller (Lambda's part) nor table management.
var dynamoDBData = map[string]bool{
	"GetItem": true, "PutItem": true, "UpdateItem": true, "DeleteItem": true, "Query": true, "Scan": true,
	"BatchGetItem": true, "BatchWriteItem": true, "TransactWriteItems": true, "TransactGetItems": true,
}

func (in *Injector) dynamoDB(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
		if !ok || !dynamoDBData[op] || !in.On() {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			writeDynamoDBError(w, http.StatusBadRequest, "SerializationException", "chaos: read the request: "+err.Error())
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		kinds := []Kind{DynamoDBThroughput, DynamoDBThrottling, DynamoDBInternal, DynamoDBInternalAfter}
		switch op {
		case "TransactWriteItems":
			kinds = append(kinds, DynamoDBTxCanceled)
		case "BatchWriteItem", "BatchGetItem":
			kinds = append(kinds, DynamoDBUnprocessed)
		}
		switch in.first(kinds...) {
		case DynamoDBThroughput:
			writeDynamoDBError(w, http.StatusBadRequest, "ProvisionedThroughputExceededException",
				"The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.")
		case DynamoDBThrottling:
			writeDynamoDBErrorType(w, http.StatusBadRequest, "com.amazon.coral.availability#ThrottlingException", "Rate of requests exceeds the allowed throughput.")
		case DynamoDBInternal:
			writeDynamoDBError(w, http.StatusInternalServerError, "InternalServerError", "Internal server error")
		case DynamoDBInternalAfter:
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			writeDynamoDBError(w, http.StatusInternalServerError, "InternalServerError", "Internal server error")
		case DynamoDBTxCanceled:
			writeTxCanceled(w, body)
		case DynamoDBUnprocessed:
			if !in.unprocessed(w, r, op, body, next) {
				in.uncount(DynamoDBUnprocessed)
				r.Body = io.NopCloser(bytes.NewReader(body))
				next.ServeHTTP(w, r)
			}
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func writeDynamoDBError(w http.ResponseWriter, status int, code, msg string) {
	writeDynamoDBErrorType(w, status, "com.amazonaws.dynamodb.v20120810#"+code, msg)
}

func writeDynamoDBErrorType(w http.ResponseWriter, status int, typ, msg string) {
	b, _ := json.Marshal(map[string]string{"__type": typ, "message": msg})
	writeDynamoDB(w, status, b)
}

// writeDynamoDB answers as DynamoDB does: JSON 1.0 with the body's CRC32, which the SDK checks.
func writeDynamoDB(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.0")
	h.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Amzn-Requestid", "chaos")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeTxCanceled cancels a transaction as a conflicting one does: its first item
// TransactionConflict, the others None (one reason per item, as DynamoDB lists them).
func writeTxCanceled(w http.ResponseWriter, req []byte) {
	var in struct {
		TransactItems []json.RawMessage
	}
	_ = json.Unmarshal(req, &in)
	type reason struct {
		Code    string
		Message string `json:",omitempty"`
	}
	reasons := make([]reason, max(len(in.TransactItems), 1))
	codes := make([]string, len(reasons))
	for i := range reasons {
		reasons[i] = reason{Code: "None"}
		codes[i] = "None"
	}
	reasons[0] = reason{Code: "TransactionConflict", Message: "Transaction is ongoing for the item"}
	codes[0] = "TransactionConflict"
	b, _ := json.Marshal(map[string]any{
		"__type":              "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
		"Message":             "Transaction cancelled, please refer cancellation reasons for specific reasons [" + strings.Join(codes, ", ") + "]",
		"CancellationReasons": reasons,
	})
	writeDynamoDB(w, http.StatusBadRequest, b)
}

// unprocessed carries out the first half of a batch's items and answers the rest as
// unprocessed, as DynamoDB does when it runs short of throughput. false: the batch has one
// item (nothing to split) or cannot be read; the caller passes it through.
func (in *Injector) unprocessed(w http.ResponseWriter, r *http.Request, op string, body []byte, next http.Handler) bool {
	var req map[string]json.RawMessage
	if json.Unmarshal(body, &req) != nil {
		return false
	}
	var tables map[string]json.RawMessage
	if json.Unmarshal(req["RequestItems"], &tables) != nil {
		return false
	}
	// keys: the list of each table (BatchWriteItem's requests, BatchGetItem's Keys).
	lists := map[string][]json.RawMessage{}
	gets := map[string]map[string]json.RawMessage{}
	total := 0
	for t, raw := range tables {
		var list []json.RawMessage
		if op == "BatchGetItem" {
			var g map[string]json.RawMessage
			if json.Unmarshal(raw, &g) != nil || json.Unmarshal(g["Keys"], &list) != nil {
				return false
			}
			gets[t] = g
		} else if json.Unmarshal(raw, &list) != nil {
			return false
		}
		lists[t] = list
		total += len(list)
	}
	if total < 2 {
		return false
	}
	// Keep the first half of every table's list (at least one item in all), hold back the rest.
	kept, held := map[string]json.RawMessage{}, map[string][]json.RawMessage{}
	for t, list := range lists {
		n := (len(list) + 1) / 2
		if n < len(list) {
			held[t] = list[n:]
		}
		if n > 0 {
			kept[t] = encode(op, gets[t], list[:n])
		}
	}
	if len(held) == 0 {
		return false
	}
	req["RequestItems"] = mustJSON(kept)
	nb := mustJSON(req)
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(nb))
	r2.ContentLength = int64(len(nb))
	r2.Header.Set("Content-Length", strconv.Itoa(len(nb)))
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r2)
	if rec.Code != http.StatusOK {
		copyRecorded(w, rec)
		return true
	}
	var resp map[string]json.RawMessage
	if json.Unmarshal(rec.Body.Bytes(), &resp) != nil {
		copyRecorded(w, rec)
		return true
	}
	field := "UnprocessedItems"
	if op == "BatchGetItem" {
		field = "UnprocessedKeys"
	}
	left := map[string]json.RawMessage{}
	if raw, ok := resp[field]; ok {
		_ = json.Unmarshal(raw, &left)
	}
	for t, list := range held {
		var prev []json.RawMessage
		if raw, ok := left[t]; ok {
			if op == "BatchGetItem" {
				var g map[string]json.RawMessage
				_ = json.Unmarshal(raw, &g)
				_ = json.Unmarshal(g["Keys"], &prev)
			} else {
				_ = json.Unmarshal(raw, &prev)
			}
		}
		left[t] = encode(op, gets[t], append(prev, list...))
	}
	resp[field] = mustJSON(left)
	writeDynamoDB(w, http.StatusOK, mustJSON(resp))
	return true
}

// encode is a table's entry of RequestItems (or UnprocessedItems/Keys) holding list.
func encode(op string, get map[string]json.RawMessage, list []json.RawMessage) json.RawMessage {
	if op != "BatchGetItem" {
		return mustJSON(list)
	}
	g := make(map[string]json.RawMessage, len(get))
	for k, v := range get {
		g[k] = v
	}
	g["Keys"] = mustJSON(list)
	return mustJSON(g)
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("chaos: encode %T: %v", v, err))
	}
	return b
}

func copyRecorded(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

func (in *Injector) s3(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !in.On() {
			next.ServeHTTP(w, r)
			return
		}
		switch in.first(S3InternalError, S3SlowDown, S3Reset, S3ResetAfter, S3Slow) {
		case S3InternalError:
			writeS3Error(w, http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
		case S3SlowDown:
			writeS3Error(w, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
		case S3Reset:
			_, _ = io.Copy(io.Discard, r.Body)
			reset(w)
		case S3ResetAfter:
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			reset(w)
		case S3Slow:
			in.mu.Lock()
			d := in.plan.Slow
			in.mu.Unlock()
			if d <= 0 {
				d = 1500 * time.Millisecond
			}
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			}
			next.ServeHTTP(w, r)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func writeS3Error(w http.ResponseWriter, status int, code, msg string) {
	body := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<Error><Code>` + code + `</Code><Message>` + msg + `</Message><RequestId>chaos</RequestId><HostId>chaos</HostId></Error>`
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// reset closes the request's connection with a TCP RST and no answer.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// sesSend is the part of an SES v2 SendEmail request that names a message.
type sesSend struct {
	Destination struct {
		ToAddresses []string
	}
	Content struct {
		Simple struct {
			Subject struct{ Data string }
		}
	}
}

// MailKey is the key the Mailbox counts a message under: its recipients and subject.
func MailKey(to []string, subject string) string {
	return strings.Join(to, ",") + " | " + subject
}

func (in *Injector) ses(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/v2/email/outbound-emails") {
			next.ServeHTTP(w, r)
			return
		}
		switch in.first(SESThrottling, SESFailure) {
		case SESThrottling:
			writeSESError(w, http.StatusTooManyRequests, "TooManyRequestsException", "Maximum sending rate exceeded.")
			return
		case SESFailure:
			writeSESError(w, http.StatusInternalServerError, "InternalFailure", "The request processing has failed because of an unknown error.")
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			writeSESError(w, http.StatusBadRequest, "BadRequestException", "chaos: read the request: "+err.Error())
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		if rec.Code == http.StatusOK {
			var msg sesSend
			var out struct{ MessageId string }
			_ = json.Unmarshal(body, &msg)
			_ = json.Unmarshal(rec.Body.Bytes(), &out)
			in.mail.add(MailKey(msg.Destination.ToAddresses, msg.Content.Simple.Subject.Data), Sent{At: time.Now(), MessageID: out.MessageId})
		}
		copyRecorded(w, rec)
	})
}

func writeSESError(w http.ResponseWriter, status int, code, msg string) {
	b, _ := json.Marshal(map[string]string{"message": msg})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", code)
	w.Header().Set("X-Amzn-Requestid", "chaos")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// Kill decides whether the invocation of function starting now gets its process killed
// (runtime.Faults): after a drawn delay, or at its answer.
func (in *Injector) Kill(function string) (delay time.Duration, atAnswer, ok bool) {
	in.mu.Lock()
	in.invocations[function]++
	named := false
	for _, f := range in.plan.Kill {
		named = named || f == function
	}
	within := in.plan.KillWithin
	first := in.on && in.plan.KillEach && in.midKills[function]+in.answerKills[function] == 0
	in.mu.Unlock()
	if !named {
		return 0, false, false
	}
	if first {
		return 0, true, true
	}
	switch {
	case in.draw(KillAtAnswer, false):
		return 0, true, true
	case in.draw(Kill, false):
		if within <= 0 {
			within = 300 * time.Millisecond
		}
		return in.duration(within), false, true
	}
	return 0, false, false
}

// Struck counts a kill that struck: the process of function died with the invocation in
// flight (runtime.Faults).
func (in *Injector) Struck(function string, atAnswer bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if atAnswer {
		in.counts[KillAtAnswer]++
		in.answerKills[function]++
	} else {
		in.counts[Kill]++
		in.midKills[function]++
	}
	in.kills[function] = append(in.kills[function], time.Now())
}
