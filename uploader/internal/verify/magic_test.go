package verify

import (
	"strings"
	"testing"
)

func TestMagicProblem(t *testing.T) {
	t.Parallel()
	avif := func(major string, compatible ...string) string {
		body := major + "\x00\x00\x00\x00" + strings.Join(compatible, "")
		n := 8 + len(body)
		return string([]byte{0, 0, 0, byte(n)}) + "ftyp" + body + "\x00\x00\x00\x20meta"
	}
	tests := []struct {
		contentType, head string
		// want is in the problem; empty means no problem.
		want string
	}{
		{"image/jpeg", "\xFF\xD8\xFF\xE0\x00\x10JFIF", ""},
		{"image/jpeg", "\xFF\xD8\xFF\xDB", ""},
		{"IMAGE/JPEG; q=1", "\xFF\xD8\xFF\xE1", ""},
		{"image/jpeg", "\xFF\xD8\x00", "not with the JPEG signature FF D8 FF"},
		{"image/png", "\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR", ""},
		{"image/png", "\x89PNG\r\n", "start with 89 50 4E 47 0D 0A, not with the PNG signature"},
		{"image/png", "<?xml version=\"1.0\"?><svg>", "they look like markup (HTML, XML or SVG)"},
		{"image/gif", "GIF87a....", ""},
		{"image/gif", "GIF89a....", ""},
		{"image/gif", "GIF90a....", "GIF"},
		{"image/webp", "RIFF\x24\x00\x00\x00WEBPVP8 ", ""},
		{"image/webp", "RIFF\x24\x00\x00\x00WAVEfmt ", "WebP"},
		{"image/webp", "RIFF", "WebP"},
		{"image/avif", avif("avif", "mif1", "miaf"), ""},
		{"image/avif", avif("avis", "msf1"), ""},
		{"image/avif", avif("mif1", "avif", "miaf"), ""},
		{"image/avif", avif("heic", "mif1", "heic"), "not with the AVIF signature"},
		{"image/avif", "\x00\x00\x00\x0cftypavif", "AVIF"},    // a box too short for a brand list
		{"image/avif", avif("isom", "iso2") + "avif", "AVIF"}, // "avif" after the box is not a brand
		{"image/png", "", "its bytes are empty"},
		{"image/png", "\xFF\xD8\xFF\xE0", "they look like a JPEG image"},
		{"image/jpeg", "%PDF-1.7", "they look like application/pdf"},
		// Types that are not checked.
		{"image/svg+xml", "<svg>", ""},
		{"application/octet-stream", "anything", ""},
		{"text/plain", "", ""},
		{"", "", ""},
		{"not a type;;", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.contentType+" "+tt.head, func(t *testing.T) {
			t.Parallel()
			got := MagicProblem(tt.contentType, []byte(tt.head))
			if (got == "") != (tt.want == "") || !strings.Contains(got, tt.want) {
				t.Errorf("MagicProblem(%q, % X) = %q, want %q", tt.contentType, tt.head, got, tt.want)
			}
		})
	}
}

func TestHeadWriter(t *testing.T) {
	t.Parallel()
	var w headWriter
	for range 10 {
		if n, err := w.Write([]byte(strings.Repeat("ab", 5))); n != 10 || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if len(w.b) != MagicBytes || string(w.b[:4]) != "abab" {
		t.Errorf("kept %d bytes %q, want the first %d", len(w.b), w.b, MagicBytes)
	}
}

// TestMagicProblemMalformedParameters checks a copy whose Content-Type has parameters
// mime.ParseMediaType refuses: browsers still take the type before the ';' and show the bytes as
// that image type, so the type check must not be skipped.
func TestMagicProblemMalformedParameters(t *testing.T) {
	t.Parallel()
	for _, ct := range []string{"image/png; charset", "image/png;;", "image/png; a=1; a=2", "Image/PNG ;x"} {
		if got := MagicProblem(ct, []byte("<html><script>alert(1)</script>")); !strings.Contains(got, "served as image/png") {
			t.Errorf("MagicProblem(%q, markup) = %q, want the PNG type problem", ct, got)
		}
		if got := MagicProblem(ct, []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR")); got != "" {
			t.Errorf("MagicProblem(%q, a PNG) = %q, want none", ct, got)
		}
	}
}
