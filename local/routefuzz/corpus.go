package routefuzz

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Sample is one recorded request of events/ (a payload format 2.0 event): what the route's
// callers send, the seed of the mutated bodies and query strings.
type Sample struct {
	RouteKey    string // "POST /v1/contacts"
	Query       string
	Body        string
	ContentType string
}

// Corpus is what the generator mutates: the events/ samples by route key and every value of
// the repository's Go fuzz corpora (testdata/fuzz): inputs that once found or guard bugs.
type Corpus struct {
	Samples map[string][]Sample
	Values  []string
}

// LoadCorpus reads root/events/*.json and every root/**/testdata/fuzz/*/* file.
func LoadCorpus(root string) (*Corpus, error) {
	c := &Corpus{Samples: map[string][]Sample{}}
	files, err := filepath.Glob(filepath.Join(root, "events", "*.json"))
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var ev struct {
			RouteKey       string            `json:"routeKey"`
			RawQueryString string            `json:"rawQueryString"`
			Headers        map[string]string `json:"headers"`
			Body           string            `json:"body"`
		}
		if err := json.Unmarshal(b, &ev); err != nil || ev.RouteKey == "" {
			continue // a stream, queue or schedule event
		}
		c.Samples[ev.RouteKey] = append(c.Samples[ev.RouteKey], Sample{RouteKey: ev.RouteKey, Query: ev.RawQueryString, Body: ev.Body, ContentType: ev.Headers["content-type"]})
	}
	if len(c.Samples) == 0 {
		return nil, fmt.Errorf("no request samples under %s", filepath.Join(root, "events"))
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == ".local" || d.Name() == ".git") {
			return filepath.SkipDir
		}
		if d.IsDir() || filepath.Base(filepath.Dir(filepath.Dir(p))) != "fuzz" || filepath.Base(filepath.Dir(filepath.Dir(filepath.Dir(p)))) != "testdata" {
			return nil
		}
		vals, err := readFuzzFile(p)
		if err != nil {
			return err
		}
		c.Values = append(c.Values, vals...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(c.Values) == 0 {
		return nil, fmt.Errorf("no Go fuzz corpus files (testdata/fuzz) under %s", root)
	}
	sort.Strings(c.Values) // WalkDir's order is fixed already; sorted keeps a seed's run the same if files move
	return c, nil
}

// readFuzzFile returns the string and []byte values of one `go test fuzz v1` file.
func readFuzzFile(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	var out []string
	for sc.Scan() {
		line := sc.Text()
		for _, prefix := range []string{"string(", "[]byte("} {
			if strings.HasPrefix(line, prefix) && strings.HasSuffix(line, ")") {
				if s, err := strconv.Unquote(line[len(prefix) : len(line)-1]); err == nil {
					out = append(out, s)
				}
			}
		}
	}
	return out, sc.Err()
}
