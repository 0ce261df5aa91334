package cli

import (
	"slices"
	"testing"
)

// TestSoftMemoryLimit: the limit is the fixed overhead plus the buffers held (a step ahead),
// never more than the overhead plus the memory budget, only ever raised during a run, put back
// at its end, and left alone when the user set GOMEMLIMIT or GOGC.
func TestSoftMemoryLimit(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		name   string
		env    map[string]string
		budget int64
		held   []int64 // high-water marks reported, in order
		want   []int64 // limits set, in order; nil: the limit is not touched
	}{
		{name: "default budget, small images", budget: 256 * mib, held: []int64{4 * mib, 8 * mib, 12 * mib, 16 * mib},
			want: []int64{36 * mib, 40 * mib, 44 * mib, 48 * mib, 52 * mib}},
		{name: "a run of large buffers stops at the budget", budget: 20 * mib, held: []int64{8 * mib, 18 * mib, 20 * mib},
			want: []int64{36 * mib, 44 * mib, 52 * mib}},
		{name: "a lower mark reported late does not lower it", budget: 256 * mib, held: []int64{12 * mib, 8 * mib},
			want: []int64{36 * mib, 48 * mib}},
		{name: "GOMEMLIMIT wins", env: map[string]string{"GOMEMLIMIT": "200MiB"}, budget: 256 * mib, held: []int64{16 * mib}},
		{name: "GOGC wins", env: map[string]string{"GOGC": "50"}, budget: 256 * mib, held: []int64{16 * mib}},
		{name: "GOGC=off wins", env: map[string]string{"GOGC": "off"}, budget: 256 * mib, held: []int64{16 * mib}},
	} {
		t.Run(c.name, func(t *testing.T) {
			const before = 1 << 40
			var set []int64
			current := int64(before)
			setLimit := func(l int64) int64 {
				prev := current
				current = l
				set = append(set, l)
				return prev
			}
			m := newSoftMemoryLimit(func(k string) string { return c.env[k] }, c.budget, setLimit, nil)
			restore := m.start()
			if hook := m.hook(); hook != nil {
				for _, h := range c.held {
					hook(h)
				}
			} else if c.want != nil {
				t.Fatal("no hook for migrate.Deps.BuffersHeld, want one")
			}
			if !slices.Equal(set, c.want) {
				t.Errorf("limits set = %v, want %v", set, c.want)
			}
			restore()
			if current != before {
				t.Errorf("limit after the run = %d, want the one before (%d)", current, before)
			}
		})
	}
}
