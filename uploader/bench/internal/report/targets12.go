package report

import (
	"fmt"
	"strings"

	"github.com/staticmedia/staticmedia/uploader/bench/internal/harness"
)

// SettingFar is small images with 80 ms per request: a far region.
const SettingFar = "fakes3+80ms"

// Limits of issue 12.
const (
	smallRSSLimit = 64e6 // peak RSS on small images at the uploader's defaults
	scaleRSSLimit = 64e6 // peak RSS over 1,000,000 pending records, a real run
)

// Issue12Targets checks the goals of issue 12 that the issue-7 targets do not cover: the round
// trip hidden, one slow file per page, memory at default settings, scale-out and a real run of
// many rows.
func Issue12Targets(rows []Row, in Input) []Target {
	var out []Target
	// The round trip hidden: at 30 ms, >= 1.35x s5cmd and >= 80% of the same client without
	// the delay. Only the default uploader variants (no -cN suffix) count.
	for _, setting := range []string{SettingLatency, SettingFar} {
		s5 := find(rows, SetSmall, setting, "s5cmd")
		for _, r := range rows {
			if r.Set != SetSmall || r.Setting != setting || r.Family != "uploader" || r.OK == 0 {
				continue
			}
			if s5 != nil && setting == SettingLatency {
				got := r.FilesPerSec / s5.FilesPerSec
				out = append(out, Target{Goal: "small images, 30 ms per request: files/s >= 1.35x s5cmd (" + r.Client + ")",
					Status: status(got >= 1.35), Detail: fmt.Sprintf("%.2fx (%s vs %s files/s)", got, num(r.FilesPerSec), num(s5.FilesPerSec))})
			}
			if alone := find(rows, SetSmall, SettingFake, r.Client); alone != nil {
				got := r.FilesPerSec / alone.FilesPerSec
				goal := "small images, 30 ms per request: files/s >= 80% of the client alone (" + r.Client + ")"
				want := 0.8
				if setting == SettingFar {
					goal, want = "small images, 80 ms per request: files/s as a share of the client alone ("+r.Client+"), reported", 0
				}
				out = append(out, Target{Goal: goal, Status: status(got >= want),
					Detail: fmt.Sprintf("%.0f%% (%s vs %s files/s)", 100*got, num(r.FilesPerSec), num(alone.FilesPerSec))})
			}
		}
	}
	// Memory at default settings.
	for _, r := range rows {
		if r.Family != "uploader" || r.OK == 0 || r.Setting != SettingFake {
			continue
		}
		switch r.Set {
		case SetSmall:
			out = append(out, Target{Goal: "small images: peak RSS <= 64 MB (" + r.Client + ")", Status: status(float64(r.MaxRSS) <= smallRSSLimit),
				Detail: fmt.Sprintf("%.0f MB", float64(r.MaxRSS)/1e6)})
		case SetLarge:
			if s5 := find(rows, SetLarge, SettingFake, "s5cmd"); s5 != nil {
				got := float64(r.MaxRSS) / float64(s5.MaxRSS)
				out = append(out, Target{Goal: "large files: peak RSS <= 2x s5cmd's (" + r.Client + ")", Status: status(got <= 2),
					Detail: fmt.Sprintf("%.2fx (%.0f MB vs %.0f MB)", got, float64(r.MaxRSS)/1e6, float64(s5.MaxRSS)/1e6)})
			}
		}
	}
	// One slow file per page.
	slowGoal := "one slow file per page: every 1,000th PUT taking 1 s costs at most 1 s"
	if c := in.SlowFile; c != nil {
		slowGoal = fmt.Sprintf("one slow file per page: every %s-th PUT taking %s costs at most %s", thousands(c.Every), c.Delay, c.Delay)
	}
	switch c := in.SlowFile; {
	case c == nil:
		out = append(out, Target{Goal: slowGoal, Status: "not measured"})
	case !c.OK():
		out = append(out, Target{Goal: slowGoal, Status: "not measured", Detail: "a side has no successful run"})
	default:
		out = append(out, Target{Goal: slowGoal, Status: status(c.Extra() <= c.Delay),
			Detail: fmt.Sprintf("%.2f s later (median of %d: %.2f s with slow PUTs, %.2f s without; %s files)", c.Extra().Seconds(), len(c.With),
				medianSeconds(c.With), medianSeconds(c.Without), thousands(int64(c.Files)))})
	}
	// Scale-out.
	out = append(out, scaleOutTarget(in.ScaleOut, "30 ms per request, --concurrency %d each"),
		scaleOutTarget(in.ScaleOutLow, "30 ms per request, --concurrency %d each, bound by the round trip, not the CPU"))
	// A real run over many rows.
	switch c := in.Scale; {
	case c == nil:
		out = append(out, Target{Goal: "1,000,000 pending records, real run: see `make bench-scale`", Status: "not measured"})
	case c.Large.Err != "" || c.Base.Err != "":
		out = append(out, Target{Goal: fmt.Sprintf("%s pending records, real run", thousands(int64(c.Rows))), Status: "not measured", Detail: c.Base.Err + " " + c.Large.Err})
	default:
		goal := fmt.Sprintf("%s pending records, real run", thousands(int64(c.Rows)))
		out = append(out, Target{Goal: goal + ": peak RSS <= 64 MB", Status: status(float64(c.Large.MaxRSS) <= scaleRSSLimit),
			Detail: fmt.Sprintf("%.0f MB (%s files: %.0f MB)", float64(c.Large.MaxRSS)/1e6, thousands(c.Base.Files), float64(c.Base.MaxRSS)/1e6)})
		got := c.Large.FilesPerSec() / c.Base.FilesPerSec()
		out = append(out, Target{Goal: goal + ": files/s within 20% of the rate on " + thousands(c.Base.Files) + " files", Status: status(got >= 0.8),
			Detail: fmt.Sprintf("%.0f%% (%s vs %s files/s)", 100*got, num(c.Large.FilesPerSec()), num(c.Base.FilesPerSec()))})
	}
	return out
}

