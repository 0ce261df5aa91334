package fakes3

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"hash/crc32"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/staticmedia/staticmedia/internal/awsconfig"
)

const testBucket = "bench"

// client returns a real SDK v2 S3 client for endpoint, built like the uploader builds its own.
func client(t *testing.T, endpoint string, optFns ...func(*s3.Options)) *s3.Client {
	t.Helper()
	o := awsconfig.Options{
		Region:     "us-east-1",
		AccessKey:  "AKIAFAKES3BENCH",
		SecretKey:  "not-checked-by-fakes3",
		Endpoints:  awsconfig.Endpoints{S3: endpoint},
		MaxRetries: 1, // a retry would hide a wrong answer
	}
	cfg, err := awsconfig.Load(context.Background(), o)
	if err != nil {
		t.Fatalf("loading AWS config: %v", err)
	}
	return o.S3(cfg, optFns...)
}

// startHTTP serves a Server over plain HTTP, where the SDK signs the payload hash and sends
// checksums as headers.
func startHTTP(t *testing.T, o Options) (*Running, *s3.Client) {
	t.Helper()
	r, err := Start(o, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close(context.Background()) })
	return r, client(t, r.URL)
}

// startHTTPS serves a Server over TLS, where the SDK streams bodies aws-chunked with the
// checksum in a trailer. The test certificate is handed to the SDK through AWS_CA_BUNDLE, the
// way users point it at a private CA.
func startHTTPS(t *testing.T, o Options) (*Server, *s3.Client) {
	t.Helper()
	s := New(o)
	ts := httptest.NewUnstartedServer(s)
	ts.StartTLS()
	t.Cleanup(ts.Close)
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})
	if err := os.WriteFile(bundle, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CA_BUNDLE", bundle)
	return s, client(t, ts.URL)
}

