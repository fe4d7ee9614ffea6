package devstack

import (
	"path/filepath"

	"github.com/contrail/contrail/local/emulator"
	"github.com/contrail/contrail/local/template"
	"github.com/contrail/contrail/shared/vlog"
)

// logSigningSecret is the template's secret the log's checkpoints are signed with: make run
// prints its verifier key.
const logSigningSecret = "LogSigningSecret"

// startSecrets serves the template's secrets (AWS::SecretsManager::Secret) from a local
// Secrets Manager on a free port of 127.0.0.1, where the functions read them at cold start
// (AWS_ENDPOINT_URL_SECRETS_MANAGER). Each value is kept in <state>/secrets/<LogicalId>, so a
// restart keeps the cursors it signed valid. It also serves beside an external endpoint
// (LocalStack): the stack creates no secret there. It returns each secret's ARN by LogicalId,
// as !Ref resolves it.
func (s *Stack) startSecrets(tpl *template.Template) (map[string]string, error) {
	arns := map[string]string{}
	var secrets []emulator.Secret
	for _, id := range tpl.ResourcesOfType("AWS::SecretsManager::Secret") {
		v, err := secret(filepath.Join(s.StateDir, "secrets"), id)
		if err != nil {
			return nil, err
		}
		arns[id] = "arn:aws:secretsmanager:" + emulator.Region + ":000000000000:secret:" + id
		if id == logSigningSecret {
			signer, err := vlog.NewSigner(v)
			if err != nil {
				return nil, err
			}
			s.LogVerifierKey = signer.VerifierKey()
		}
		secrets = append(secrets, emulator.Secret{ARN: arns[id], Name: id, Value: v})
	}
	var err error
	if s.SecretsEndpoint, err = s.serveLocal("Secrets Manager", emulator.NewSecretsManager(secrets, emulator.SecretsOptions{})); err != nil {
		return nil, err
	}
	return arns, nil
}
