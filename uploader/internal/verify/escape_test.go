package verify

import (
	"net/url"
	"testing"
)

func TestEscapeKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key, want string
	}{
		{"photos/cat.jpg", "photos/cat.jpg"},
		{"sp ace/photo 1.jpg", "sp%20ace/photo%201.jpg"},
		{"a+b/c+d.gif", "a%2Bb/c%2Bd.gif"}, // S3 would read a raw "+" as a space
		{"hash#tag.jpg", "hash%23tag.jpg"},
		{"100%/50%20off.webp", "100%25/50%2520off.webp"},
		{"q?uery&x=y;z.jpg", "q%3Fuery%26x%3Dy%3Bz.jpg"},
		{"ünïcødé/日本語.png", "%C3%BCn%C3%AFc%C3%B8d%C3%A9/%E6%97%A5%E6%9C%AC%E8%AA%9E.png"},
		{"tilde~_-./x", "tilde~_-./x"},
		{"caf\xe9.jpg", "caf%E9.jpg"}, // not UTF-8: the byte is escaped as it is
		{"site/", "site/"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			t.Parallel()
			got := EscapeKey(tt.key)
			if got != tt.want {
				t.Fatalf("EscapeKey(%q) = %q, want %q", tt.key, got, tt.want)
			}
			// What a server decodes is the key again.
			back, err := url.PathUnescape(got)
			if err != nil || back != tt.key {
				t.Errorf("PathUnescape(%q) = %q, %v; want the key back", got, back, err)
			}
		})
	}
}