// start serves a Server over HTTPS (aws-chunked bodies) or plain HTTP.
func start(t *testing.T, o Options, https bool) (*Server, *s3.Client) {
	t.Helper()
	if https {
		return startHTTPS(t, o)
	}
	r, c := startHTTP(t, o)
	return r.Server, c
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func md5Hex(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }
func md5B64(b []byte) string { s := md5.Sum(b); return base64.StdEncoding.EncodeToString(s[:]) }

// crc32hex is the big-endian CRC32 of b, base64-encoded, as S3 prints it.
func crc32hex(b []byte) string {
	v := crc32.ChecksumIEEE(b)
	return base64.StdEncoding.EncodeToString([]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestPutObject(t *testing.T) {
	body := randomBytes(85<<10, 1)
	tests := []struct {
		name     string
		https    bool
		input    func(*s3.PutObjectInput)
		opts     func(*s3.Options)
		wantCode string // "" = success
		wantCRC  bool   // the answer carries x-amz-checksum-crc32
	}{
		{name: "http default checksum", wantCRC: true},
		{name: "http content-md5", input: func(in *s3.PutObjectInput) { in.ContentMD5 = aws.String(md5B64(body)) }, wantCRC: true},
		{
			name:     "http wrong content-md5",
			input:    func(in *s3.PutObjectInput) { in.ContentMD5 = aws.String(md5B64([]byte("other"))) },
			wantCode: "BadDigest",
		},
		{
			name:  "http no checksum at all",
			opts:  func(o *s3.Options) { o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired },
			input: func(in *s3.PutObjectInput) {},
		},
		{
			name:     "http wrong crc32",
			input:    func(in *s3.PutObjectInput) { in.ChecksumCRC32 = aws.String(crc32hex([]byte("other"))) },
			wantCode: "BadDigest",
		},
		{name: "https aws-chunked crc32 trailer", https: true, wantCRC: true},
		{
			name:  "https aws-chunked sha256 trailer",
			https: true,
			input: func(in *s3.PutObjectInput) { in.ChecksumAlgorithm = types.ChecksumAlgorithmSha256 },
		},
		{
			name:  "https aws-chunked crc64nvme trailer with content-md5",
			https: true,
			input: func(in *s3.PutObjectInput) {
				in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc64nvme
				in.ContentMD5 = aws.String(md5B64(body))
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, c := start(t, Options{Bucket: testBucket, RecordKeys: true}, tc.https)
			if tc.opts != nil {
				c = s3.New(c.Options(), tc.opts)
			}
			in := &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("a/b c/été+1.jpg"), Body: bytes.NewReader(body)}
			if tc.input != nil {
				tc.input(in)
			}
			out, err := c.PutObject(context.Background(), in)
			if tc.wantCode != "" {
				if got := apiCode(err); got != tc.wantCode {
					t.Fatalf("PutObject error code = %q (%v), want %q", got, err, tc.wantCode)
				}
				if got := s.Stats().Objects; got != 0 {
					t.Fatalf("a rejected upload was counted: Objects = %d", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("PutObject: %v", err)
			}
			if got, want := aws.ToString(out.ETag), `"`+md5Hex(body)+`"`; got != want {
				t.Errorf("ETag = %s, want %s", got, want)
			}
			if tc.wantCRC {
				if got, want := aws.ToString(out.ChecksumCRC32), crc32hex(body); got != want {
					t.Errorf("ChecksumCRC32 = %q, want %q", got, want)
				}
			}
			if st := s.Stats(); st.Objects != 1 || st.Bytes != int64(len(body)) || st.Errors != 0 {
				t.Errorf("stats = %+v, want 1 object of %d bytes and no errors", st, len(body))
			}
			got := s.TakeObjects()
			if size, ok := got["a/b c/été+1.jpg"]; !ok || size != int64(len(body)) || len(got) != 1 {
				t.Errorf("stored objects = %v, want exactly the key with %d bytes", got, len(body))
			}
		})
	}
}

func TestListBuckets(t *testing.T) {
	_, c := startHTTP(t, Options{Bucket: testBucket})
	out, err := c.ListBuckets(context.Background(), &s3.ListBucketsInput{})
	if err != nil {
		t.Fatalf("ListBuckets: %v", err)
	}
	if len(out.Buckets) != 1 || aws.ToString(out.Buckets[0].Name) != testBucket {
		t.Fatalf("ListBuckets = %+v, want only %q", out.Buckets, testBucket)
	}
}

func TestOtherBucketIsMissing(t *testing.T) {
	_, c := startHTTP(t, Options{Bucket: testBucket})
	_, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("other"), Key: aws.String("k"), Body: bytes.NewReader([]byte("x"))})
	if got := apiCode(err); got != "NoSuchBucket" {
		t.Fatalf("error code = %q (%v), want NoSuchBucket", got, err)
	}
}

func TestMultipart(t *testing.T) {
	part1 := randomBytes(minPartSize, 2)
	part2 := randomBytes(1000, 3)
	tests := []struct {
		name     string
		https    bool
		parts    [][]byte
		wantCode string
	}{
		{name: "http", parts: [][]byte{part1, part2}},
		{name: "https aws-chunked", https: true, parts: [][]byte{part1, part2}},
		{name: "small first part", parts: [][]byte{part2, part1}, wantCode: "EntityTooSmall"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, c := start(t, Options{Bucket: testBucket, RecordKeys: true}, tc.https)
			ctx := context.Background()
			key := aws.String("video/clip 1.mp4")
			created, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
				Bucket: aws.String(testBucket), Key: key, ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
			})
			if err != nil {
				t.Fatalf("CreateMultipartUpload: %v", err)
			}
			var done []types.CompletedPart
			var md5s, crcs []byte
			var total int64
			for i, p := range tc.parts {
				out, err := c.UploadPart(ctx, &s3.UploadPartInput{
					Bucket: aws.String(testBucket), Key: key, UploadId: created.UploadId,
					PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
				})
				if err != nil {
					t.Fatalf("UploadPart %d: %v", i+1, err)
				}
				if got, want := aws.ToString(out.ETag), `"`+md5Hex(p)+`"`; got != want {
					t.Fatalf("part %d ETag = %s, want %s", i+1, got, want)
				}
				done = append(done, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32})
				m := md5.Sum(p)
				md5s = append(md5s, m[:]...)
				v := crc32.ChecksumIEEE(p)
				crcs = append(crcs, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
				total += int64(len(p))
			}
			out, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
				Bucket: aws.String(testBucket), Key: key, UploadId: created.UploadId,
				MultipartUpload: &types.CompletedMultipartUpload{Parts: done},
			})
			if tc.wantCode != "" {
				if got := apiCode(err); got != tc.wantCode {
					t.Fatalf("CompleteMultipartUpload error code = %q (%v), want %q", got, err, tc.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatalf("CompleteMultipartUpload: %v", err)
			}
			if got, want := aws.ToString(out.ETag), `"`+md5Hex(md5s)+`-2"`; got != want {
				t.Errorf("ETag = %s, want %s", got, want)
			}
			if got, want := aws.ToString(out.ChecksumCRC32), crc32hex(crcs)+"-2"; got != want {
				t.Errorf("composite ChecksumCRC32 = %s, want %s", got, want)
			}
			if got := s.TakeObjects(); got["video/clip 1.mp4"] != total {
				t.Errorf("stored objects = %v, want the key with %d bytes", got, total)
			}
			if st := s.Stats(); st.Parts != 2 || st.Objects != 1 {
				t.Errorf("stats = %+v, want 2 parts and 1 object", st)
			}
		})
	}
}

func TestLatency(t *testing.T) {
	_, c := startHTTP(t, Options{Bucket: testBucket, Latency: 30 * time.Millisecond})
	start := time.Now()
	_, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("k"), Body: bytes.NewReader([]byte("x"))})
	if err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Fatalf("PutObject took %v, want at least the 30ms latency", d)
	}
}

// TestSlowEveryAndStoreCounts: every SlowEvery-th PUT waits SlowDelay (a lower bound only, as
// in TestLatency), and the store counts tell a key uploaded twice.
func TestSlowEveryAndStoreCounts(t *testing.T) {
	r, c := startHTTP(t, Options{Bucket: testBucket, RecordKeys: true, SlowEvery: 3, SlowDelay: 200 * time.Millisecond})
	put := func(key string) time.Duration {
		t.Helper()
		start := time.Now()
		if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key), Body: bytes.NewReader([]byte("x"))}); err != nil {
			t.Fatalf("PutObject: %v", err)
		}
		return time.Since(start)
	}
	put("a")
	put("b")
	if d := put("a"); d < 200*time.Millisecond {
		t.Errorf("the third PUT took %v, want at least the 200ms slow delay", d)
	}
	counts := r.TakeStoreCounts()
	if counts["a"] != 2 || counts["b"] != 1 || len(counts) != 2 {
		t.Errorf("store counts = %v, want a:2 b:1", counts)
	}
	if again := r.TakeStoreCounts(); len(again) != 0 {
		t.Errorf("store counts after taking them = %v, want none", again)
	}
}
