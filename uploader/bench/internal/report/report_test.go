package report

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/staticmedia/staticmedia/uploader/bench/internal/harness"
)

// run is a successful result of files files taking wall seconds and cpuMs CPU milliseconds.
func run(set, setting, client string, files int, wall float64, cpuMs int) harness.Result {
	family, _, _ := strings.Cut(client, "-")
	return harness.Result{Set: set, Setting: setting, Client: client, Family: family, Files: files, Bytes: int64(files) * 100_000,
		Wall: time.Duration(wall * float64(time.Second)), User: time.Duration(cpuMs) * time.Millisecond, MaxRSS: 40e6}
}

func TestAggregateTakesMediansOfSuccessfulRuns(t *testing.T) {
	failed := run(SetSmall, SettingFake, "s5cmd", 1000, 0.1, 1)
	failed.Err = "boom"
	rows := Aggregate([]harness.Result{
		run(SetSmall, SettingFake, "s5cmd", 1000, 2, 900),
		run(SetSmall, SettingFake, "uploader-ledger", 1000, 1, 500),
		run(SetSmall, SettingFake, "s5cmd", 1000, 1, 700),
		failed, // would be the fastest: must not count
		run(SetSmall, SettingFake, "s5cmd", 1000, 4, 800),
	})
	if len(rows) != 2 || rows[0].Client != "s5cmd" || rows[1].Client != "uploader-ledger" {
		t.Fatalf("rows = %+v, want s5cmd then uploader-ledger", rows)
	}
	s5 := rows[0]
	if s5.Runs != 4 || s5.OK != 3 || len(s5.Errors) != 1 {
		t.Errorf("s5cmd runs/ok/errors = %d/%d/%d, want 4/3/1", s5.Runs, s5.OK, len(s5.Errors))
	}
	if s5.Wall != 2*time.Second || s5.FilesPerSec != 500 || s5.MBPerSec != 50 {
		t.Errorf("s5cmd median wall %v, %v files/s, %v MB/s; want 2s, 500, 50", s5.Wall, s5.FilesPerSec, s5.MBPerSec)
	}
	if s5.CPUMsPerFile != 0.8 {
		t.Errorf("s5cmd CPU-ms/file = %v, want the median 0.8", s5.CPUMsPerFile)
	}
	if s5.SlowestFPS != 250 || s5.FastestFPS != 1000 {
		t.Errorf("s5cmd files/s range %v-%v, want 250-1000", s5.SlowestFPS, s5.FastestFPS)
	}
	if c := Ceilings(rows); len(c) != 1 || c[0].By != "uploader-ledger" || c[0].FilesPerSec != 1000 {
		t.Errorf("ceilings = %+v, want uploader-ledger at 1000 files/s", c)
	}
}

// TestAggregateKeepsTheListOrder checks that rows follow each case's client list, whatever order
// the runs happened in, and cases the order they first appear.
func TestAggregateKeepsTheListOrder(t *testing.T) {
	at := func(r harness.Result, pos int) harness.Result { r.Position = pos; return r }
	rows := Aggregate([]harness.Result{
		at(run(SetSmall, SettingFake, "rclone", 10, 1, 1), 2),
		at(run(SetSmall, SettingFake, "uploader-ledger", 10, 1, 1), 0),
		at(run(SetSmall, SettingFake, "s5cmd", 10, 1, 1), 1),
		at(run(SetSmall, SettingMinIO, "s5cmd", 10, 1, 1), 1),
		at(run(SetSmall, SettingMinIO, "uploader-ledger", 10, 1, 1), 0),
	})
	var got []string
	for _, r := range rows {
		got = append(got, r.Setting+"/"+r.Client)
	}
	want := []string{SettingFake + "/uploader-ledger", SettingFake + "/s5cmd", SettingFake + "/rclone",
		SettingMinIO + "/uploader-ledger", SettingMinIO + "/s5cmd"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("rows %v, want %v", got, want)
	}
}

