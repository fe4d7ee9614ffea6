package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/contrail/contrail/shared/audit"
	"github.com/contrail/contrail/shared/fault"
	"github.com/contrail/contrail/shared/httpapi"
	"github.com/contrail/contrail/shared/ident"
)

// AuditDB is the part of the DynamoDB client the report routes use: one PutItem per view.
type AuditDB interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

var _ AuditDB = (*dynamodb.Client)(nil)

// MaxCSVResponse is the largest CSV the log routes return directly: Lambda caps a response
// at 6 MB (6,291,456 bytes) including its JSON envelope, so the body, once JSON-escaped,
// must stay under this. A larger log is a 413 that points to POST /v1/exports.
const MaxCSVResponse = 6_000_000

// Service answers the five report routes.
type Service struct {
	Engine     *Engine
	DB         AuditDB
	AuditTable string
	Keys       audit.Keys
	Retention  audit.Retention
	Cursors    *httpapi.Cursors
	IDs        *ident.Generator // its clock is the service's clock
	MaxCSV     int              // 0 means MaxCSVResponse
}

// cursorState is what a log cursor carries: the period the first page resolved (so a
// default "last 30 days" does not move under a reader paging across midnight) and the
// position reached.
type cursorState struct {
	From int64 `json:"f"`
	To   int64 `json:"u"`
	Position
}

// Overview answers GET /v1/reports/contacts/overview.
func (s *Service) Overview(ctx context.Context, r *httpapi.Request) (events.APIGatewayV2HTTPResponse, error) {
	q := r.Query()
	p, err := httpapi.ParsePeriod(q.Get("from"), q.Get("to"), q.Get("tz"), s.IDs.Now(), MaxOverviewDays)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	ov, err := s.Engine.Overview(ctx, r.TenantID, p)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	if err := s.recordView(ctx, r, "overview", p, Filter{}, "json"); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	return httpapi.JSON(http.StatusOK, ov), nil
}

// Log returns the handler of log k: GET /v1/reports/contacts/<k>.
func (s *Service) Log(k Kind) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (events.APIGatewayV2HTTPResponse, error) {
		q := r.Query()
		format := q.Get("format")
		switch format {
		case "", "json":
			format = "json"
		case "csv":
		default:
			return events.APIGatewayV2HTTPResponse{}, fault.InvalidFields("invalid_request", "Use format=json or format=csv.", map[string]string{"format": "must be json or csv"})
		}
		p, err := httpapi.ParsePeriod(q.Get("from"), q.Get("to"), q.Get("tz"), s.IDs.Now(), MaxLogDays)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		f, err := httpapi.ParseLogFilter(q)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		if format == "csv" {
			return s.csv(ctx, r, k, p, f)
		}
		list, err := r.List()
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		// The scope binds a cursor to the log, the period as asked and the filters (an
		// unfiltered log's scope is what it was before filters existed).
		scope := "GET /v1/reports/contacts/" + string(k) + "?from=" + q.Get("from") + "&to=" + q.Get("to") + "&tz=" + q.Get("tz") + f.Query()
		var after *Position
		if list.Cursor != "" {
			var st cursorState
			if err := s.Cursors.Open(r.TenantID, scope, list.Cursor, &st); err != nil {
				return events.APIGatewayV2HTTPResponse{}, err
			}
			p.From, p.To = time.UnixMilli(st.From).UTC(), time.UnixMilli(st.To).UTC()
			after = &st.Position
		}
		rows, next, err := s.Engine.Log(ctx, r.TenantID, k, p, f, after, list.Limit)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		var nextCursor string
		if next != nil {
			nextCursor, err = s.Cursors.Seal(r.TenantID, scope, cursorState{From: p.From.UnixMilli(), To: p.To.UnixMilli(), Position: *next})
			if err != nil {
				return events.APIGatewayV2HTTPResponse{}, err
			}
		}
		items := make([]any, len(rows))
		for i, row := range rows {
			items[i] = row.Item(k)
		}
		if err := s.recordView(ctx, r, string(k), p, f, format); err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		return httpapi.JSON(http.StatusOK, httpapi.NewPage(items, nextCursor)), nil
	}
}

// errTooLarge stops a CSV that would not fit in a Lambda response.
var errTooLarge = errors.New("csv larger than a Lambda response")

// cappedBuffer refuses to grow past max bytes.
type cappedBuffer struct {
	bytes.Buffer
	max int
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > b.max {
		return 0, errTooLarge
	}
	return b.Buffer.Write(p)
}

func (s *Service) csv(ctx context.Context, r *httpapi.Request, k Kind, p Period, f Filter) (events.APIGatewayV2HTTPResponse, error) {
	tooLarge := fault.New(fault.TooLarge, "report_too_large",
		"This log is too large to download directly (over 6 MB); ask for a shorter period or export it with POST /v1/exports.")
	limit := s.MaxCSV
	if limit <= 0 {
		limit = MaxCSVResponse
	}
	buf := &cappedBuffer{max: limit}
	if _, err := s.Engine.WriteCSV(ctx, buf, r.TenantID, k, p, f); err != nil {
		if errors.Is(err, errTooLarge) {
			return events.APIGatewayV2HTTPResponse{}, tooLarge
		}
		return events.APIGatewayV2HTTPResponse{}, err
	}
	body := buf.String()
	if n, err := jsonLen(body); err != nil || n > limit {
		return events.APIGatewayV2HTTPResponse{}, tooLarge
	}
	if err := s.recordView(ctx, r, string(k), p, f, "csv"); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: http.StatusOK,
		Headers: map[string]string{
			"content-type":        "text/csv; charset=utf-8",
			"content-disposition": `attachment; filename="` + FileName(k, p) + `"`,
		},
		Body: body,
	}, nil
}

// jsonLen is the length of s as the Lambda runtime encodes it in the response envelope.
func jsonLen(s string) (int, error) {
	b, err := json.Marshal(s)
	return len(b), err
}

// recordView writes the REPORT_VIEWED event of one successful read. Its data.filters hold
// the period, the format and the log filters that were set (source, channel, user).
func (s *Service) recordView(ctx context.Context, r *httpapi.Request, report string, p Period, f Filter, format string) error {
	now := audit.FormatTime(s.IDs.Now())
	tz := "UTC"
	if p.TZ != nil {
		tz = p.TZ.String()
	}
	filters := map[string]any{
		"from":   audit.FormatTime(p.From),
		"to":     audit.FormatTime(p.To),
		"tz":     tz,
		"format": format,
	}
	f.AddTo(filters)
	ev := audit.Event{
		ID:         s.IDs.New(),
		TenantID:   r.TenantID,
		OccurredAt: now,
		RecordedAt: now,
		Type:       "REPORT_VIEWED",
		Category:   audit.CategoryAccess,
		Actor:      audit.Actor{Type: audit.ActorUser, ID: r.UserID, Name: r.Name},
		Source:     audit.SourceUser,
		Data:       map[string]any{"report": report, "filters": filters},
		Context:    &audit.Context{IP: r.SourceIP(), UserAgent: r.UserAgent(), RequestID: r.RequestID()},
	}
	item, err := s.Keys.Item(&ev, s.Retention)
	if err != nil {
		return err
	}
	_, err = s.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(s.AuditTable),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	if err != nil {
		return fmt.Errorf("record REPORT_VIEWED of %s for tenant %s: %w", report, r.TenantID, err)
	}
	return nil
}
