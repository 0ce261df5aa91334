package harness

import "testing"

func TestParseCPUTimes(t *testing.T) {
	tests := []struct {
		name      string
		line      string
		busy, all uint64
		wantErr   bool
	}{
		{"all fields", "cpu  100 5 50 800 20 3 2 10 7 0\n", 170, 990, false},
		{"eight fields", "cpu 1 2 3 4 5 6 7 8", 27, 36, false},
		{"per-core line", "cpu0 1 2 3 4 5 6 7 8", 0, 0, true},
		{"short", "cpu 1 2 3", 0, 0, true},
		{"not a number", "cpu 1 2 x 4 5 6 7 8", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			busy, all, err := parseCPUTimes(tt.line)
			if (err != nil) != tt.wantErr || busy != tt.busy || all != tt.all {
				t.Errorf("parseCPUTimes(%q) = %d, %d, %v; want %d, %d, error %v", tt.line, busy, all, err, tt.busy, tt.all, tt.wantErr)
			}
		})
	}
}

func TestMedianOf(t *testing.T) {
	runs := []Timed{{Wall: 3e9, CPUBusy: 0.5}, {Wall: 1e9, Err: "failed", CPUBusy: 0.9}, {Wall: 2e9}, {Wall: 5e9, CPUBusy: 0.7}}
	if got := MedianOf(runs, WallSeconds); got != 3 {
		t.Errorf("median wall = %v s, want 3 (failed runs left out)", got)
	}
	if got := medianWall(runs); got != 3e9 {
		t.Errorf("medianWall = %v, want 3s", got)
	}
	if got := MedianCPUBusy(runs); got != 0.7 {
		t.Errorf("MedianCPUBusy = %v, want 0.7 (runs without a measurement left out)", got)
	}
	if got := MedianOf(nil, WallSeconds); got != 0 {
		t.Errorf("median of no runs = %v, want 0", got)
	}
}
