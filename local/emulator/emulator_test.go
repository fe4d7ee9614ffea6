package emulator

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/contrail/contrail/local/template"
)

// impostor is a server already listening on a port that answers every request with 200 and
// an empty JSON object, as another test binary's emulator would.
func impostor(t *testing.T) int {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		fmt.Fprint(w, `{"TableNames":[]}`)
	}))
	port, err := PickPort()
	if err != nil {
		t.Fatal(err)
	}
	// On every interface, like the emulators: DynamoDB Local binds 0.0.0.0.
	l, err := net.Listen("tcp", ":"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return port
}

func TestPortTaken(t *testing.T) {
	tp, err := template.Find()
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(tp)
	starts := []struct {
		name  string
		start func(context.Context, Options) (*Process, error)
	}{
		{"DynamoDB Local", StartDynamoDB},
		{"SES emulator", StartSES},
	}
	for _, s := range starts {
		t.Run(s.name+"/given port", func(t *testing.T) {
			taken := impostor(t)
			began := time.Now()
			p, err := s.start(context.Background(), Options{Root: root, Port: taken, StartTimeout: 90 * time.Second})
			if err == nil {
				p.Stop()
				t.Fatalf("started on port %d, which another server holds", taken)
			}
			want := fmt.Sprintf("%s could not listen on http://127.0.0.1:%d", s.name, taken)
			if !strings.HasPrefix(err.Error(), want) {
				t.Fatalf("error = %q, want it to start with %q", err, want)
			}
			if waited := time.Since(began); waited >= 90*time.Second {
				t.Fatalf("waited the whole start timeout (%s) instead of reading the bind failure", waited)
			}
		})
		t.Run(s.name+"/picked port", func(t *testing.T) {
			taken := impostor(t)
			var picked []int
			pickPort = func() (int, error) {
				port := taken
				if len(picked) > 0 {
					var err error
					if port, err = PickPort(); err != nil {
						return 0, err
					}
				}
				picked = append(picked, port)
				return port, nil
			}
			t.Cleanup(func() { pickPort = PickPort })
			p, err := s.start(context.Background(), Options{Root: root, StartTimeout: 90 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Stop()
			if len(picked) != 2 || picked[0] != taken {
				t.Fatalf("ports tried = %v, want %d then one more", picked, taken)
			}
			if want := "http://127.0.0.1:" + strconv.Itoa(picked[1]); p.Endpoint != want {
				t.Fatalf("endpoint = %s, want %s", p.Endpoint, want)
			}
			mine, err := listens(p.cmd.Process.Pid, picked[1])
			if err != nil || !mine {
				t.Fatalf("listens(pid %d, %d) = %v, %v; want true", p.cmd.Process.Pid, picked[1], mine, err)
			}
		})
	}
}

// TestDynamoDBOneDatabaseForEveryCredential: what make run prints (aws --endpoint-url ...
// dynamodb scan, any credentials, any region) must find the stack's tables.
func TestDynamoDBOneDatabaseForEveryCredential(t *testing.T) {
	tp, err := template.Find()
	if err != nil {
		t.Fatal(err)
	}
	p, err := StartDynamoDB(context.Background(), Options{Root: filepath.Dir(tp), StartTimeout: 120 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	ctx := context.Background()
	db := dynamodb.NewFromConfig(Config(p.Endpoint), func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
	_, err = db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("contrail-ContactsTable"),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	})
	if err != nil {
		t.Fatal(err)
	}
	other := dynamodb.NewFromConfig(Config(p.Endpoint), func(o *dynamodb.Options) {
		o.Credentials = credentials.NewStaticCredentialsProvider("SomeoneElse", "their-secret", "") // DynamoDB Local takes letters and digits only
		o.Region = "eu-west-1"
		o.DisableValidateResponseChecksum = true
	})
	out, err := other.ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"contrail-ContactsTable"}, out.TableNames); d != "" {
		t.Errorf("tables seen with other credentials and region (-want +got):\n%s", d)
	}
}
