package emulator

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Secret is one secret the local Secrets Manager holds.
type Secret struct {
	ARN   string // arn:aws:secretsmanager:<region>:<account>:secret:<name>
	Name  string
	Value string // its SecretString
}

// SecretsOptions configures NewSecretsManager.
type SecretsOptions struct {
	// Now is the server's clock, for request time skew; nil = time.Now.
	Now func() time.Time
}

// NewSecretsManager returns a local Secrets Manager that answers GetSecretValue (the JSON 1.1
// protocol, X-Amz-Target: secretsmanager.GetSecretValue) for the secrets it is given, each
// found by its ARN or its name; any other secret is ResourceNotFoundException, as is every
// other operation UnknownOperationException. As the local S3 does, it takes only requests
// signed with SigV4 by AccessKeyID/SecretAccessKey for the service secretsmanager, at most
// 15 minutes off its clock: UnrecognizedClientException, InvalidSignatureException,
// IncompleteSignatureException and MissingAuthenticationTokenException otherwise.
func NewSecretsManager(secrets []Secret, o SecretsOptions) http.Handler {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	byID := map[string]Secret{}
	for _, s := range secrets {
		byID[s.ARN], byID[s.Name] = s, s
	}
	return &secretsManager{secrets: byID, now: now, signer: v4.NewSigner()}
}

type secretsManager struct {
	secrets map[string]Secret
	now     func() time.Time
	signer  *v4.Signer
}

// jsonError is an error of the JSON protocol.
type jsonError struct {
	Status  int    `json:"-"`
	Type    string `json:"__type"`
	Message string `json:"message"`
}

func (e *jsonError) Error() string { return e.Type + ": " + e.Message }

func clientError(typ, msg string) *jsonError { return &jsonError{http.StatusBadRequest, typ, msg} }

func (sm *secretsManager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeJSONError(w, clientError("SerializationException", "The request body could not be read."))
		return
	}
	if err := sm.authenticate(r, body); err != nil {
		writeJSONError(w, err)
		return
	}
	if r.Method != http.MethodPost || r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" {
		writeJSONError(w, clientError("UnknownOperationException", "The local Secrets Manager answers GetSecretValue only."))
		return
	}
	var in struct {
		SecretID     string `json:"SecretId"`
		VersionID    string `json:"VersionId"`
		VersionStage string `json:"VersionStage"`
	}
	if err := json.Unmarshal(body, &in); err != nil || in.SecretID == "" {
		writeJSONError(w, clientError("ValidationException", "SecretId is required."))
		return
	}
	s, ok := sm.secrets[in.SecretID]
	if !ok || (in.VersionStage != "" && in.VersionStage != "AWSCURRENT") || (in.VersionID != "" && in.VersionID != versionID) {
		writeJSONError(w, clientError("ResourceNotFoundException", "Secrets Manager can't find the specified secret."))
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"ARN": s.ARN, "Name": s.Name, "SecretString": s.Value, "VersionId": versionID,
		"VersionStages": []string{"AWSCURRENT"}, "CreatedDate": 1764460800,
	})
}

// versionID is the one version each local secret has.
const versionID = "00000000-0000-4000-8000-000000000001"

func writeJSONError(w http.ResponseWriter, err error) {
	e, ok := err.(*jsonError)
	if !ok {
		e = &jsonError{http.StatusInternalServerError, "InternalServiceError", err.Error()}
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", e.Type)
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(e)
}

// authenticate checks the request's SigV4 signature over its headers and body, recomputed
// with the SDK's own signer and compared in constant time.
func (sm *secretsManager) authenticate(r *http.Request, body []byte) error {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return clientError("MissingAuthenticationTokenException", "Missing Authentication Token")
	}
	rest, ok := strings.CutPrefix(auth, signingAlgorithm+" ")
	if !ok {
		return clientError("IncompleteSignatureException", "The request signature does not use "+signingAlgorithm+".")
	}
	fields := authFields(rest)
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || scope[3] != "secretsmanager" || scope[4] != "aws4_request" || fields["SignedHeaders"] == "" || fields["Signature"] == "" {
		return clientError("IncompleteSignatureException", "The authorization header needs Credential=<key>/<date>/<region>/secretsmanager/aws4_request, SignedHeaders and Signature.")
	}
	if scope[0] != AccessKeyID {
		return clientError("UnrecognizedClientException", "The security token included in the request is invalid.")
	}
	at, err := time.Parse(amzDateFormat, r.Header.Get("X-Amz-Date"))
	if err != nil {
		return clientError("IncompleteSignatureException", "The request needs a valid X-Amz-Date header.")
	}
	if d := sm.now().Sub(at); d > maxSkew || d < -maxSkew {
		return clientError("InvalidSignatureException", fmt.Sprintf("Signature expired: %s is more than 15 minutes off the server's time.", r.Header.Get("X-Amz-Date")))
	}
	sum := sha256.Sum256(body)
	// The canonical request is built as the S3 server builds it: the signed headers only.
	req := canonicalRequest(r, r.URL.RawQuery, strings.Split(fields["SignedHeaders"], ";"))
	if err := sm.signer.SignHTTP(r.Context(), localCredentials(), req, hex.EncodeToString(sum[:]), "secretsmanager", scope[2], at); err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	if !signedAlike(req, fields) {
		return clientError("InvalidSignatureException", "The request signature we calculated does not match the signature you provided.")
	}
	return nil
}

// signedAlike reports whether req, signed again here with the local credentials, carries the
// credential, signed headers and signature the client sent (fields, from authFields).
func signedAlike(req *http.Request, fields map[string]string) bool {
	got := authFields(strings.TrimPrefix(req.Header.Get("Authorization"), signingAlgorithm+" "))
	return got["Credential"] == fields["Credential"] && got["SignedHeaders"] == fields["SignedHeaders"] && sameSignature(got["Signature"], fields["Signature"])
}

// authFields splits the fields of a SigV4 Authorization header after its algorithm
// (Credential=..., SignedHeaders=..., Signature=...).
func authFields(s string) map[string]string {
	fields := map[string]string{}
	for _, f := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
		fields[k] = v
	}
	return fields
}
