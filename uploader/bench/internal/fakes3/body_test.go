package fakes3

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestChunkedReader covers the aws-chunked shapes the SDK v2 test above does not produce:
// SigV4 streaming with chunk signatures (minio-go, the AWS CLI with streaming on) and several
// chunks, plus broken bodies.
func TestChunkedReader(t *testing.T) {
	const sig = ";chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
	tests := []struct {
		name         string
		body         string
		want         string
		wantTrailers map[string]string
		wantErr      bool
	}{
		{
			name: "signed, two chunks, no trailer",
			body: "5" + sig + "\r\nhello\r\n6" + sig + "\r\n world\r\n0" + sig + "\r\n\r\n",
			want: "hello world",
		},
		{
			name:         "unsigned with checksum trailer",
			body:         "b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n",
			want:         "hello world",
			wantTrailers: map[string]string{"X-Amz-Checksum-Crc32": "DUoRhQ=="},
		},
		{
			name: "signed with trailer and trailer signature",
			body: "b" + sig + "\r\nhello world\r\n0" + sig + "\r\nx-amz-checksum-crc32:DUoRhQ==\r\nx-amz-trailer-signature:abc\r\n\r\n",
			want: "hello world",
			wantTrailers: map[string]string{
				"X-Amz-Checksum-Crc32":    "DUoRhQ==",
				"X-Amz-Trailer-Signature": "abc",
			},
		},
		{name: "ends after the last trailer", body: "1\r\nx\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n", want: "x",
			wantTrailers: map[string]string{"X-Amz-Checksum-Crc32": "AAAAAA=="}},
		{name: "truncated chunk", body: "b\r\nhello", wantErr: true},
		{name: "chunk longer than declared", body: "2\r\nhello\r\n0\r\n\r\n", wantErr: true},
		{name: "bad size", body: "zz\r\nhello\r\n", wantErr: true},
		{name: "no final chunk", body: "5\r\nhello\r\n", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cr := newChunkedReader(strings.NewReader(tc.body))
			got, err := io.ReadAll(cr)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("decoded %q without error, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("decoding: %v", err)
			}
			if string(got) != tc.want {
				t.Errorf("decoded %q, want %q", got, tc.want)
			}
			for k, v := range tc.wantTrailers {
				if cr.trailers.Get(k) != v {
					t.Errorf("trailer %s = %q, want %q", k, cr.trailers.Get(k), v)
				}
			}
			if len(cr.trailers) != len(tc.wantTrailers) {
				t.Errorf("trailers = %v, want %v", cr.trailers, tc.wantTrailers)
			}
		})
	}
}

func TestIsAWSChunked(t *testing.T) {
	tests := []struct {
		header http.Header
		want   bool
	}{
		{http.Header{"Content-Encoding": {"aws-chunked"}}, true},
		{http.Header{"Content-Encoding": {"gzip, aws-chunked"}}, true},
		{http.Header{"X-Amz-Content-Sha256": {"STREAMING-AWS4-HMAC-SHA256-PAYLOAD"}}, true},
		{http.Header{"X-Amz-Content-Sha256": {"UNSIGNED-PAYLOAD"}}, false},
		{http.Header{"Content-Encoding": {"gzip"}}, false},
	}
	for _, tc := range tests {
		if got := isAWSChunked(tc.header); got != tc.want {
			t.Errorf("isAWSChunked(%v) = %v, want %v", tc.header, got, tc.want)
		}
	}
}
