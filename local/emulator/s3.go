package emulator

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/johannesboyne/gofakes3"
)

// The one key pair the local stand-ins accept (S3 checks it; the functions, tests and
// Config use it).
const (
	AccessKeyID     = "local"
	SecretAccessKey = "local"
)

// S3Options configures NewS3.
type S3Options struct {
	// Now is the server's clock, for presigned-URL expiry and request time skew; nil = time.Now.
	Now func() time.Time
}

// NewS3 returns a local S3 server: gofakes3 over backend, behind a front that makes it as
// strict as S3 where that matters to Contrail.
//
//   - Every request must be signed with SigV4 by AccessKeyID/SecretAccessKey, in the
//     Authorization header or as a presigned URL. The signature is recomputed with the SDK's
//     own signer and compared in constant time; the Host header must be the one signed.
//     Presigned URLs expire (X-Amz-Date + X-Amz-Expires), header-signed requests may be at
//     most 15 minutes off the server's clock, a signed payload hash must match the body.
//     Failures answer S3's XML errors: 403 AccessDenied, SignatureDoesNotMatch,
//     InvalidAccessKeyId, RequestTimeTooSkewed, 400 XAmzContentSHA256Mismatch.
//   - No CORS headers: gofakes3 answers Access-Control-Allow-Origin: * to everyone, which a
//     bucket without a CORS configuration does not.
//   - Checksums answered describe the bytes answered: gofakes3 replays an object's stored
//     full-object x-amz-checksum-* on ranged GETs too, which the SDK then rejects.
//     Uploaded checksums are checked (400 BadDigest), and aws-chunked uploads with a trailing
//     checksum (STREAMING-UNSIGNED-PAYLOAD-TRAILER, what the SDK sends over HTTPS) are decoded.
//   - Request headers gofakes3 keeps as object metadata (x-amz-date, x-amz-content-sha256,
//     x-amz-security-token, ...) are not replayed on GET and HEAD.
func NewS3(backend gofakes3.Backend, o S3Options) http.Handler {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	faker := gofakes3.New(backend,
		gofakes3.WithAutoBucket(false),
		gofakes3.WithLogger(gofakes3.DiscardLog()),
		gofakes3.WithTimeSource(clock(now)),
		gofakes3.WithTimeSkewLimit(0), // checked here, with the signature
	)
	return &s3Front{next: faker.Server(), now: now, signer: v4.NewSigner()}
}

type clock func() time.Time

func (c clock) Now() time.Time                  { return c().In(time.FixedZone("GMT", 0)) }
func (c clock) Since(t time.Time) time.Duration { return c().Sub(t) }

type s3Front struct {
	next   http.Handler
	now    func() time.Time
	signer *v4.Signer
}

