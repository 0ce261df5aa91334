package report

import (
	"fmt"

	"github.com/staticmedia/staticmedia/uploader/bench/internal/harness"
)

// Setting and set names the targets refer to.
const (
	SetSmall = "small-images"
	SetTiny  = "many-tiny"
	SetLarge = "large"

	SettingMinIO   = "minio"
	SettingFake    = "fakes3"
	SettingLatency = "fakes3+30ms"
)

// Target is one goal of issue 7 checked against the measurements.
type Target struct {
	Goal   string
	Status string // "met", "MISSED", "not measured"
	Detail string
}

// memoryLimit is the bound on peak RSS while streaming 1,000,000 pending records.
const memoryLimit = 100e6

// Targets checks every goal for every uploader variant measured.
func Targets(rows []Row, mem *harness.MemoryCheck) []Target {
	var out []Target
	uploaders := func(set, setting string) []Row {
		var us []Row
		for _, r := range rows {
			if r.Set == set && r.Setting == setting && r.Family == "uploader" {
				us = append(us, r)
			}
		}
		return us
	}
	ratio := func(goal, set, setting string, metric func(Row) float64, want float64, atMost bool, unit string) {
		s5 := find(rows, set, setting, "s5cmd")
		us := uploaders(set, setting)
		if s5 == nil || len(us) == 0 {
			out = append(out, Target{Goal: goal, Status: "not measured", Detail: fmt.Sprintf("no successful s5cmd and uploader runs on %s · %s", set, setting)})
			return
		}
		for _, u := range us {
			t := Target{Goal: goal + " (" + u.Client + ")"}
			if u.OK == 0 {
				t.Status, t.Detail = "not measured", "every run failed"
				out = append(out, t)
				continue
			}
			got := metric(u) / metric(*s5)
			ok := got >= want
			if atMost {
				ok = got <= want
			}
			t.Status = status(ok)
			t.Detail = fmt.Sprintf("%.2fx (%s vs s5cmd %s %s)", got, num(metric(u)), num(metric(*s5)), unit)
			out = append(out, t)
		}
	}
	files := func(r Row) float64 { return r.FilesPerSec }
	cpu := func(r Row) float64 { return r.CPUMsPerFile }
	mbps := func(r Row) float64 { return r.MBPerSec }

	ratio("small images, client alone: files/s >= 1.25x s5cmd", SetSmall, SettingFake, files, 1.25, false, "files/s")
	ratio("small images, 30 ms per request: files/s >= 1.25x s5cmd", SetSmall, SettingLatency, files, 1.25, false, "files/s")
	ratio("small images, client alone: CPU-ms per file <= 0.75x s5cmd", SetSmall, SettingFake, cpu, 0.75, true, "CPU-ms/file")
	ratio("MinIO: files/s >= s5cmd", SetSmall, SettingMinIO, files, 1, false, "files/s")
	for _, c := range Ceilings(rows) {
		if c.Set != SetSmall || c.Setting != SettingMinIO {
			continue
		}
		for _, u := range uploaders(SetSmall, SettingMinIO) {
			if u.OK == 0 {
				continue
			}
			got := u.FilesPerSec / c.FilesPerSec
			out = append(out, Target{Goal: "MinIO: files/s >= 90% of the ceiling (" + u.Client + ")", Status: status(got >= 0.9),
				Detail: fmt.Sprintf("%.0f%% of %s files/s (%s)", 100*got, num(c.FilesPerSec), c.By)})
		}
	}
	ratio("large files on MinIO: MB/s >= s5cmd", SetLarge, SettingMinIO, mbps, 1, false, "MB/s")
	ratio("large files, client alone: MB/s >= s5cmd", SetLarge, SettingFake, mbps, 1, false, "MB/s")

	switch {
	case mem == nil:
		out = append(out, Target{Goal: "1,000,000 pending records: peak RSS <= 100 MB", Status: "not measured"})
	case mem.Err != "":
		out = append(out, Target{Goal: fmt.Sprintf("%s pending records: peak RSS <= 100 MB", num(float64(mem.Rows))), Status: "not measured", Detail: mem.Err})
	default:
		out = append(out, Target{Goal: fmt.Sprintf("%s pending records: peak RSS <= 100 MB", num(float64(mem.Rows))),
			Status: status(float64(mem.MaxRSS) <= memoryLimit),
			Detail: fmt.Sprintf("%.0f MB peak RSS, %.1f s (--dry-run)", float64(mem.MaxRSS)/1e6, mem.Wall.Seconds())})
	}
	return out
}

func status(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

// num prints a number with a precision that suits its size: 2,345 / 87.5 / 0.63.
func num(v float64) string {
	switch {
	case v >= 1000:
		return thousands(int64(v + 0.5))
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

func thousands(n int64) string {
	s := fmt.Sprint(n)
	out := ""
	for len(s) > 3 {
		out = "," + s[len(s)-3:] + out
		s = s[:len(s)-3]
	}
	return s + out
}
