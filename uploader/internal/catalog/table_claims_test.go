package catalog

import (
	"context"
	"errors"
	"slices"
	"testing"
)

// runClaimSuite is the behaviour of the engines on which several uploaders share one table
// (PostgreSQL's advisory locks, MySQL's named locks): a batch one uploader holds is invisible
// to the others, and a row another uploader flagged in the meantime is never handed out.
func runClaimSuite(t *testing.T, e tableEngine) {
	t.Run("two uploaders never get the same row", func(t *testing.T) {
		dsn := e.newDSN(t)
		a := openTable(t, mediaConfig(dsn, e.mediaTable))
		b := openTable(t, mediaConfig(dsn, e.mediaTable))
		ctx := context.Background()
		all := seededPending(false)

		var aGot, bGot []string
		stop := errors.New("stop after the first batch")
		err := a.Pending(ctx, 5, func(batch []Record) error {
			aGot = ids([][]Record{batch})
			// While A holds its first batch, B walks the whole table.
			bGot = ids(collect(t, b, 5))
			return stop
		})
		if !errors.Is(err, stop) {
			t.Fatalf("A's Pending = %v", err)
		}
		if !slices.Equal(aGot, all[:5]) {
			t.Fatalf("A's batch = %v, want %v", aGot, all[:5])
		}
		if !slices.Equal(bGot, all[5:]) {
			t.Errorf("B got %v while A held %v, want %v", bGot, aGot, all[5:])
		}
		// A's claims ended with its batch: B now sees those rows.
		if got := ids(collect(t, b, 5)); !slices.Equal(got, all) {
			t.Errorf("B after A released = %v, want %v", got, all)
		}
	})

	t.Run("a row flagged after the window was read is not handed out", func(t *testing.T) {
		dsn := e.newDSN(t)
		a := openTable(t, mediaConfig(dsn, e.mediaTable))
		db, d := openRaw(t, dsn)
		all := seededPending(false)
		// Another uploader flags rows 2 and 3 after A's window query took its snapshot
		// (so A still read them as pending) and after releasing its claims on them (so A's
		// locks succeeded). Only the re-read keeps A from uploading them again.
		a.beforeRecheck = func() {
			a.beforeRecheck = nil
			if _, err := db.Exec("UPDATE " + d.ident(e.mediaTable) + " SET hosted = TRUE WHERE id IN (2, 3)"); err != nil {
				t.Error(err)
			}
		}
		got := ids(collect(t, a, 5))
		want := slices.DeleteFunc(slices.Clone(all), func(id string) bool { return id == "2" || id == "3" })
		if !slices.Equal(got, want) {
			t.Errorf("pending = %v, want %v", got, want)
		}
	})
}
