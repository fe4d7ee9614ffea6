package devstack

// What a function's environment gets locally: the values of template references that only
// exist once deployed, and the endpoints and credentials of the stand-ins.

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/contrail/contrail/local/emulator"
	"github.com/contrail/contrail/local/template"
)

// refs are the local values of what template.yaml only knows once deployed.
func (s *Stack) refs(ctx context.Context, tpl *template.Template, db *dynamodb.Client) (map[string]string, error) {
	refs := map[string]string{"HttpApi": "local"}
	arns, err := streamARNs(ctx, db, s.Tables)
	if err != nil {
		return nil, err
	}
	for id, name := range s.Tables {
		refs[id] = name
		refs[id+".Arn"] = "arn:aws:dynamodb:us-east-1:000000000000:table/" + name
		if arn, ok := arns[id]; ok {
			refs[id+".StreamArn"] = arn
		}
	}
	for id, name := range s.Buckets {
		refs[id] = name
		refs[id+".Arn"] = "arn:aws:s3:::" + name
		refs[id+".DomainName"] = name + ".s3.amazonaws.com"
	}
	// Plausible local values for what a function's environment might name but no stand-in
	// serves, so one such reference does not stop the whole stack.
	fallback := map[string]func(id string) (ref, arn string){
		"AWS::SQS::Queue": func(id string) (string, string) {
			return "http://sqs.us-east-1.localhost/000000000000/contrail-" + id, "arn:aws:sqs:us-east-1:000000000000:contrail-" + id
		},
		"AWS::SNS::Topic": func(id string) (string, string) {
			arn := "arn:aws:sns:us-east-1:000000000000:contrail-" + id
			return arn, arn
		},
		"AWS::Athena::WorkGroup": func(id string) (string, string) { return "contrail-" + id, "" },
		"AWS::Glue::Database":    func(id string) (string, string) { return "contrail_" + template.Dir(id), "" },
		"AWS::Glue::Table":       func(id string) (string, string) { return template.Dir(id), "" },
		"AWS::Cognito::UserPool": func(string) (string, string) {
			return "us-east-1_local", "arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_local"
		},
		"AWS::Cognito::UserPoolClient": func(string) (string, string) { return "local-client", "" },
		"AWS::Serverless::Function": func(id string) (string, string) {
			return id, "arn:aws:lambda:us-east-1:000000000000:function:" + id
		},
	}
	for typ, f := range fallback {
		for _, id := range tpl.ResourcesOfType(typ) {
			ref, arn := f(id)
			refs[id] = ref
			if arn != "" {
				refs[id+".Arn"] = arn
			}
		}
	}
	return refs, nil
}

// awsEnv is what every function gets on top of its template environment so its AWS clients
// reach the local stand-ins.
func (s *Stack) awsEnv(o Options) map[string]string {
	env := map[string]string{
		"AWS_REGION":                        emulator.Region,
		"AWS_DEFAULT_REGION":                emulator.Region,
		"AWS_ACCESS_KEY_ID":                 emulator.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":             emulator.SecretAccessKey,
		"AWS_EC2_METADATA_DISABLED":         "true",
		"AWS_LAMBDA_LOG_LEVEL":              o.LogLevel,
		"S3_FORCE_PATH_STYLE":               "true",
		"AWS_ENDPOINT_URL":                  s.DynamoDBEndpoint,
		"CONTRAIL_LOCAL_API_URL":            s.URL,
		"AWS_ENDPOINT_URL_DYNAMODB":         s.DynamoDBEndpoint,
		"AWS_ENDPOINT_URL_S3":               s.S3Endpoint,
		"AWS_ENDPOINT_URL_SESV2":            s.SESEndpoint,
		"AWS_ENDPOINT_URL_SES":              s.SESEndpoint,
		"AWS_ENDPOINT_URL_DYNAMODB_STREAMS": s.DynamoDBEndpoint,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER":  s.SecretsEndpoint,
		"AWS_ENDPOINT_URL_KMS":              s.KMSEndpoint,
	}
	if o.Endpoint != "" {
		env["AWS_ENDPOINT_URL"] = o.Endpoint
	}
	return env
}
