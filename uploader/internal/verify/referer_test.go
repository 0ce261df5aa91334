package verify

import (
	"strings"
	"testing"
)

func TestRefererFromPattern(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, want, wantErr string
	}{
		// What the provider's allowed_domains expand to, in order: the first is what verify uses.
		{pattern: "http://example.com/*", want: "http://example.com/"},
		{pattern: "https://*.example.com/*", want: "https://www.example.com/"},
		// The seed's patterns.
		{pattern: "http://*.example.com/*", want: "http://www.example.com/"},
		{pattern: "https://example.com/gallery/*", want: "https://example.com/gallery/"},
		{pattern: "https://example.com/page?.html", want: "https://example.com/pagea.html"},
		{pattern: "https://img*.example.com/*", want: "https://img.example.com/"},
		{pattern: "HTTPS://example.com:8443/*", want: "https://example.com:8443/"},
		{pattern: "https://example.com", want: "https://example.com"},
		{pattern: "*.example.com/*", wantErr: "does not start with http:// or https://"},
		{pattern: "ftp://example.com/*", wantErr: "does not start with http:// or https://"},
		{pattern: "https://*/*", want: "https://www/"},
		{pattern: "https://**.example.com/*", want: "https://www.example.com/"},
		{pattern: "https://example..com/*", wantErr: "empty label"},
		{pattern: "https://*", want: "https://www"},
		{pattern: "https:///x", wantErr: "empty label"},
	}
	for _, tt := range tests {
		got, err := RefererFromPattern(tt.pattern)
		switch {
		case tt.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "pass --referer URL") {
				t.Errorf("RefererFromPattern(%q) = %q, %v; want an error with %q that names --referer", tt.pattern, got, err, tt.wantErr)
			}
		case err != nil || got != tt.want:
			t.Errorf("RefererFromPattern(%q) = %q, %v; want %q", tt.pattern, got, err, tt.want)
		}
	}
}
