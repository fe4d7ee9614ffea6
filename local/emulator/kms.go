package emulator

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// KMSAccount is the account id in the local KMS's key ARNs.
const KMSAccount = "000000000000"

// KMSOptions configures NewKMS.
type KMSOptions struct {
	// Now is the server's clock, for request time skew; nil = time.Now.
	Now func() time.Time
	// Alias, when set, also names the key as "alias/<Alias>".
	Alias string
	// KeyFile, when set, keeps the key (its id and material) in this file: read when it
	// exists, else made and written (mode 0600, its folder 0700). A KMS started again with the
	// same file decrypts what an earlier one encrypted, as KMS does across the years; "" keeps
	// the key in memory only.
	KeyFile string
}

// KMS is a local stand-in for AWS KMS: one symmetric key of its own, Encrypt and Decrypt in
// KMS's JSON 1.1 protocol (X-Amz-Target TrentService.Encrypt / TrentService.Decrypt), for
// testing code that protects keys with KMS through the real SDK client. It is as strict as
// KMS where that matters to Contrail:
//
//   - Every request must be signed with SigV4 by AccessKeyID/SecretAccessKey for the
//     service "kms"; the signature is recomputed with the SDK's own signer over the headers
//     the client says it signed and the body, at most 15 minutes off the server's clock.
//     Failures answer MissingAuthenticationTokenException, UnrecognizedClientException,
//     IncompleteSignatureException or InvalidSignatureException.
//   - The encryption context is authenticated: Decrypt with another context (or none, when
//     Encrypt had one) fails with InvalidCiphertextException, like a tampered ciphertext.
//   - KeyId is the key's id, ARN, or alias name or ARN; another key is NotFoundException, and
//     a Decrypt naming another key than the ciphertext's is IncorrectKeyException.
//
// Without KMSOptions.KeyFile the key lives in memory only: a new KMS cannot decrypt what
// another one encrypted (a lost key, as far as the caller can tell).
type KMS struct {
	now    func() time.Time
	signer *v4.Signer
	id     string // a UUID, as KMS key ids are
	alias  string
	aead   cipher.AEAD
}

// NewKMS returns a local KMS holding one key: KMSOptions.KeyFile's, else a new random one.
func NewKMS(o KMSOptions) (*KMS, error) {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	var f kmsKeyFile
	var err error
	if o.KeyFile == "" {
		f, err = newKMSKey()
	} else {
		f, err = loadKMSKey(o.KeyFile)
	}
	if err != nil {
		return nil, fmt.Errorf("local kms: %w", err)
	}
	block, err := aes.NewCipher(f.Material)
	if err != nil {
		return nil, fmt.Errorf("local kms: key %s: %w", o.KeyFile, err)
	}
	aead, _ := cipher.NewGCM(block)
	return &KMS{now: now, signer: v4.NewSigner(), aead: aead, alias: o.Alias, id: f.KeyID}, nil
}

// kmsKeyFile is a key as KMSOptions.KeyFile keeps it.
type kmsKeyFile struct {
	KeyID    string `json:"keyId"`    // a UUID, as KMS key ids are
	Material []byte `json:"material"` // 32 bytes, base64 in JSON
}

func newKMSKey() (kmsKeyFile, error) {
	material := make([]byte, 32)
	var u [16]byte
	if _, err := rand.Read(material); err != nil {
		return kmsKeyFile{}, err
	}
	if _, err := rand.Read(u[:]); err != nil {
		return kmsKeyFile{}, err
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	h := hex.EncodeToString(u[:])
	return kmsKeyFile{KeyID: h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32], Material: material}, nil
}

