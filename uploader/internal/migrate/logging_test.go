package migrate

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// syncBuffer is a bytes.Buffer the run's workers can log to at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRunLogsFewSkips checks that a catalog full of missing and invalid rows logs the first few
// of each kind and one line counting the rest, while the report keeps them all.
func TestRunLogsFewSkips(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO")
	}
	const bucket = "media"
	up, _ := minioBucket(t, bucket)
	paths := []string{"here.jpg"}
	for i := range 40 {
		paths = append(paths, fmt.Sprintf("gone%02d.jpg", i))
	}
	for i := range 15 {
		paths = append(paths, fmt.Sprintf("../outside%02d.jpg", i))
	}
	var logs syncBuffer
	logger := hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Info})
	rep, err := Run(context.Background(), Config{Bucket: bucket, Source: tree(t, map[string][]byte{"here.jpg": {1}})},
		Deps{S3: up, Catalog: newMemCatalog(paths...), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Uploaded != 1 || rep.Missing != 40 || rep.Invalid != 15 || len(rep.Errors) != 55 {
		t.Fatalf("report %s with %d errors listed; want 40 missing and 15 invalid, all listed", brief(rep), len(rep.Errors))
	}
	var missing, invalid, summary int
	for _, line := range strings.Split(logs.String(), "\n") {
		switch {
		case strings.Contains(line, "skipped: kind=missing"):
			missing++
		case strings.Contains(line, "skipped: kind=invalid"):
			invalid++
		case strings.Contains(line, "more records skipped than logged"):
			summary++
			if !strings.Contains(line, "missing_not_logged=30") || !strings.Contains(line, "invalid_not_logged=5") {
				t.Errorf("summary line %q, want 30 missing and 5 invalid not logged", line)
			}
		}
	}
	if missing != maxLoggedSkips || invalid != maxLoggedSkips || summary != 1 {
		t.Errorf("logged %d missing, %d invalid and %d summary lines; want %d, %d and 1:\n%s", missing, invalid, summary, maxLoggedSkips, maxLoggedSkips, logs.String())
	}
}
