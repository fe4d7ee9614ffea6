package devstack

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// front is a stand-in's front: a proxy on the port the functions use. DynamoDB's is one in
// front of DynamoDB Local that
//   - adds the X-Amz-Crc32 header DynamoDB sends with every response and DynamoDB Local
//     leaves off its error responses (ConditionalCheckFailed, ResourceNotFound,
//     TransactionCanceled...): without it the Go SDK checks the body against a CRC32 of 0 and
//     logs "response did not match expected checksum" for every such error;
//   - passes on whole answers only: DynamoDB Local, under stress, now and then answers 200
//     with a body cut short (the SDK then fails with "deserialization failed, unexpected
//     EOF"). A cut answer to a read is fetched once more; a cut answer to a write (which may
//     or may not have been carried out) becomes the 500 InternalServerError DynamoDB itself
//     answers when a write's outcome is unknown, which the SDK retries;
//   - runs its requests through Options.Faults, when set (local/chaos).
type front struct {
	srv      *http.Server
	Endpoint string
}

func startDynamoDBFront(target, host string, port int, wrap func(http.Handler) http.Handler, logger *slog.Logger) (*front, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("DynamoDB front: %w", err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("DynamoDB front: %w", err)
	}
	var h http.Handler = &wholeAnswers{target: u, client: &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}, log: logger}
	if wrap != nil {
		h = wrap(h)
	}
	f := &front{srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}, Endpoint: "http://" + ln.Addr().String()}
	go func() {
		if err := f.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("DynamoDB front stopped", "error", err.Error())
		}
	}()
	return f, nil
}

func (f *front) Close() error { return f.srv.Close() }

// wholeAnswers forwards each request to DynamoDB Local and answers only with a whole body.
type wholeAnswers struct {
	target *url.URL
	client *http.Client
	log    *slog.Logger
}

// dynamoDBReads are the operations that change nothing: a cut answer to one is asked again.
var dynamoDBReads = map[string]bool{
	"GetItem": true, "BatchGetItem": true, "Query": true, "Scan": true, "TransactGetItems": true,
	"DescribeTable": true, "ListTables": true, "DescribeTimeToLive": true,
	"DescribeStream": true, "ListStreams": true, "GetShardIterator": true, "GetRecords": true,
}

func (h *wholeAnswers) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	target := r.Header.Get("X-Amz-Target")
	op := target[strings.LastIndexByte(target, '.')+1:]
	tries := 1
	if dynamoDBReads[op] {
		tries = 2
	}
	for try := 1; ; try++ {
		resp, data, err := h.forward(r, body)
		if err != nil {
			h.log.Warn("DynamoDB Local did not answer", "operation", op, "error", err.Error())
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		if whole(resp, data) {
			writeAnswer(w, resp, data)
			return
		}
		if try < tries {
			h.log.Warn("DynamoDB Local cut its answer short; asking again", "operation", op, "bytes", len(data))
			continue
		}
		h.log.Warn("DynamoDB Local cut its answer short; answering 500 InternalServerError", "operation", op, "bytes", len(data))
		b := []byte(`{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"DynamoDB Local cut its answer short (local stack); try again"}`)
		h := http.Header{"Content-Type": {"application/x-amz-json-1.0"}}
		writeAnswer(w, &http.Response{StatusCode: http.StatusInternalServerError, Header: h}, b)
		return
	}
}

// forward sends r with body to DynamoDB Local and reads the whole answer; a body that ends
// early is returned as far as it came, not as an error.
func (h *wholeAnswers) forward(r *http.Request, body []byte) (*http.Response, []byte, error) {
	u := *h.target
	u.Path, u.RawQuery = r.URL.Path, r.URL.RawQuery
	out, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	out.Header = r.Header.Clone()
	out.Header.Del("Connection")
	out.Host = r.Host
	resp, err := h.client.Do(out)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, nil, err
	}
	return resp, data, nil
}

// whole reports whether data is the whole answer: as long as its Content-Length says and,
// since every DynamoDB answer is a JSON document, valid JSON.
func whole(resp *http.Response, data []byte) bool {
	if resp.ContentLength >= 0 && int64(len(data)) != resp.ContentLength {
		return false
	}
	return len(data) == 0 || json.Valid(data)
}

// writeAnswer passes the answer on with its length and, when DynamoDB Local sent none, the
// X-Amz-Crc32 of its body.
func writeAnswer(w http.ResponseWriter, resp *http.Response, data []byte) {
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	if w.Header().Get("X-Amz-Crc32") == "" {
		w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(data)), 10))
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Header().Del("Transfer-Encoding")
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(data)
}

// startProxy serves a reverse proxy to target, through wrap, on host:port: the SES
// emulator's front when faults are injected.
func startProxy(name, target, host string, port int, wrap func(http.Handler) http.Handler, logger *slog.Logger) (*front, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("%s front: %w", name, err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("%s front: %w", name, err)
	}
	f := &front{srv: &http.Server{Handler: wrap(proxy), ReadHeaderTimeout: 10 * time.Second}, Endpoint: "http://" + ln.Addr().String()}
	go func() {
		if err := f.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error(name+" front stopped", "error", err.Error())
		}
	}()
	return f, nil
}
