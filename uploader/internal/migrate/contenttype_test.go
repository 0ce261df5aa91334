package migrate

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestContentFor(t *testing.T) {
	t.Parallel()
	html := []byte("<!DOCTYPE html><html><script>alert(document.cookie)</script></html>")
	jpeg := []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00")
	tests := []struct {
		key     string
		head    []byte
		mode    string
		want    contentHeaders
		invalid bool
	}{
		{key: "a.jpg", mode: ActiveAttachment, want: contentHeaders{Type: "image/jpeg"}},
		{key: "A.JPEG", mode: ActiveRefuse, want: contentHeaders{Type: "image/jpeg"}},
		{key: "p.heic", mode: ActiveAttachment, want: contentHeaders{Type: "image/heic"}},
		{key: "p.avif", mode: ActiveAttachment, want: contentHeaders{Type: "image/avif"}},
		{key: "v.mov", mode: ActiveAttachment, want: contentHeaders{Type: "video/quicktime"}},
		{key: "d.pdf", mode: ActiveAttachment, want: contentHeaders{Type: "application/pdf"}},
		// The extension decides, not the bytes: HTML in a .jpg is served as an image.
		{key: "x.jpg", head: html, mode: ActiveAllow, want: contentHeaders{Type: "image/jpeg"}},
		{key: "logo.svg", mode: ActiveAttachment, want: contentHeaders{Type: "image/svg+xml", Disposition: "attachment"}},
		{key: "logo.svg", mode: ActiveAllow, want: contentHeaders{Type: "image/svg+xml"}},
		{key: "logo.svg", mode: ActiveRefuse, invalid: true},
		{key: "logo.SVGZ", mode: ActiveAttachment, want: contentHeaders{Type: "image/svg+xml", Disposition: "attachment", Encoding: "gzip"}},
		{key: "logo.svgz", mode: ActiveAllow, want: contentHeaders{Type: "image/svg+xml", Encoding: "gzip"}},
		{key: "x.svg.jpg", mode: ActiveRefuse, want: contentHeaders{Type: "image/jpeg"}},
		{key: "x.jpg.svg", mode: ActiveRefuse, invalid: true},
		{key: "page.html", mode: ActiveAttachment, want: contentHeaders{Type: "text/html", Disposition: "attachment"}},
		{key: "app.js", mode: ActiveAttachment, want: contentHeaders{Type: "text/javascript", Disposition: "attachment"}},
		{key: "feed.xml", mode: ActiveRefuse, invalid: true},
		// Without an extension, sniffing may find an image, never an active type.
		{key: "upload", head: jpeg, mode: ActiveRefuse, want: contentHeaders{Type: "image/jpeg"}},
		{key: "upload", head: html, mode: ActiveAttachment, want: contentHeaders{Type: "application/octet-stream", Disposition: "attachment"}},
		{key: "upload", head: html, mode: ActiveAllow, want: contentHeaders{Type: "application/octet-stream"}},
		{key: "upload", head: html, mode: ActiveRefuse, invalid: true},
		{key: "notes.txt", head: []byte("hello"), mode: ActiveAttachment, want: contentHeaders{Type: "application/octet-stream", Disposition: "attachment"}},
	}
	for _, tt := range tests {
		got, err := contentFor(tt.key, tt.head, tt.mode)
		if tt.invalid {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("contentFor(%q, %s) = %+v, %v; want ErrInvalid", tt.key, tt.mode, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("contentFor(%q, %s) = %+v, %v; want %+v", tt.key, tt.mode, got, err, tt.want)
		}
	}
}

// TestRunContentHeadersMinIO reads back what MinIO stored: images and media with their type
// from the built-in table (a .heic too, whatever the host's MIME database says), and active
// content as an attachment, or refused as invalid.
func TestRunContentHeadersMinIO(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO")
	}
	const bucket = "media"
	up, admin := minioBucket(t, bucket)
	files := map[string][]byte{
		"logo.svg":   []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`),
		"upload":     []byte("<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"),
		"photo.heic": randomBytes(t, 300),
		"photo.jpg":  randomBytes(t, 300),
		"logo.svgz":  randomBytes(t, 300),
	}
	type stored struct{ typ, disposition, encoding string }
	tests := []struct {
		mode    string
		want    map[string]stored
		invalid []string
	}{
		{mode: "", want: map[string]stored{ // the default: attachment
			"logo.svg": {"image/svg+xml", "attachment", ""}, "upload": {"application/octet-stream", "attachment", ""},
			"photo.heic": {"image/heic", "", ""}, "photo.jpg": {"image/jpeg", "", ""},
			"logo.svgz": {"image/svg+xml", "attachment", "gzip"},
		}},
		{mode: ActiveRefuse, want: map[string]stored{
			"photo.heic": {"image/heic", "", ""}, "photo.jpg": {"image/jpeg", "", ""},
		}, invalid: []string{"logo.svg", "upload", "logo.svgz"}},
		{mode: ActiveAllow, want: map[string]stored{
			"logo.svg": {"image/svg+xml", "", ""}, "upload": {"application/octet-stream", "", ""},
			"photo.heic": {"image/heic", "", ""}, "photo.jpg": {"image/jpeg", "", ""},
			"logo.svgz": {"image/svg+xml", "", "gzip"},
		}},
	}
	for _, tt := range tests {
		prefix := tt.mode + "/"
		if tt.mode == "" {
			prefix = "default/"
		}
		cat := newMemCatalog("logo.svg", "upload", "photo.heic", "photo.jpg", "logo.svgz")
		rep, err := Run(context.Background(), Config{Bucket: bucket, Source: tree(t, files), KeyPrefix: prefix, ActiveContent: tt.mode},
			Deps{S3: up, Catalog: cat})
		if err != nil {
			t.Fatalf("mode %q: Run: %v", tt.mode, err)
		}
		if rep.Uploaded != int64(len(tt.want)) || rep.Invalid != int64(len(tt.invalid)) || rep.Flagged != rep.Uploaded {
			t.Fatalf("mode %q: report %s", tt.mode, brief(rep))
		}
		for name, w := range tt.want {
			_, out := getObject(t, admin, bucket, prefix+name)
			if got := (stored{aws.ToString(out.ContentType), aws.ToString(out.ContentDisposition), aws.ToString(out.ContentEncoding)}); got != w {
				t.Errorf("mode %q: %s stored as %+v, want %+v", tt.mode, name, got, w)
			}
		}
		done := cat.doneKeys()
		for _, name := range tt.invalid {
			if _, ok := done[name]; ok || objectExists(t, admin, bucket, prefix+name) {
				t.Errorf("mode %q: %s was uploaded or flagged, want it refused", tt.mode, name)
			}
		}
		for _, e := range rep.Errors {
			if e.Kind != KindInvalid || e.Op != "content-type" {
				t.Errorf("mode %q: report error %+v, want an invalid content-type", tt.mode, e)
			}
		}
	}
}
