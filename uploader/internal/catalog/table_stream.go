package catalog

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// claimWindow is how many rows Stream claims at a time: a quarter of claimChunk, so that new
// rows are claimed as soon as a quarter of the claims were handed back, while a slow file
// holds only its own row.
const claimWindow = claimChunk / 4

// heldRow is the claims on the rows of one id not yet handed back: one row, unless the id
// column is not unique, when the rows of an id come in one window and each is claimed (both
// engines count a lock taken again, and it is dropped once per take).
type heldRow struct {
	key   any // hashtext(id::text) on PostgreSQL, the lock name on MySQL
	n     int // claims taken
	slots int // of them, claimed by Stream: each holds one of the claimChunk slots
}

// Stream is Pending for a consumer that works on several batches at once (the engine's
// pipeline): fn only takes the batch, and the claims of its rows (PostgreSQL, MySQL) outlive
// fn. Each row stays claimed until MarkDone flags it or Release hands it back, or until
// Close. At most claimChunk rows are claimed at once: Stream waits for rows to be handed
// back before it claims more, so a consumer must hand rows back as it finishes them, not at
// the end. Batches are at most claimWindow rows in that mode. On SQLite it is Pending.
func (t *Table) Stream(ctx context.Context, batchSize int, fn func([]Record) error) error {
	return t.pending(ctx, batchSize, true, fn)
}

// Release hands back the claims of records the consumer of Stream is done with without
// flagging them (failed, skipped, abandoned), so another uploader may take them. Records not
// claimed (SQLite, a dry run, already handed back) are ignored. It runs even when ctx is
// cancelled: a claim left behind keeps other uploaders off the row until this process exits.
func (t *Table) Release(ctx context.Context, recs []Record) error {
	if t.claim == nil || len(recs) == 0 {
		return nil
	}
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.ID
	}
	t.claimMu.Lock()
	defer t.claimMu.Unlock()
	return t.redact(t.unlock(ctx, ids))
}

// holdSlots marks the rows of a batch Stream handed out as holding a slot each.
func (t *Table) holdSlots(batch []Record) {
	t.claimMu.Lock()
	defer t.claimMu.Unlock()
	for _, r := range batch {
		if h, ok := t.held[r.ID]; ok && h.slots < h.n {
			h.slots++
			t.held[r.ID] = h
		}
	}
}

// unlock drops one claim per id (an id given twice drops two) of the rows with these ids that
// are held, with one statement per claimChunk rows. The caller holds claimMu.
func (t *Table) unlock(ctx context.Context, ids []string) error {
	var (
		keys  []any
		slots int64
	)
	for _, id := range ids {
		h, ok := t.held[id]
		if !ok {
			continue
		}
		keys = append(keys, h.key)
		if h.slots > 0 {
			h.slots--
			slots++
		}
		if h.n--; h.n == 0 {
			delete(t.held, id)
		} else {
			t.held[id] = h
		}
	}
	if slots > 0 {
		// The slots go back even if the statement fails: the run then stops, and Close ends
		// the session and every claim with it.
		defer t.slots.Release(slots)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	for len(keys) > 0 {
		n := min(len(keys), claimChunk)
		args := keys[:n]
		if t.dialect != mysqlDialect {
			args = append([]any{t.lockSpace}, args...)
		}
		if _, err := t.claim.ExecContext(ctx, t.unlockSQL(n), args...); err != nil {
			return fmt.Errorf("release claimed rows of table %q: %w", t.cfg.Table, err)
		}
		keys = keys[n:]
	}
	return nil
}

// lockKeySQL is the expression of row c.k's lock key, which unlockSQL takes back: the
// second half of tryLockSQL's lock.
func (t *Table) lockKeySQL() string {
	if t.dialect == mysqlDialect {
		return "CONCAT('staticmedia:', MD5(CONCAT(?, ':', c.k)))"
	}
	return "hashtext(c.k::text)"
}

// unlockSQL drops n claims whose keys are the parameters (after the lock space on
// PostgreSQL; MySQL's lock names hold it).
func (t *Table) unlockSQL(n int) string {
	var b strings.Builder
	if t.dialect == mysqlDialect {
		b.WriteString("SELECT RELEASE_LOCK(v.k) FROM (")
		for i := range n {
			if i > 0 {
				b.WriteString(" UNION ALL ")
			}
			b.WriteString("SELECT ? AS k")
		}
		b.WriteString(") v")
		return b.String()
	}
	b.WriteString("SELECT pg_advisory_unlock($1::int4, v.k) FROM (VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "($%d::int4)", i+2)
	}
	b.WriteString(") v(k)")
	return b.String()
}
