package testbed

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// TestFaultProxy checks that each fault looks to an S3 client the way the reliability tests
// assume, with one attempt per request so the client reports the fault itself.
func TestFaultProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO")
	}
	t.Parallel()
	m := StartMinIO(t)
	ctx := context.Background()
	admin := m.Options().S3(m.Config(t))
	if _, err := admin.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bkt")}); err != nil {
		t.Fatal(err)
	}
	p := StartFaultProxy(t, m.Endpoint, 1)
	opts := m.Options()
	opts.Endpoints.S3 = p.URL
	opts.MaxRetries = 1
	client := opts.S3(loadConfig(t, "proxy", opts), func(o *s3.Options) {
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	})
	put := func(key string) error {
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		_, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String(key), Body: strings.NewReader("0123456789")})
		return err
	}
	exists := func(key string) bool {
		_, err := admin.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String(key)})
		return err == nil
	}

	tests := []struct {
		name      string
		faults    Faults
		wantErr   func(error) bool
		wantObj   bool
		wantFault string
	}{
		{"none", Faults{}, func(err error) bool { return err == nil }, true, FaultNone},
		{"slowdown", Faults{SlowDown: 1}, func(err error) bool {
			var apiErr smithy.APIError
			return errors.As(err, &apiErr) && apiErr.ErrorCode() == "SlowDown"
		}, false, FaultSlowDown},
		{"error reply", Faults{Error: 1, Reply: S3Error{Status: 403, Code: "AccessDenied", Message: "Access Denied"}}, func(err error) bool {
			var apiErr smithy.APIError
			return errors.As(err, &apiErr) && apiErr.ErrorCode() == "AccessDenied" && apiErr.ErrorMessage() == "Access Denied"
		}, false, FaultError},
		{"drop before forward", Faults{DropBeforeForward: 1}, isSendError, false, FaultDropBeforeForward},
		{"drop mid-request", Faults{DropMidRequest: 1}, isSendError, false, FaultDropMidRequest},
		// The engine stored the object; the client cannot know.
		{"drop mid-response", Faults{DropMidResponse: 1}, isSendError, true, FaultDropMidResponse},
		{"stall", Faults{Stall: 1}, func(err error) bool { return errors.Is(err, context.DeadlineExceeded) }, false, FaultStall},
		{"not matched", Faults{SlowDown: 1, Match: func(r *http.Request) bool { return r.Method == http.MethodGet }}, func(err error) bool { return err == nil }, true, FaultNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p.SetFaults(tt.faults)
			key := strings.ReplaceAll(tt.name, " ", "-")
			err := put(key)
			if !tt.wantErr(err) {
				t.Errorf("PutObject error = %v", err)
			}
			if got := exists(key); got != tt.wantObj {
				t.Errorf("object stored = %v, want %v", got, tt.wantObj)
			}
			ex := p.Exchanges()
			// A stalled exchange is recorded once the server sees the client hang up.
			_ = WaitFor(ctx, func() bool { ex = p.Exchanges(); return len(ex) > 0 && ex[len(ex)-1].Path == "/bkt/"+key })
			if last := ex[len(ex)-1]; last.Fault != tt.wantFault {
				t.Errorf("recorded fault = %q, want %q", last.Fault, tt.wantFault)
			}
		})
	}

	t.Run("rate limit", func(t *testing.T) {
		p.SetFaults(Faults{RateLimit: 20})
		start := time.Now()
		var ok, throttled int
		for time.Since(start) < time.Second {
			if err := put("rate"); err == nil {
				ok++
			} else {
				throttled++
			}
		}
		// 20/s with a burst of 2: about 22 in the first second.
		if ok < 15 || ok > 30 || throttled == 0 {
			t.Errorf("in 1 s at 20/s: %d accepted, %d throttled", ok, throttled)
		}
	})
}

// isSendError reports a request the client could not complete (no usable answer).
func isSendError(err error) bool {
	var send *smithyhttp.RequestSendError
	return errors.As(err, &send)
}

// TestFaultProxySchedule checks that the shares are realized exactly in every block of
// FaultBlock matching requests, whatever the seed, so tests asserting that each fault
// happened cannot fail on an unlucky draw; and that requests Match rejects never count.
func TestFaultProxySchedule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		faults Faults
		want   map[string]int // per block
	}{
		{"mixed", Faults{SlowDown: 0.10, DropBeforeForward: 0.03, DropMidRequest: 0.03, DropMidResponse: 0.03, Stall: 0.02},
			map[string]int{FaultNone: 79, FaultSlowDown: 10, FaultDropBeforeForward: 3, FaultDropMidRequest: 3, FaultDropMidResponse: 3, FaultStall: 2}},
		{"all", Faults{SlowDown: 1}, map[string]int{FaultSlowDown: 100}},
		{"none", Faults{}, map[string]int{FaultNone: 100}},
		{"thirds add up to one", Faults{SlowDown: 1.0 / 3, DropMidRequest: 1.0 / 3, Stall: 1.0 / 3},
			map[string]int{FaultNone: 1, FaultSlowDown: 33, FaultDropMidRequest: 33, FaultStall: 33}},
	}
	put := httptest.NewRequest(http.MethodPut, "/bkt/key", nil)
	get := httptest.NewRequest(http.MethodGet, "/bkt/key", nil)
	for _, tt := range tests {
		for seed := uint64(1); seed <= 5; seed++ {
			p := StartFaultProxy(t, "http://127.0.0.1:1", seed)
			p.SetFaults(tt.faults)
			for block := range 3 {
				got := map[string]int{}
				for i := range FaultBlock {
					if i%7 == 0 { // interleaved requests the faults do not apply to
						if f, _, _ := p.decide(get); f != FaultNone {
							t.Fatalf("%s: a GET got fault %q", tt.name, f)
						}
					}
					f, _, _ := p.decide(put)
					got[f]++
				}
				if !maps.Equal(got, tt.want) {
					t.Errorf("%s, seed %d, block %d: faults %v, want %v", tt.name, seed, block, got, tt.want)
				}
			}
		}
	}
}

func TestFaultProxySetFaultsRejectsBadShares(t *testing.T) {
	t.Parallel()
	p := StartFaultProxy(t, "http://127.0.0.1:1", 1)
	for _, f := range []Faults{{SlowDown: 0.6, Stall: 0.5}, {DropMidResponse: -0.1}, {Stall: 1.5}, {SlowDown: 0.001}, {Error: 1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("SetFaults(%+v) accepted shares it cannot realize", f)
				}
			}()
			p.SetFaults(f)
		}()
	}
}