// s3Error is an S3 error response.
type s3Error struct {
	Status  int    `xml:"-"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

func (e *s3Error) Error() string { return e.Code + ": " + e.Message }

var (
	errAccessDenied      = &s3Error{http.StatusForbidden, "AccessDenied", "Access Denied"}
	errExpired           = &s3Error{http.StatusForbidden, "AccessDenied", "Request has expired"}
	errNotYetValid       = &s3Error{http.StatusForbidden, "AccessDenied", "Request is not valid yet"}
	errSignatureMismatch = &s3Error{http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method."}
	errUnknownKey        = &s3Error{http.StatusForbidden, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."}
	errSkewed            = &s3Error{http.StatusForbidden, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large."}
	errPayloadMismatch   = &s3Error{http.StatusBadRequest, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed."}
	errSigV2             = &s3Error{http.StatusBadRequest, "InvalidRequest", "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256."}
)

func malformed(code, msg string) *s3Error { return &s3Error{http.StatusBadRequest, code, msg} }

const (
	signingAlgorithm = "AWS4-HMAC-SHA256"
	amzDateFormat    = "20060102T150405Z"
	maxSkew          = 15 * time.Minute
	maxPresignExpiry = 7 * 24 * 60 * 60 // seconds, as S3
	unsignedPayload  = "UNSIGNED-PAYLOAD"
	unsignedTrailer  = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
)

func (s *s3Front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rw := &s3ResponseWriter{ResponseWriter: w}
	if err := s.authenticate(r); err != nil {
		var e *s3Error
		if !errors.As(err, &e) {
			e = &s3Error{http.StatusInternalServerError, "InternalError", err.Error()}
		}
		writeS3Error(rw, r, e)
		return
	}
	s.next.ServeHTTP(rw, r)
}

// authenticate checks the request's signature and, for a signed body, the body; it may
// replace r.Body (decoded or checked) on the way.
func (s *s3Front) authenticate(r *http.Request) error {
	q := r.URL.Query()
	auth := r.Header.Get("Authorization")
	presigned := q.Has("X-Amz-Signature") || q.Has("X-Amz-Credential") || q.Has("X-Amz-Algorithm")
	switch {
	case auth != "" && presigned:
		return malformed("InvalidArgument", "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified")
	case auth != "":
		return s.checkHeaderSigned(r, auth)
	case presigned:
		return s.checkPresigned(r, q)
	case q.Has("AWSAccessKeyId") || q.Has("Signature"):
		return errSigV2 // e.g. AWS CLI v1's s3 presign without signature_version = s3v4
	}
	return errAccessDenied
}

// credential is the parsed Credential=<key>/<yyyymmdd>/<region>/<service>/aws4_request.
type credential struct{ key, date, region, service string }

func parseCredential(s string) (credential, bool) {
	p := strings.Split(s, "/")
	if len(p) != 5 || p[4] != "aws4_request" || p[3] != "s3" || p[0] == "" || p[2] == "" {
		return credential{}, false
	}
	return credential{p[0], p[1], p[2], p[3]}, true
}

func (s *s3Front) checkHeaderSigned(r *http.Request, auth string) error {
	rest, ok := strings.CutPrefix(auth, signingAlgorithm+" ")
	if !ok {
		return errSigV2
	}
	fields := map[string]string{}
	for _, f := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
		fields[k] = v
	}
	cred, ok := parseCredential(fields["Credential"])
	if !ok || fields["SignedHeaders"] == "" || fields["Signature"] == "" {
		return malformed("AuthorizationHeaderMalformed", "The authorization header is malformed; it needs Credential=<key>/<date>/<region>/s3/aws4_request, SignedHeaders and Signature.")
	}
	if cred.key != AccessKeyID {
		return errUnknownKey
	}
	at, err := time.Parse(amzDateFormat, r.Header.Get("X-Amz-Date"))
	if err != nil {
		return &s3Error{http.StatusForbidden, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header"}
	}
	if d := s.now().Sub(at); d > maxSkew || d < -maxSkew {
		return errSkewed
	}
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		return malformed("InvalidRequest", "Missing required header for this request: x-amz-content-sha256")
	}
	signed := strings.Split(fields["SignedHeaders"], ";")
	req := canonicalRequest(r, r.URL.RawQuery, signed)
	if err := s.signer.SignHTTP(r.Context(), localCredentials(), req, payload, "s3", cred.region, at, s3SignerOptions); err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	if !signedAlike(req, fields) {
		return errSignatureMismatch
	}
	return checkBody(r, payload)
}

func (s *s3Front) checkPresigned(r *http.Request, q url.Values) error {
	if q.Get("X-Amz-Algorithm") != signingAlgorithm {
		return malformed("AuthorizationQueryParametersError", "X-Amz-Algorithm only supports \""+signingAlgorithm+"\"")
	}
	cred, ok := parseCredential(q.Get("X-Amz-Credential"))
	if !ok || q.Get("X-Amz-SignedHeaders") == "" || q.Get("X-Amz-Signature") == "" {
		return malformed("AuthorizationQueryParametersError", "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.")
	}
	if cred.key != AccessKeyID {
		return errUnknownKey
	}
	at, err := time.Parse(amzDateFormat, q.Get("X-Amz-Date"))
	if err != nil {
		return malformed("AuthorizationQueryParametersError", "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
	}
	expires, err := strconv.Atoi(q.Get("X-Amz-Expires"))
	if err != nil || expires < 1 || expires > maxPresignExpiry {
		return malformed("AuthorizationQueryParametersError", "X-Amz-Expires must be a number of seconds from 1 to 604800")
	}
	now := s.now()
	if now.After(at.Add(time.Duration(expires) * time.Second)) {
		return errExpired
	}
	if at.Sub(now) > maxSkew {
		return errNotYetValid
	}
	unsigned := url.Values{}
	for k, v := range q {
		if k != "X-Amz-Signature" {
			unsigned[k] = v
		}
	}
	payload := unsignedPayload
	if v := q.Get("X-Amz-Content-Sha256"); v != "" {
		payload = v
	}
	req := canonicalRequest(r, unsigned.Encode(), strings.Split(q.Get("X-Amz-SignedHeaders"), ";"))
	uri, _, err := s.signer.PresignHTTP(r.Context(), localCredentials(), req, payload, "s3", cred.region, at, s3SignerOptions,
		func(o *v4.SignerOptions) { o.DisableHeaderHoisting = true })
	if err != nil {
		return fmt.Errorf("presign: %w", err)
	}
	u, err := url.Parse(uri)
	if err != nil {
		return fmt.Errorf("presign: %w", err)
	}
	want := u.Query()
	// Every parameter the signer sets must come out as the URL has it (a changed X-Amz-SignedHeaders
	// or X-Amz-Credential is a changed request), and the signature must match.
	for _, k := range []string{"X-Amz-Credential", "X-Amz-SignedHeaders", "X-Amz-Date"} {
		if want.Get(k) != q.Get(k) {
			return errSignatureMismatch
		}
	}
	if !sameSignature(want.Get("X-Amz-Signature"), q.Get("X-Amz-Signature")) {
		return errSignatureMismatch
	}
	if payload != unsignedPayload {
		return checkBody(r, payload)
	}
	return nil
}

func localCredentials() aws.Credentials {
	return aws.Credentials{AccessKeyID: AccessKeyID, SecretAccessKey: SecretAccessKey}
}

// S3 signs the path as sent, without escaping it again.
func s3SignerOptions(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }

func sameSignature(a, b string) bool {
	return len(a) == 64 && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// canonicalRequest is the request to sign again: r's method, Host, path as sent and query,
// and only the headers the client says it signed (what else reached us is not covered).
func canonicalRequest(r *http.Request, rawQuery string, signed []string) *http.Request {
	path := r.URL.EscapedPath()
	if uri := r.RequestURI; strings.HasPrefix(uri, "/") {
		path, _, _ = strings.Cut(uri, "?")
	}
	req := &http.Request{
		Method: r.Method,
		URL:    &url.URL{Scheme: "http", Host: r.Host, Opaque: "//" + r.Host + path, RawQuery: rawQuery},
		Host:   r.Host,
		Header: http.Header{},
	}
	req = req.WithContext(context.Background())
	for _, h := range signed {
		switch h = strings.ToLower(h); h {
		case "host":
		case "content-length":
			req.ContentLength = r.ContentLength
		default:
			if vs := r.Header.Values(h); len(vs) > 0 {
				req.Header[http.CanonicalHeaderKey(h)] = vs
			}
		}
	}
	return req
}

// checkBody checks a header-signed body against its payload hash and any x-amz-checksum-*
// header, and decodes an aws-chunked body with a trailing checksum, leaving r as gofakes3
// expects a plain upload.
func checkBody(r *http.Request, payload string) error {
	switch {
	case payload == unsignedPayload:
	case payload == unsignedTrailer:
		if err := decodeChunked(r); err != nil {
			return err
		}
	case strings.HasPrefix(payload, "STREAMING-"):
		// Signed chunks (STREAMING-AWS4-HMAC-SHA256-PAYLOAD...) carry a signature per chunk that
		// this server does not check; the Go SDK never sends them.
		return &s3Error{http.StatusNotImplemented, "NotImplemented", "The local S3 does not accept " + payload + " uploads; sign the payload hash or send UNSIGNED-PAYLOAD."}
	default:
		want, err := hex.DecodeString(payload)
		if err != nil || len(want) != sha256.Size {
			return malformed("InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, "+unsignedTrailer+" or a SHA-256 in hex")
		}
		body, err := readBody(r)
		if err != nil {
			return err
		}
		if sum := sha256.Sum256(body); !bytes.Equal(sum[:], want) {
			return errPayloadMismatch
		}
	}
	return checkChecksums(r)
}

func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, &s3Error{http.StatusBadRequest, "IncompleteBody", "The request body could not be read: " + err.Error()}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}

// checksums are the x-amz-checksum-<algorithm> this server can check.
var checksums = map[string]func() hash.Hash{
	"crc32":     func() hash.Hash { return crc32.NewIEEE() },
	"crc32c":    func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) },
	"crc64nvme": func() hash.Hash { return crc64.New(crc64NVME) },
	"sha1":      sha1.New,
	"sha256":    sha256.New,
}

// crc64NVME is the CRC-64/NVME polynomial, bit-reversed as hash/crc64 wants it.
var crc64NVME = crc64.MakeTable(0x9a6c9329ac4bc9b5)

// checkChecksums answers 400 BadDigest when an upload's x-amz-checksum-* does not match its
// body, as S3 does, instead of storing a checksum every later GET would fail.
func checkChecksums(r *http.Request) error {
	// PutObject and UploadPart; a copy has no body to check.
	if r.Method != http.MethodPut || r.Header.Get("X-Amz-Copy-Source") != "" {
		return nil
	}
	for k, vs := range r.Header {
		alg, ok := strings.CutPrefix(strings.ToLower(k), "x-amz-checksum-")
		newHash := checksums[alg]
		if !ok || newHash == nil || len(vs) == 0 {
			continue
		}
		body, err := readBody(r)
		if err != nil {
			return err
		}
		h := newHash()
		h.Write(body)
		if base64.StdEncoding.EncodeToString(h.Sum(nil)) != vs[0] {
			return malformed("BadDigest", "The "+strings.ToUpper(alg)+" you specified did not match the calculated checksum.")
		}
	}
	return nil
}

// decodeChunked turns an aws-chunked body with a trailer (<hex size>\r\n<data>\r\n ...
// 0\r\n<x-amz-checksum-alg>:<base64>\r\n\r\n) into the plain body, with the trailer's
// checksum as a header for gofakes3 to keep.
func decodeChunked(r *http.Request) error {
	bad := func(msg string) error { return malformed("InvalidRequest", "aws-chunked body: "+msg) }
	br := bufio.NewReader(r.Body)
	defer r.Body.Close()
	var body bytes.Buffer
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return bad("truncated chunk header")
		}
		sizeHex, _, _ := strings.Cut(strings.TrimRight(line, "\r\n"), ";")
		size, err := strconv.ParseInt(sizeHex, 16, 64)
		if err != nil || size < 0 {
			return bad("bad chunk size " + strconv.Quote(sizeHex))
		}
		if size == 0 {
			break
		}
		if _, err := io.CopyN(&body, br, size); err != nil {
			return bad("truncated chunk")
		}
		if crlf, err := br.ReadString('\n'); err != nil || strings.TrimRight(crlf, "\r\n") != "" {
			return bad("chunk not followed by CRLF")
		}
	}
	trailers := http.Header{}
	for {
		line, err := br.ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return bad("bad trailer " + strconv.Quote(line))
		}
		trailers.Set(strings.TrimSpace(k), strings.TrimSpace(v))
		if err != nil {
			break
		}
	}
	if want := r.Header.Get("X-Amz-Decoded-Content-Length"); want != "" && want != strconv.Itoa(body.Len()) {
		return &s3Error{http.StatusBadRequest, "IncompleteBody", "The body is not X-Amz-Decoded-Content-Length bytes long."}
	}
	for _, name := range strings.Split(r.Header.Get("X-Amz-Trailer"), ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		v := trailers.Get(name)
		if v == "" {
			return bad("trailer " + name + " announced but not sent")
		}
		r.Header.Set(name, v)
	}
	r.Header.Del("X-Amz-Trailer")
	r.Header.Del("X-Amz-Decoded-Content-Length")
	r.Header.Set("X-Amz-Content-Sha256", unsignedPayload)
	var enc []string
	for _, e := range r.Header.Values("Content-Encoding") {
		for _, p := range strings.Split(e, ",") {
			if p = strings.TrimSpace(p); p != "" && p != "aws-chunked" {
				enc = append(enc, p)
			}
		}
	}
	r.Header.Del("Content-Encoding")
	if len(enc) > 0 {
		r.Header.Set("Content-Encoding", strings.Join(enc, ","))
	}
	r.ContentLength = int64(body.Len())
	r.Header.Set("Content-Length", strconv.Itoa(body.Len()))
	r.Body = io.NopCloser(&body)
	return nil
}

// replayedRequestHeaders are request headers gofakes3 keeps as object metadata and would
// answer on every GET and HEAD of the object; they describe the upload, not the object.
var replayedRequestHeaders = []string{
	"X-Amz-Date", "X-Amz-Content-Sha256", "X-Amz-Decoded-Content-Length", "X-Amz-Security-Token",
	"X-Amz-Sdk-Checksum-Algorithm", "X-Amz-Trailer", "X-Amz-User-Agent", "X-Amz-Checksum-Mode",
}

// s3ResponseWriter cleans gofakes3's response headers before they are sent.
type s3ResponseWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *s3ResponseWriter) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		h := w.Header()
		for k := range h {
			lk := strings.ToLower(k)
			// A checksum of the whole object does not describe part of it (S3 sends none on a
			// ranged GET); the SDK would check the part against it and fail.
			if strings.HasPrefix(lk, "access-control-") || (code == http.StatusPartialContent && strings.HasPrefix(lk, "x-amz-checksum-")) {
				delete(h, k)
			}
		}
		for _, k := range replayedRequestHeaders {
			h.Del(k)
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *s3ResponseWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func writeS3Error(w http.ResponseWriter, r *http.Request, e *s3Error) {
	body, _ := xml.Marshal(struct {
		XMLName xml.Name `xml:"Error"`
		*s3Error
		Resource string `xml:"Resource"`
	}{s3Error: e, Resource: r.URL.Path})
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(xml.Header)+len(body)))
	w.WriteHeader(e.Status)
	if r.Method != http.MethodHead {
		_, _ = io.WriteString(w, xml.Header)
		_, _ = w.Write(body)
	}
}