func TestTargets(t *testing.T) {
	rows := Aggregate([]harness.Result{
		run(SetSmall, SettingFake, "s5cmd", 1000, 1, 1000),
		run(SetSmall, SettingFake, "uploader-ledger", 1000, 0.7, 700), // 1.43x files/s, 0.70x CPU
		run(SetSmall, SettingFake, "uploader-sqlite", 1000, 0.9, 800), // 1.11x, 0.80x
		run(SetSmall, SettingMinIO, "s5cmd", 1000, 2, 1000),
		run(SetSmall, SettingMinIO, "rclone", 1000, 1.6, 1000),
		run(SetSmall, SettingMinIO, "uploader-ledger", 1000, 1.9, 700), // >= s5cmd, 84% of rclone's ceiling
	})
	mem := &harness.MemoryCheck{Rows: 1_000_000, MaxRSS: 120e6, Wall: time.Second}
	got := map[string]string{}
	for _, tg := range Targets(rows, mem) {
		got[tg.Goal] = tg.Status
	}
	want := map[string]string{
		"small images, client alone: files/s >= 1.25x s5cmd (uploader-ledger)":         "met",
		"small images, client alone: files/s >= 1.25x s5cmd (uploader-sqlite)":         "MISSED",
		"small images, client alone: CPU-ms per file <= 0.75x s5cmd (uploader-ledger)": "met",
		"small images, client alone: CPU-ms per file <= 0.75x s5cmd (uploader-sqlite)": "MISSED",
		"small images, 30 ms per request: files/s >= 1.25x s5cmd":                      "not measured",
		"MinIO: files/s >= s5cmd (uploader-ledger)":                                    "met",
		"MinIO: files/s >= 90% of the ceiling (uploader-ledger)":                       "MISSED",
		"1,000,000 pending records: peak RSS <= 100 MB":                                "MISSED",
	}
	for goal, status := range want {
		if got[goal] != status {
			t.Errorf("%q: status %q, want %q (all: %v)", goal, got[goal], status, got)
		}
	}
}

func TestWriteProducesWellFormedSVGAndMarkdown(t *testing.T) {
	in := Input{
		Command: "make bench", Started: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC), Duration: time.Minute,
		Machine:  Machine{CPU: "AMD <EPYC> & co", CPUs: 2},
		Settings: []SettingInfo{{Name: SettingFake, Title: "fake & fast"}},
		Reps:     3, SlowReps: 1,
		Results: []harness.Result{
			run(SetSmall, SettingFake, "s5cmd", 1000, 1, 1000),
			run(SetSmall, SettingFake, "uploader-ledger", 1000, 0.5, 600),
			{Set: SetSmall, Setting: SettingFake, Client: "aws", Family: "aws", Files: 1000, Err: "exit | 1"},
		},
	}
	dir := t.TempDir()
	if err := Write(dir, in); err != nil {
		t.Fatal(err)
	}
	rows := Aggregate(in.Results)
	svg := Chart(rows, in)
	dec := xml.NewDecoder(bytes.NewReader(svg))
	for {
		_, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("results.svg is not well-formed XML: %v\n%s", err, svg)
		}
	}
	if !bytes.Contains(svg, []byte("2,000")) || !bytes.Contains(svg, []byte("failed")) {
		t.Errorf("the chart lacks the uploader's 2,000 files/s or the failed aws run:\n%s", svg)
	}
	md := string(Markdown(rows, in))
	for _, want := range []string{
		"| uploader-ledger | 1/1 | 0.50 s | 2,000 | 2,000-2,000 | 200 | 0.60 | 40.0 MB | 2.00x | 0.60x |",
		"| aws | 0/1 | failed |",
		"small-images · fakes3 · aws: exit | 1",
		"Ceiling: 2,000 files/s",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("results.md lacks %q:\n%s", want, md)
		}
	}
}
