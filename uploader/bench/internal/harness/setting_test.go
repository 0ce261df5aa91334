package harness

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/staticmedia/staticmedia/uploader/bench/internal/corpus"
	"github.com/staticmedia/staticmedia/uploader/bench/internal/fakes3"
)

// TestVerify checks that a run is accepted only when it stored exactly the set's files, with
// their sizes, under its prefix.
func TestVerify(t *testing.T) {
	set := &corpus.Set{Files: []corpus.File{{Path: "a/1.jpg", Size: 3}, {Path: "a/b c/2.jpg", Size: 5}}}
	tests := []struct {
		name    string
		puts    map[string]string // key -> body
		wantErr string
	}{
		{name: "exact", puts: map[string]string{"p/a/1.jpg": "xxx", "p/a/b c/2.jpg": "yyyyy"}},
		{name: "missing file", puts: map[string]string{"p/a/1.jpg": "xxx"}, wantErr: "1 files missing (a/b c/2.jpg)"},
		{name: "truncated", puts: map[string]string{"p/a/1.jpg": "xx", "p/a/b c/2.jpg": "yyyyy"}, wantErr: "1 with a wrong size"},
		{name: "flattened keys", puts: map[string]string{"p/1.jpg": "xxx", "p/a/b c/2.jpg": "yyyyy"}, wantErr: "1 unexpected keys (p/1.jpg)"},
		{name: "wrong prefix", puts: map[string]string{"q/a/1.jpg": "xxx", "q/a/b c/2.jpg": "yyyyy"}, wantErr: "2 files missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := fakes3.Start(fakes3.Options{Bucket: "bench", RecordKeys: true}, "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close(context.Background())
			s := FakeS3Setting("fakes3", "", srv, "bench")
			s.store.begin()
			for k, body := range tc.puts {
				req, _ := http.NewRequest(http.MethodPut, srv.URL+"/bench/"+k, bytes.NewReader([]byte(body)))
				resp, err := http.DefaultClient.Do(req)
				if err != nil || resp.StatusCode != http.StatusOK {
					t.Fatalf("PUT %s: %v %v", k, err, resp)
				}
				resp.Body.Close()
			}
			err = s.verify(context.Background(), "p/", set)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("verify: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("verify error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestClientEnvKeepsOnlyTheRunsCredentials(t *testing.T) {
	t.Setenv("AWS_PROFILE", "someone")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "leaked")
	t.Setenv("AWS_CA_BUNDLE", "/etc/ca.pem")
	t.Setenv("RCLONE_CONFIG_OTHER_TYPE", "s3")
	r := &Run{Dir: "/tmp/run", Setting: &Setting{AccessKey: "AK", SecretKey: "SK", Region: "us-east-1"}}
	env := strings.Join(clientEnv(r), "\n") + "\n"
	for _, want := range []string{"AWS_ACCESS_KEY_ID=AK\n", "AWS_SECRET_ACCESS_KEY=SK\n", "AWS_CA_BUNDLE=/etc/ca.pem\n", "HOME=/tmp/run\n"} {
		if !strings.Contains(env, want) {
			t.Errorf("env lacks %q", want)
		}
	}
	for _, bad := range []string{"AWS_PROFILE=", "leaked", "RCLONE_CONFIG_OTHER_TYPE"} {
		if strings.Contains(env, bad) {
			t.Errorf("env keeps %q from the harness's environment", bad)
		}
	}
}
