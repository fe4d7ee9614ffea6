package devstack

import (
	"bytes"
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
	"time"
)

// dynamoDBFront is a reverse proxy in front of DynamoDB Local that adds the X-Amz-Crc32
// header DynamoDB sends with every response and DynamoDB Local leaves off its error
// responses (ConditionalCheckFailed, ResourceNotFound, TransactionCanceled...). The Go SDK
// then checks the body against a CRC32 of 0 and logs "failed to close HTTP response body,
// this may affect connection reuse: response did not match expected checksum" for every
// such error: the functions log it in make run, where they keep the SDK's validation on.
type dynamoDBFront struct {
	srv      *http.Server
	Endpoint string
}

func startDynamoDBFront(target, host string, port int, logger *slog.Logger) (*dynamoDBFront, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("DynamoDB front: %w", err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.ModifyResponse = addCRC32
	proxy.ErrorLog = log.New(io.Discard, "", 0)
	proxy.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		logger.Warn("DynamoDB Local did not answer", "error", err.Error())
		w.WriteHeader(http.StatusBadGateway)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("DynamoDB front: %w", err)
	}
	f := &dynamoDBFront{srv: &http.Server{Handler: proxy, ReadHeaderTimeout: 10 * time.Second}, Endpoint: "http://" + ln.Addr().String()}
	go func() {
		if err := f.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("DynamoDB front stopped", "error", err.Error())
		}
	}()
	return f, nil
}

func (f *dynamoDBFront) Close() error { return f.srv.Close() }

// addCRC32 sets X-Amz-Crc32 to the CRC32 of the body as sent, when DynamoDB Local sent none.
func addCRC32(resp *http.Response) error {
	if resp.Header.Get("X-Amz-Crc32") != "" {
		return nil
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("read DynamoDB Local's response: %w", err)
	}
	resp.Header.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return nil
}
