package catalog

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
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

	t.Run("another spelling of the table claims the same rows", func(t *testing.T) {
		dsn := e.newDSN(t)
		// The text-id table is in the connection's default schema (PostgreSQL's public, the
		// DSN's database on MySQL): qualified, it is the same table.
		schema := "public"
		if e.name == "mysql" {
			u, err := url.Parse(dsn)
			if err != nil {
				t.Fatal(err)
			}
			schema = strings.TrimPrefix(u.Path, "/")
		}
		qualified := textConfig(dsn)
		qualified.Table = schema + "." + qualified.Table
		a := openTable(t, textConfig(dsn))
		b := openTable(t, qualified)
		all := seededPending(true)
		var bGot []string
		stop := errors.New("stop after the first batch")
		err := a.Pending(context.Background(), 5, func(batch []Record) error {
			bGot = ids(collect(t, b, 5))
			for _, r := range batch {
				if slices.Contains(bGot, r.ID) {
					t.Errorf("row %s handed to both %q and %q", r.ID, textConfig(dsn).Table, qualified.Table)
				}
			}
			return stop
		})
		if !errors.Is(err, stop) {
			t.Fatalf("A's Pending = %v", err)
		}
		if len(bGot) != len(all)-5 {
			t.Errorf("B got %d rows while A held 5, want the other %d", len(bGot), len(all)-5)
		}
	})

	t.Run("a dry run claims nothing", func(t *testing.T) {
		dsn := e.newDSN(t)
		cfg := mediaConfig(dsn, e.mediaTable)
		cfg.ReadOnly = true
		dry := openTable(t, cfg)
		live := openTable(t, mediaConfig(dsn, e.mediaTable))
		all := seededPending(false)
		stop := errors.New("stop after the first batch")
		err := dry.Pending(context.Background(), 5, func([]Record) error {
			// While the dry run looks at its first batch, a real run gets every row.
			if got := ids(collect(t, live, 5)); !slices.Equal(got, all) {
				t.Errorf("a real run beside a dry run got %v, want every pending row %v", got, all)
			}
			return stop
		})
		if !errors.Is(err, stop) {
			t.Fatalf("dry run's Pending = %v", err)
		}
	})

	t.Run("a window flagged meanwhile leaves no claim behind", func(t *testing.T) {
		dsn := e.newDSN(t)
		a := openTable(t, mediaConfig(dsn, e.mediaTable))
		b := openTable(t, mediaConfig(dsn, e.mediaTable))
		db, d := openRaw(t, dsn)
		table := d.ident(e.mediaTable)
		// Another uploader flags the whole of A's window after A claimed it: the re-check
		// comes back empty and Pending ends without calling fn.
		a.beforeRecheck = func() {
			a.beforeRecheck = nil
			if _, err := db.Exec("UPDATE " + table + " SET hosted = TRUE"); err != nil {
				t.Error(err)
			}
		}
		if got := ids(collect(t, a, 100)); len(got) != 0 {
			t.Fatalf("A got %v, want nothing", got)
		}
		// The application makes every row pending again while A is still open: A must not
		// hold any of them.
		if _, err := db.Exec("UPDATE " + table + " SET hosted = FALSE"); err != nil {
			t.Fatal(err)
		}
		if got := ids(collect(t, b, 100)); len(got) != seedRows {
			t.Errorf("B got %d rows, want all %d: A kept claims on the others", len(got), seedRows)
		}
	})

	t.Run("claims are bounded whatever the page size", func(t *testing.T) {
		dsn := e.newDSN(t)
		db, d := openRaw(t, dsn)
		const extra = 2*claimChunk + 100
		insert := fmt.Sprintf("INSERT INTO %s (id, file_path, hosted) VALUES (%s, %s, FALSE)", d.ident(e.mediaTable), d.param(1), d.param(2))
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		for i := range extra {
			if _, err := tx.Exec(insert, 1000+i, fmt.Sprintf("more/%d.jpg", i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		a := openTable(t, mediaConfig(dsn, e.mediaTable))
		total := 0
		err = a.Pending(context.Background(), 100000, func(batch []Record) error {
			total += len(batch)
			if len(batch) > claimChunk {
				t.Errorf("a batch of %d rows, more than the claim bound %d", len(batch), claimChunk)
			}
			if e.heldLocks != nil {
				if n := e.heldLocks(t, db); n != len(batch) {
					t.Errorf("%d advisory locks held for a batch of %d rows", n, len(batch))
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := len(seededPending(false)) + extra; total != want {
			t.Errorf("%d rows handed out, want %d", total, want)
		}
	})

	t.Run("Stream keeps claims past the batch until MarkDone or Release, at most claimChunk", func(t *testing.T) {
		dsn := e.newDSN(t)
		db, d := openRaw(t, dsn)
		const extra = 2*claimChunk + 100
		insert := fmt.Sprintf("INSERT INTO %s (id, file_path, hosted) VALUES (%s, %s, FALSE)", d.ident(e.mediaTable), d.param(1), d.param(2))
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		for i := range extra {
			if _, err := tx.Exec(insert, 1000+i, fmt.Sprintf("more/%d.jpg", i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		total := len(seededPending(false)) + extra
		a := openTable(t, mediaConfig(dsn, e.mediaTable))
		b := openTable(t, mediaConfig(dsn, e.mediaTable))
		held := func() int {
			a.claimMu.Lock()
			defer a.claimMu.Unlock()
			return len(a.held)
		}
		ctx := context.Background()
		batches := make(chan []Record)
		streamErr := make(chan error, 1)
		go func() {
			streamErr <- a.Stream(ctx, 100000, func(batch []Record) error {
				if n := held(); n > claimChunk {
					t.Errorf("%d rows claimed at once, more than the bound %d", n, claimChunk)
				}
				batches <- batch
				return nil
			})
			close(batches)
		}()
		// The first claimChunk rows come in windows whose claims outlive fn.
		var first [][]Record
		for n := 0; n < claimChunk; {
			batch := <-batches
			if len(batch) > claimWindow {
				t.Fatalf("a batch of %d rows, more than the window %d", len(batch), claimWindow)
			}
			first, n = append(first, batch), n+len(batch)
		}
		if n := held(); n != claimChunk {
			t.Errorf("%d rows claimed after the first %d were handed out, want all of them", n, claimChunk)
		}
		if e.heldLocks != nil {
			if n := e.heldLocks(t, db); n != claimChunk {
				t.Errorf("%d advisory locks held, want %d", n, claimChunk)
			}
		}
		if got := len(ids(collect(t, b, 1000))); got != total-claimChunk {
			t.Errorf("another uploader got %d rows while A held %d, want %d", got, claimChunk, total-claimChunk)
		}
		// Handing back one window (Release, not flagged) lets Stream claim the next.
		if err := a.Release(ctx, first[0]); err != nil {
			t.Fatal(err)
		}
		// MarkDone hands back what it flagged: the rest flows through.
		handed := claimChunk
		markDone := func(batch []Record) {
			done := make([]Done, len(batch))
			for i, r := range batch {
				done[i] = Done{Record: r, Key: r.Path, UploadedAt: time.Now()}
			}
			if _, err := a.MarkDone(ctx, done); err != nil {
				t.Fatal(err)
			}
		}
		for _, batch := range first[1:] {
			markDone(batch)
		}
		for batch := range batches {
			handed += len(batch)
			markDone(batch)
		}
		if err := <-streamErr; err != nil {
			t.Fatal(err)
		}
		if handed != total {
			t.Errorf("%d rows handed out, want %d", handed, total)
		}
		if n := held(); n != 0 {
			t.Errorf("%d rows still claimed at the end", n)
		}
		if e.heldLocks != nil {
			if n := e.heldLocks(t, db); n != 0 {
				t.Errorf("%d advisory locks held at the end", n)
			}
		}
		// Only the released window is still pending, and another uploader can take it.
		if got, want := ids(collect(t, b, 1000)), ids(first[:1]); !slices.Equal(got, want) {
			t.Errorf("rows pending at the end = %v, want the released %v", got, want)
		}
	})

	t.Run("Stream hands back every claim of rows sharing an id", func(t *testing.T) {
		// --id-column should be unique, but nothing checks it: rows sharing an id come in one
		// window (ORDER BY id) and each is claimed (PostgreSQL's and MySQL's locks count
		// re-takes). Every claim and every slot must come back when they are flagged, or the
		// claims pile up and Stream waits forever for slots that never return.
		dsn := e.newDSN(t)
		db, d := openRaw(t, dsn)
		if _, err := db.Exec("CREATE TABLE dup_ids (k integer NOT NULL, file_path varchar(200) NOT NULL, hosted boolean)"); err != nil {
			t.Fatal(err)
		}
		// Few enough rows that the leaked slots never make Stream wait: the test fails, not hangs.
		const rows = 2 * claimWindow
		insert := fmt.Sprintf("INSERT INTO dup_ids (k, file_path, hosted) VALUES (%s, %s, FALSE)", d.param(1), d.param(2))
		for i := range rows {
			if _, err := db.Exec(insert, i/2, fmt.Sprintf("dup/%d.jpg", i)); err != nil {
				t.Fatal(err)
			}
		}
		a := openTable(t, TableConfig{DSN: dsn, Table: "dup_ids", IDColumn: "k", PathColumn: "file_path", FlagColumn: "hosted"})
		ctx := context.Background()
		handed := 0
		err := a.Stream(ctx, 100000, func(batch []Record) error {
			handed += len(batch)
			done := make([]Done, len(batch))
			for i, r := range batch {
				done[i] = Done{Record: r, Key: r.Path, UploadedAt: time.Now()}
			}
			_, err := a.MarkDone(ctx, done)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		// (Keyset paging skips a row whose id the window before ended on: a non-unique id
		// column misses rows, which is why it must be unique; only the claims are checked.)
		if handed < rows-2 {
			t.Errorf("%d rows handed out, want about %d", handed, rows)
		}
		if !a.slots.TryAcquire(claimChunk) {
			t.Error("not every claim slot came back after every row was flagged")
		}
		if e.heldLocks != nil {
			if n := e.heldLocks(t, db); n != 0 {
				t.Errorf("%d advisory locks held after every row was flagged", n)
			}
		}
	})

}
