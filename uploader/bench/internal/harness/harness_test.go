package harness

import (
	"slices"
	"testing"
)

// TestRunOrder checks the balanced Latin square: every row is a permutation, and over n
// repetitions (n even) each client runs first once and follows every other client exactly once.
func TestRunOrder(t *testing.T) {
	for n := range 9 {
		first := map[int]int{}
		follows := map[[2]int]int{}
		for rep := range n {
			row := runOrder(n, rep)
			sorted := slices.Sorted(slices.Values(row))
			for i, v := range sorted {
				if v != i {
					t.Fatalf("n=%d rep=%d: %v is not a permutation of 0..%d", n, rep, row, n-1)
				}
			}
			first[row[0]]++
			for i := 1; i < len(row); i++ {
				follows[[2]int{row[i-1], row[i]}]++
			}
		}
		if len(first) != n {
			t.Errorf("n=%d: first positions %v, want each client once", n, first)
		}
		if n%2 == 1 {
			continue // a Williams design balances odd n over 2n rows
		}
		for a := range n {
			for b := range n {
				if a != b && follows[[2]int{a, b}] != 1 {
					t.Errorf("n=%d: client %d follows client %d %d times, want once", n, b, a, follows[[2]int{a, b}])
				}
			}
		}
	}
}
