package devstack

import (
	"bufio"
	"hash/crc32"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// cutUpstream stands for DynamoDB Local: it answers each request with a 200 JSON body,
// cut short (the headers promise the whole, the connection closes half way) for the first
// `cut` requests.
type cutUpstream struct {
	ln   net.Listener
	mu   sync.Mutex
	cut  int
	seen []string // X-Amz-Target of each request received
}

func startCutUpstream(t *testing.T, cut int) *cutUpstream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &cutUpstream{ln: ln, cut: cut}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go u.serve(c)
		}
	}()
	return u
}

const wholeItem = `{"Item":{"pk":{"S":"c1"},"name":{"S":"Ana"}}}`

func (u *cutUpstream) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, req.Body)
		u.mu.Lock()
		u.seen = append(u.seen, req.Header.Get("X-Amz-Target"))
		cut := u.cut > 0
		u.cut--
		u.mu.Unlock()
		body := wholeItem
		head := "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
		if cut {
			_, _ = io.WriteString(c, head+body[:len(body)/2])
			return
		}
		_, _ = io.WriteString(c, head+body)
	}
}

// TestDynamoDBFrontPassesWholeAnswersOnly: DynamoDB Local sometimes cuts an answer short
// under stress (seen by the route fuzzer: "deserialization failed, unexpected EOF"). The
// front asks a read once more, and answers a write it cannot know the outcome of with the
// 500 InternalServerError the SDK retries; it never passes on a cut body.
func TestDynamoDBFrontPassesWholeAnswersOnly(t *testing.T) {
	type answer struct {
		Status int
		Body   string
		CRC    string
	}
	crc := func(s string) string { return strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(s))), 10) }
	internal := `{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"DynamoDB Local cut its answer short (local stack); try again"}`
	for _, tc := range []struct {
		name     string
		op       string
		cut      int
		want     answer
		wantSeen int
	}{
		{"a read cut once is asked again", "GetItem", 1, answer{200, wholeItem, crc(wholeItem)}, 2},
		{"a read cut twice is a 500", "Query", 2, answer{500, internal, crc(internal)}, 2},
		{"a cut write is a 500, not sent again", "PutItem", 1, answer{500, internal, crc(internal)}, 1},
		{"a whole answer passes", "PutItem", 0, answer{200, wholeItem, crc(wholeItem)}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := startCutUpstream(t, tc.cut)
			f, err := startDynamoDBFront("http://"+up.ln.Addr().String(), "127.0.0.1", 0, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			req, _ := http.NewRequest("POST", f.Endpoint+"/", strings.NewReader(`{"TableName":"t"}`))
			req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+tc.op)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			got := answer{resp.StatusCode, string(b), resp.Header.Get("X-Amz-Crc32")}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("answer (-want +got):\n%s", d)
			}
			up.mu.Lock()
			defer up.mu.Unlock()
			if len(up.seen) != tc.wantSeen {
				t.Errorf("DynamoDB Local got %d requests (%v), want %d", len(up.seen), up.seen, tc.wantSeen)
			}
		})
	}
}
