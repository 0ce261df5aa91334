package catalog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/staticmedia/staticmedia/internal/testbed"
)

// flaggedCatalog is what verify and prune read.
type flaggedCatalog interface {
	Catalog
	Flagged(ctx context.Context, batchSize int, fn func([]Record) error) error
}

// collectFlagged runs Flagged and returns its batches, checking each is within batchSize.
func collectFlagged(t *testing.T, c flaggedCatalog, batchSize int) [][]Record {
	t.Helper()
	var batches [][]Record
	err := c.Flagged(context.Background(), batchSize, func(b []Record) error {
		if len(b) == 0 || len(b) > batchSize {
			t.Errorf("batch of %d records, want 1..%d", len(b), batchSize)
		}
		batches = append(batches, slices.Clone(b))
		return nil
	})
	if err != nil {
		t.Fatalf("Flagged: %v", err)
	}
	return batches
}

// seededFlagged is the ids loadSchema seeds with a true flag (i%4 == 0), in id order.
func seededFlagged(textIDs bool) []string {
	var ids []string
	for i := 1; i <= seedRows; i++ {
		if i%4 == 0 {
			ids = append(ids, seedID(i, textIDs))
		}
	}
	if textIDs {
		slices.Sort(ids) // text ids sort as text: "f-12" before "f-4"
	}
	return ids
}

func TestTableFlagged(t *testing.T) {
	t.Parallel()
	engines := []tableEngine{{
		name: "sqlite", mediaTable: "media",
		newDSN: func(t *testing.T) string {
			path := filepath.Join(t.TempDir(), "app.db")
			if err := os.WriteFile(path, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			dsn := "sqlite:" + path
			loadSchema(t, "sqlite", "media", dsn)
			return dsn
		},
	}}
	if !testing.Short() {
		pg := testbed.StartPostgres(t)
		engines = append(engines, tableEngine{
			name: "postgres", mediaTable: "app.media",
			newDSN: func(t *testing.T) string {
				dsn := pg.CreateDatabase(t, "flagged")
				loadSchema(t, "postgres", "app.media", dsn)
				return dsn
			},
		})
	}
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			dsn := e.newDSN(t)
			tests := []struct {
				name      string
				cfg       TableConfig
				text      bool
				batchSize int
			}{
				// media has a boolean flag, media_text an integer one.
				{"boolean flag, int ids, batches of 1", mediaConfig(dsn, e.mediaTable), false, 1},
				{"boolean flag, int ids, batches of 2", mediaConfig(dsn, e.mediaTable), false, 2},
				{"integer flag, text ids, batches of 2", textConfig(dsn), true, 2},
				{"integer flag, text ids, one batch", textConfig(dsn), true, 100},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					tbl := openTable(t, tt.cfg)
					want := seededFlagged(tt.text)
					batches := collectFlagged(t, tbl, tt.batchSize)
					if got := ids(batches); !slices.Equal(got, want) {
						t.Fatalf("Flagged = %q, want %q (NULL and false flags are not flagged)", got, want)
					}
					if wantBatches := (len(want) + tt.batchSize - 1) / tt.batchSize; len(batches) != wantBatches {
						t.Errorf("%d batches, want %d", len(batches), wantBatches)
					}
					for _, r := range batches[0] {
						var n int
						if _, err := fmt.Sscanf(r.ID, "f-%d", &n); err != nil {
							if _, err := fmt.Sscanf(r.ID, "%d", &n); err != nil {
								t.Fatalf("id %q", r.ID)
							}
						}
						if wantPath := fmt.Sprintf("img/%02d.jpg", n); r.Path != wantPath {
							t.Errorf("record %s path = %q, want %q", r.ID, r.Path, wantPath)
						}
					}
				})
			}

			t.Run("a row marked done becomes flagged", func(t *testing.T) {
				tbl := openTable(t, mediaConfig(dsn, e.mediaTable))
				if _, err := tbl.MarkDone(context.Background(), []Done{{Record: Record{ID: "1", Path: "img/01.jpg"}, ETag: `"e"`}}); err != nil {
					t.Fatal(err)
				}
				got := ids(collectFlagged(t, tbl, 3))
				if want := append([]string{"1"}, seededFlagged(false)...); !slices.Equal(got, want) {
					t.Fatalf("Flagged = %q, want %q", got, want)
				}
			})

			t.Run("stops when fn errors", func(t *testing.T) {
				tbl := openTable(t, textConfig(dsn))
				stop := errors.New("stop")
				calls := 0
				err := tbl.Flagged(context.Background(), 1, func([]Record) error { calls++; return stop })
				if !errors.Is(err, stop) || calls != 1 {
					t.Fatalf("Flagged = %v after %d calls, want the callback's error after 1", err, calls)
				}
			})
		})
	}
}

func TestLedgerFlagged(t *testing.T) {
	t.Parallel()
	src := t.TempDir()
	files := map[string]string{}
	for i := range 9 {
		files[fmt.Sprintf("d%d/f %d+#.jpg", i%2, i)] = strings.Repeat("x", i)
	}
	makeTree(t, src, files)
	l := openLedger(t, LedgerConfig{Path: filepath.Join(t.TempDir(), "ledger.db"), Source: src})
	if got := flatten(collectFlagged(t, l, 4)); len(got) != 0 {
		t.Fatalf("Flagged on an empty ledger = %q, want nothing", recordIDs(got))
	}

	// Record every other file; the ledger then holds what those files were when uploaded, even
	// after one of them changes on disk.
	var recorded []Record
	for i, r := range flatten(collect(t, l, 100)) {
		if i%2 == 0 {
			recorded = append(recorded, r)
		}
	}
	markAll(t, l, recorded)
	changed := filepath.Join(src, recorded[0].Path)
	later := time.Now().Add(time.Hour)
	if err := os.WriteFile(changed, []byte("a new version"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(changed, later, later); err != nil {
		t.Fatal(err)
	}

	for _, batchSize := range []int{1, 2, 100} {
		t.Run(fmt.Sprintf("batches of %d", batchSize), func(t *testing.T) {
			got := flatten(collectFlagged(t, l, batchSize))
			if !slices.Equal(recordIDs(got), recordIDs(recorded)) {
				t.Fatalf("Flagged = %q, want %q", recordIDs(got), recordIDs(recorded))
			}
			for i, r := range got {
				want := recorded[i]
				if r.Path != want.Path || r.Size != want.Size || !r.ModTime.Equal(want.ModTime) {
					t.Errorf("record %s = (%q, %d, %v), want what was uploaded (%q, %d, %v)",
						r.ID, r.Path, r.Size, r.ModTime, want.Path, want.Size, want.ModTime)
				}
			}
		})
	}
}