// loadKMSKey reads the key kept in path, making it first when there is none. Two processes
// making it at once end up with one: the file is linked into place, never overwritten.
func loadKMSKey(path string) (kmsKeyFile, error) {
	read := func() (kmsKeyFile, error) {
		var f kmsKeyFile
		b, err := os.ReadFile(path)
		if err != nil {
			return f, err
		}
		if err := json.Unmarshal(b, &f); err != nil || len(f.Material) != 32 || len(f.KeyID) != 36 {
			return f, fmt.Errorf("the key file %s is damaged (deleting it loses every key it wraps)", path)
		}
		return f, nil
	}
	f, err := read()
	if !errors.Is(err, os.ErrNotExist) {
		return f, err
	}
	if f, err = newKMSKey(); err != nil {
		return f, err
	}
	b, _ := json.Marshal(f)
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return f, fmt.Errorf("make the key folder: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".kms-*") // mode 0600
	if err != nil {
		return f, fmt.Errorf("write the key: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return f, fmt.Errorf("write the key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, os.ErrExist) {
		return f, fmt.Errorf("install the key: %w", err)
	}
	return read()
}

// KeyID returns the key's id (a UUID).
func (k *KMS) KeyID() string { return k.id }

// KeyARN returns the key's ARN, what KMS answers as KeyId.
func (k *KMS) KeyARN() string { return "arn:aws:kms:" + Region + ":" + KMSAccount + ":key/" + k.id }

// kmsError is a KMS error response: HTTP 400 and {"__type": ..., "message": ...}.
type kmsError struct {
	Status  int
	Type    string
	Message string
}

func (e *kmsError) Error() string { return e.Type + ": " + e.Message }

func kmsErr(typ, msg string) *kmsError { return &kmsError{http.StatusBadRequest, typ, msg} }

var (
	errKMSNoAuth       = kmsErr("MissingAuthenticationTokenException", "Missing Authentication Token")
	errKMSUnknownKey   = kmsErr("UnrecognizedClientException", "The security token included in the request is invalid.")
	errKMSSignature    = kmsErr("InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
	errKMSCiphertext   = kmsErr("InvalidCiphertextException", "")
	errKMSIncorrectKey = kmsErr("IncorrectKeyException", "The key ID in the request does not identify a CMK that can perform this operation.")
)

// kmsMaxBody bounds a request body: a plaintext is at most 4 KiB, a context small.
const kmsMaxBody = 64 << 10

func (k *KMS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	out, err := k.serve(r)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if err != nil {
		var e *kmsError
		if !errors.As(err, &e) {
			e = &kmsError{http.StatusInternalServerError, "KMSInternalException", err.Error()}
		}
		w.WriteHeader(e.Status)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.Type, "message": e.Message})
		return
	}
	_ = json.NewEncoder(w).Encode(out)
}

func (k *KMS) serve(r *http.Request) (any, error) {
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		return nil, &kmsError{http.StatusNotFound, "UnknownOperationException", "KMS answers POST / only"}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, kmsMaxBody+1))
	if err != nil {
		return nil, fmt.Errorf("read request: %w", err)
	}
	if len(body) > kmsMaxBody {
		return nil, kmsErr("ValidationException", "The request is too large.")
	}
	if err := k.authenticate(r, body); err != nil {
		return nil, err
	}
	var in kmsRequest
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, kmsErr("SerializationException", "The request body is not valid JSON: "+err.Error())
	}
	switch r.Header.Get("X-Amz-Target") {
	case "TrentService.Encrypt":
		return k.encrypt(in)
	case "TrentService.Decrypt":
		return k.decrypt(in)
	}
	return nil, kmsErr("UnknownOperationException", "The local KMS serves TrentService.Encrypt and TrentService.Decrypt only.")
}

// kmsRequest is the part of Encrypt's and Decrypt's input the local KMS reads.
type kmsRequest struct {
	KeyID               string            `json:"KeyId"`
	Plaintext           []byte            `json:"Plaintext"`      // base64 in JSON, as KMS
	CiphertextBlob      []byte            `json:"CiphertextBlob"` // base64 in JSON, as KMS
	EncryptionContext   map[string]string `json:"EncryptionContext"`
	EncryptionAlgorithm string            `json:"EncryptionAlgorithm"`
}

// resolve reports whether keyID names this server's key.
func (k *KMS) resolve(keyID string) bool {
	switch keyID {
	case k.id, k.KeyARN():
		return true
	}
	if k.alias != "" {
		a := "alias/" + k.alias
		return keyID == a || keyID == "arn:aws:kms:"+Region+":"+KMSAccount+":"+a
	}
	return false
}

func checkAlgorithm(a string) error {
	if a != "" && a != "SYMMETRIC_DEFAULT" {
		return kmsErr("ValidationException", "The local KMS key is SYMMETRIC_DEFAULT only.")
	}
	return nil
}

// A ciphertext blob is 1 ‖ the key id (36 bytes) ‖ nonce (12) ‖ AES-GCM sealed plaintext,
// with the canonical encryption context as associated data.
const blobVersion = 1