func medianSeconds(runs []harness.Timed) float64 {
	return harness.MedianOf(runs, harness.WallSeconds)
}

func firstErr(runs []harness.Timed) string {
	for _, r := range runs {
		if r.Err != "" {
			return " " + r.Err
		}
	}
	return ""
}

// scaleOutTarget is the row of a scale-out check; setting names its conditions, with a %d for
// the concurrency. A missed target says how busy the machine's CPU was: when the cores were
// nearly all busy during the pair's runs, the pair could not go faster on this machine.
func scaleOutTarget(c *harness.ScaleOutCheck, setting string) Target {
	goal := "scale-out: two uploaders on one PostgreSQL table, " + setting + ": files/s >= 1.7x one"
	switch {
	case c == nil:
		return Target{Goal: strings.Replace(goal, "%d", "N", 1), Status: "not measured"}
	case c.Speedup() == 0:
		return Target{Goal: fmt.Sprintf(goal, c.Concurrency), Status: "not measured", Detail: "no successful run on a side: " + c.Err + firstErr(c.One) + firstErr(c.Two)}
	}
	detail := fmt.Sprintf("%.2fx (%.2f s for two, %.2f s for one, %s files)", c.Speedup(), medianSeconds(c.Two), medianSeconds(c.One), thousands(int64(c.Files)))
	if one, two := harness.MedianCPUBusy(c.One), harness.MedianCPUBusy(c.Two); two > 0 {
		detail += fmt.Sprintf("; machine CPU busy %.0f%% with two, %.0f%% with one", 100*two, 100*one)
		if c.Speedup() < 1.7 && two >= cpuBound {
			detail += ": CPU-bound, the cores are shared by the uploaders, the endpoint and PostgreSQL"
		}
	}
	return Target{Goal: fmt.Sprintf(goal, c.Concurrency) + ", every row flagged once, every object stored once", Status: status(c.Speedup() >= 1.7), Detail: detail}
}

// cpuBound is the share of busy CPU time above which a run is called CPU-bound.
const cpuBound = 0.9
