package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/staticmedia/staticmedia/uploader/bench/internal/appdb"
	"github.com/staticmedia/staticmedia/uploader/bench/internal/corpus"
	"github.com/staticmedia/staticmedia/uploader/bench/internal/toolset"
)

// Run is one client upload of one set to one setting.
type Run struct {
	Set     *corpus.Set
	Setting *Setting
	Prefix  string // fresh per run: "r0007-s5cmd/"
	Dir     string // the run's scratch directory (logs, databases, config files)
}

// Client is a way of uploading a set: a tool and how it is invoked.
type Client struct {
	Name   string // "uploader-ledger", "s5cmd", ...
	Family string // "uploader", "s5cmd", "rclone", "aws"
	// Slow clients run fewer repetitions (the AWS CLI takes minutes where others take seconds).
	Slow bool

	// command prepares the run (databases, config) and returns the command to measure.
	command func(ctx context.Context, r *Run) (*exec.Cmd, error)
	// check verifies client-side results after a successful run (flags set, report counts).
	check func(ctx context.Context, r *Run) error
}

// clientEnv is the environment every client runs with: the harness's own, minus anything that
// would point a tool at a user's configuration or credentials, plus the run's keys.
func clientEnv(r *Run, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "AWS_") && name != "AWS_CA_BUNDLE" || strings.HasPrefix(name, "RCLONE_") || name == "HOME" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"HOME="+r.Dir,
		"AWS_ACCESS_KEY_ID="+r.Setting.AccessKey,
		"AWS_SECRET_ACCESS_KEY="+r.Setting.SecretKey,
		"AWS_REGION="+r.Setting.Region,
		"AWS_DEFAULT_REGION="+r.Setting.Region,
		"AWS_CONFIG_FILE="+filepath.Join(r.Dir, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(r.Dir, "aws-credentials"),
	)
	return append(env, extra...)
}

// UploaderMode is where the uploader takes its work list from.
type UploaderMode string

const (
	Ledger   UploaderMode = "ledger"
	SQLite   UploaderMode = "sqlite"
	Postgres UploaderMode = "postgres"
)

// UploaderClient runs `uploader migrate` in one catalog mode. pg is needed for Postgres mode;
// concurrency 0 keeps the uploader's default; extra flags are appended as given.
func UploaderClient(t toolset.Tool, mode UploaderMode, pg *appdb.Postgres, concurrency int, extra []string) *Client {
	name := "uploader-" + string(mode)
	if concurrency > 0 {
		name += "-c" + strconv.Itoa(concurrency)
	}
	c := &Client{Name: name, Family: "uploader"}
	c.command = func(ctx context.Context, r *Run) (*exec.Cmd, error) {
		tf := filepath.Join(r.Dir, "tf-output.json")
		if err := writeTFOutput(tf, r); err != nil {
			return nil, err
		}
		args := []string{"migrate", "--tf-output", tf, "--source", r.Set.Dir,
			"--report", filepath.Join(r.Dir, "report.json"), "--progress", "never"}
		switch mode {
		case Ledger:
			args = append(args, "--ledger", filepath.Join(r.Dir, "ledger.db"))
		case SQLite:
			tpl, err := appdb.SQLiteTemplate(ctx, r.Set)
			if err != nil {
				return nil, err
			}
			db := filepath.Join(r.Dir, "app.sqlite")
			if err := appdb.CopyFile(tpl, db); err != nil {
				return nil, err
			}
			args = append(args, "--db", "sqlite:"+db)
		case Postgres:
			if err := pg.Reset(ctx, r.Set); err != nil {
				return nil, err
			}
			args = append(args, "--db", pg.DSN())
		}
		if mode != Ledger {
			args = append(args, "--table", appdb.Table, "--path-column", appdb.PathColumn, "--flag-column", appdb.FlagColumn)
		}
		if concurrency > 0 {
			args = append(args, "--concurrency", strconv.Itoa(concurrency))
		}
		args = append(args, extra...)
		cmd := exec.Command(t.Path, args...)
		cmd.Env = clientEnv(r)
		cmd.Dir = r.Dir
		return cmd, nil
	}
	c.check = func(ctx context.Context, r *Run) error {
		if err := checkReport(filepath.Join(r.Dir, "report.json"), len(r.Set.Files)); err != nil {
			return err
		}
		var counts appdb.Counts
		var err error
		switch mode {
		case SQLite:
			counts, err = appdb.SQLiteCounts(ctx, filepath.Join(r.Dir, "app.sqlite"))
		case Postgres:
			counts, err = pg.Counts(ctx)
		default:
			return nil
		}
		if err != nil {
			return err
		}
		return counts.Check(len(r.Set.Files))
	}
	return c
}

// writeTFOutput writes the `terraform output -json` document the uploader reads.
func writeTFOutput(name string, r *Run) error {
	value := map[string]string{
		"bucket":            r.Setting.Bucket,
		"region":            r.Setting.Region,
		"access_key_id":     r.Setting.AccessKey,
		"secret_access_key": r.Setting.SecretKey,
		"endpoint":          r.Setting.Endpoint,
		"key_prefix":        r.Prefix,
	}
	attrs := map[string]string{}
	for k := range value {
		attrs[k] = "string"
	}
	doc := map[string]any{"uploader": map[string]any{
		"sensitive": true,
		"type":      []any{"object", attrs},
		"value":     value,
	}}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(name, b, 0o600)
}