func (k *KMS) encrypt(in kmsRequest) (any, error) {
	if in.KeyID == "" {
		return nil, kmsErr("ValidationException", "KeyId is required.")
	}
	if !k.resolve(in.KeyID) {
		return nil, kmsErr("NotFoundException", "Key '"+in.KeyID+"' does not exist")
	}
	if err := checkAlgorithm(in.EncryptionAlgorithm); err != nil {
		return nil, err
	}
	if len(in.Plaintext) < 1 || len(in.Plaintext) > 4096 {
		return nil, kmsErr("ValidationException", "Plaintext must be 1 to 4096 bytes.")
	}
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("nonce: %w", err)
	}
	blob := append([]byte{blobVersion}, k.id...)
	blob = append(blob, nonce...)
	blob = k.aead.Seal(blob, nonce, in.Plaintext, contextAAD(in.EncryptionContext))
	return map[string]any{"CiphertextBlob": blob, "KeyId": k.KeyARN(), "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}, nil
}

func (k *KMS) decrypt(in kmsRequest) (any, error) {
	if err := checkAlgorithm(in.EncryptionAlgorithm); err != nil {
		return nil, err
	}
	head := 1 + len(k.id) + k.aead.NonceSize()
	if len(in.CiphertextBlob) < head+k.aead.Overhead() || in.CiphertextBlob[0] != blobVersion {
		return nil, errKMSCiphertext
	}
	if string(in.CiphertextBlob[1:1+len(k.id)]) != k.id {
		return nil, errKMSCiphertext // another KMS's key: not one this server holds
	}
	if in.KeyID != "" && !k.resolve(in.KeyID) {
		return nil, errKMSIncorrectKey
	}
	nonce := in.CiphertextBlob[1+len(k.id) : head]
	plain, err := k.aead.Open(nil, nonce, in.CiphertextBlob[head:], contextAAD(in.EncryptionContext))
	if err != nil {
		return nil, errKMSCiphertext
	}
	return map[string]any{"Plaintext": plain, "KeyId": k.KeyARN(), "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}, nil
}

// contextAAD is an encryption context in one canonical form: its pairs sorted by key, each
// key and value preceded by its length.
func contextAAD(c map[string]string) []byte {
	keys := make([]string, 0, len(c))
	for key := range c {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	var b []byte
	for _, key := range keys {
		for _, s := range []string{key, c[key]} {
			b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
			b = append(b, s...)
		}
	}
	return b
}

// authenticate checks the request's SigV4 Authorization header against the body.
func (k *KMS) authenticate(r *http.Request, body []byte) error {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return errKMSNoAuth
	}
	rest, ok := strings.CutPrefix(auth, signingAlgorithm+" ")
	if !ok {
		return kmsErr("IncompleteSignatureException", "Authorization header requires the "+signingAlgorithm+" algorithm.")
	}
	fields := map[string]string{}
	for _, f := range strings.Split(rest, ",") {
		key, v, _ := strings.Cut(strings.TrimSpace(f), "=")
		fields[key] = v
	}
	cred := strings.Split(fields["Credential"], "/")
	if len(cred) != 5 || cred[3] != "kms" || cred[4] != "aws4_request" || cred[2] == "" || fields["SignedHeaders"] == "" || fields["Signature"] == "" {
		return kmsErr("IncompleteSignatureException", "Authorization header requires Credential=<key>/<date>/<region>/kms/aws4_request, SignedHeaders and Signature.")
	}
	if cred[0] != AccessKeyID {
		return errKMSUnknownKey
	}
	at, err := time.Parse(amzDateFormat, r.Header.Get("X-Amz-Date"))
	if err != nil {
		return kmsErr("IncompleteSignatureException", "The request must carry X-Amz-Date in the form yyyyMMdd'T'HHmmss'Z'.")
	}
	if d := k.now().Sub(at); d > maxSkew || d < -maxSkew {
		return kmsErr("InvalidSignatureException", "Signature expired: "+at.Format(amzDateFormat)+" is now earlier or later than the server's time by more than 15 minutes.")
	}
	// The request to sign again: method, Host, path, query and only the headers the client
	// says it signed (what else reached us is not covered).
	req := canonicalRequest(r, r.URL.RawQuery, strings.Split(fields["SignedHeaders"], ";"))
	sum := sha256.Sum256(body)
	if err := k.signer.SignHTTP(r.Context(), localCredentials(), req, hex.EncodeToString(sum[:]), "kms", cred[2], at); err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	if !signedAlike(req, fields) {
		return errKMSSignature
	}
	return nil
}
