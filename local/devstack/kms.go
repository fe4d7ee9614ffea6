package devstack

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/contrail/contrail/local/emulator"
	"github.com/contrail/contrail/local/template"
)

// personalDataKey is the template's KMS key that wraps tenant keys (shared/pii): the one key
// the functions call KMS with (KEYS_KMS_KEY_ARN).
const personalDataKey = "PersonalDataKey"

// KMSKeyFile is where the local KMS keeps PersonalDataKey's material, under the state folder.
var KMSKeyFile = filepath.Join("keys", personalDataKey+".json")

// startKMS serves PersonalDataKey from a local KMS on a free port of 127.0.0.1, which the
// functions reach through AWS_ENDPOINT_URL_KMS. The key is kept in <state>/keys/ (0600), so
// a restart keeps every tenant key it wrapped readable: deleting that file loses every
// tenant's personal data. It also serves beside an external endpoint (LocalStack), like the
// secrets. It returns the refs !Ref and !GetAtt resolve the key to.
func (s *Stack) startKMS(tpl *template.Template) (map[string]string, error) {
	if tpl.ResourceType(personalDataKey) != "AWS::KMS::Key" {
		return nil, nil
	}
	k, err := emulator.NewKMS(emulator.KMSOptions{KeyFile: filepath.Join(s.StateDir, KMSKeyFile)})
	if err != nil {
		return nil, fmt.Errorf("start KMS: %w", err)
	}
	if s.KMSEndpoint, err = s.serveLocal("KMS", k); err != nil {
		return nil, err
	}
	return map[string]string{personalDataKey: k.KeyID(), personalDataKey + ".Arn": k.KeyARN()}, nil
}

// serveLocal serves h on a free port of 127.0.0.1 until the stack stops and returns its URL:
// the local KMS and Secrets Manager, which the functions reach through AWS_ENDPOINT_URL_*.
// what names the service in errors and logs.
func (s *Stack) serveLocal(what string, h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("start %s: %w", what, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.closers = append(s.closers, srv.Close)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error(what+" stopped", "error", err.Error())
		}
	}()
	return "http://" + ln.Addr().String(), nil
}