// UploaderReport is the part of the uploader's --report the harness reads.
type UploaderReport struct {
	Uploaded    int64   `json:"uploaded"`
	Flagged     int64   `json:"flagged"`
	AlreadyDone int64   `json:"already_done"`
	Missing     int64   `json:"missing"`
	Invalid     int64   `json:"invalid"`
	Failed      int64   `json:"failed"`
	Bytes       int64   `json:"bytes"`
	Duration    float64 `json:"duration_seconds"`
	DryRun      bool    `json:"dry_run"`
	WouldUpload int64   `json:"would_upload"`
	// WouldUploadBytes is what a dry run would send.
	WouldUploadBytes int64 `json:"would_upload_bytes"`
}

func readReport(name string) (UploaderReport, error) {
	var rep UploaderReport
	b, err := os.ReadFile(name)
	if err != nil {
		return rep, fmt.Errorf("reading the uploader's report: %w", err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		return rep, fmt.Errorf("parsing the uploader's report %s: %w", name, err)
	}
	return rep, nil
}

func checkReport(name string, files int) error {
	rep, err := readReport(name)
	if err != nil {
		return err
	}
	if rep.Uploaded != int64(files) || rep.Flagged != int64(files) || rep.Failed != 0 {
		return fmt.Errorf("the uploader reports %d uploaded, %d flagged and %d failed, want %d, %d and 0",
			rep.Uploaded, rep.Flagged, rep.Failed, files, files)
	}
	return nil
}

// S5cmdClient runs `s5cmd cp dir/ s3://bucket/prefix/` with s5cmd's defaults (256 workers).
func S5cmdClient(t toolset.Tool) *Client {
	return &Client{
		Name: "s5cmd", Family: "s5cmd",
		command: func(_ context.Context, r *Run) (*exec.Cmd, error) {
			cmd := exec.Command(t.Path, "--endpoint-url", r.Setting.Endpoint, "--log", "error",
				"cp", r.Set.Dir+"/", "s3://"+r.Setting.Bucket+"/"+r.Prefix)
			cmd.Env = clientEnv(r)
			cmd.Dir = r.Dir
			return cmd, nil
		},
	}
}

// RcloneTransfers is the parallelism given to rclone, whose default (4) is made for WAN
// links; 32 matches the SDK loop the issue measured.
const RcloneTransfers = 32

// RcloneClient runs `rclone copy` the way a PutObject-only key allows: no listing of the
// destination, no bucket check, no HEAD after upload. AWS_CA_BUNDLE is removed: with it set,
// rclone 1.60 refuses to start (LoadCustomCABundleError: its HTTP transport is not the SDK's).
func RcloneClient(t toolset.Tool) *Client {
	return &Client{
		Name: "rclone", Family: "rclone",
		command: func(_ context.Context, r *Run) (*exec.Cmd, error) {
			cmd := exec.Command(t.Path, "copy", r.Set.Dir, "bench:"+r.Setting.Bucket+"/"+strings.TrimSuffix(r.Prefix, "/"),
				"--no-check-dest", "--s3-no-check-bucket", "--s3-no-head",
				"--transfers", strconv.Itoa(RcloneTransfers), "--checkers", strconv.Itoa(RcloneTransfers), "-q")
			var env []string
			for _, kv := range clientEnv(r,
				"RCLONE_CONFIG="+filepath.Join(r.Dir, "rclone.conf"),
				"RCLONE_CONFIG_BENCH_TYPE=s3",
				"RCLONE_CONFIG_BENCH_PROVIDER=Other",
				"RCLONE_CONFIG_BENCH_ENV_AUTH=false",
				"RCLONE_CONFIG_BENCH_ACCESS_KEY_ID="+r.Setting.AccessKey,
				"RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY="+r.Setting.SecretKey,
				"RCLONE_CONFIG_BENCH_REGION="+r.Setting.Region,
				"RCLONE_CONFIG_BENCH_ENDPOINT="+r.Setting.Endpoint,
				"RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE=true",
			) {
				if !strings.HasPrefix(kv, "AWS_CA_BUNDLE=") {
					env = append(env, kv)
				}
			}
			cmd.Env = env
			cmd.Dir = r.Dir
			return cmd, nil
		},
	}
}

// AWSClient runs `aws s3 cp --recursive` with the CLI's defaults (10 concurrent requests).
func AWSClient(t toolset.Tool) *Client {
	return &Client{
		Name: "aws", Family: "aws", Slow: true,
		command: func(_ context.Context, r *Run) (*exec.Cmd, error) {
			cmd := exec.Command(t.Path, "s3", "cp", r.Set.Dir, "s3://"+r.Setting.Bucket+"/"+r.Prefix, "--recursive",
				"--endpoint-url", r.Setting.Endpoint, "--only-show-errors", "--no-progress")
			cmd.Env = clientEnv(r)
			cmd.Dir = r.Dir
			return cmd, nil
		},
	}
}
