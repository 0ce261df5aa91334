package migrate

import (
	"fmt"
	"net/http"
	"path"
	"strings"
)

// How active content (a type a browser runs script in, or one the uploader does not know) is
// stored: Config.ActiveContent.
const (
	// ActiveAttachment stores it with Content-Disposition: attachment. An <img> (or <video>)
	// ignores the header, so an SVG still shows in a page; opening the object's URL downloads
	// it instead of running its script on the bucket's origin.
	ActiveAttachment = "attachment"
	// ActiveRefuse reports the file as invalid and uploads nothing.
	ActiveRefuse = "refuse"
	// ActiveAllow stores it inline, for a bucket that serves nothing but trusted files.
	ActiveAllow = "allow"
)

// ActiveContentModes lists Config.ActiveContent's values, the default first.
var ActiveContentModes = []string{ActiveAttachment, ActiveRefuse, ActiveAllow}

// passiveTypes are the image and media types by extension: a browser displays or plays them and
// runs no script in them. The table is built in, so a key's type never depends on the host's
// MIME database (a distroless image has none, and Debian's differs from Alpine's).
var passiveTypes = map[string]string{
	".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".jpe": "image/jpeg", ".jfif": "image/jpeg",
	".png": "image/png", ".apng": "image/apng", ".gif": "image/gif", ".webp": "image/webp",
	".avif": "image/avif", ".heic": "image/heic", ".heif": "image/heif", ".jxl": "image/jxl",
	".bmp": "image/bmp", ".ico": "image/vnd.microsoft.icon", ".tif": "image/tiff", ".tiff": "image/tiff",
	".mp4": "video/mp4", ".m4v": "video/mp4", ".webm": "video/webm", ".mov": "video/quicktime",
	".ogv": "video/ogg", ".mkv": "video/x-matroska", ".avi": "video/x-msvideo", ".mpg": "video/mpeg",
	".mpeg": "video/mpeg", ".3gp": "video/3gpp",
	".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".aac": "audio/aac", ".ogg": "audio/ogg", ".oga": "audio/ogg",
	".opus": "audio/ogg", ".wav": "audio/wav", ".flac": "audio/flac", ".weba": "audio/webm",
	// A PDF's script runs in the viewer's sandbox, not on the bucket's origin.
	".pdf": "application/pdf",
}

// activeTypes are the known types a browser runs script in when the URL is opened. They keep
// their type (an <img src="x.svg"> needs image/svg+xml) and, by default, go up as attachments.
var activeTypes = map[string]string{
	".svg": "image/svg+xml", ".svgz": "image/svg+xml",
	".html": "text/html", ".htm": "text/html", ".xhtml": "application/xhtml+xml", ".shtml": "text/html",
	".xml": "application/xml", ".xsl": "application/xml", ".xslt": "application/xml",
	".js": "text/javascript", ".mjs": "text/javascript",
}

// sniffedPassive are the types http.DetectContentType can answer that are passive: sniffing
// names only these, never an active type.
var sniffedPassive = func() map[string]bool {
	m := map[string]bool{}
	for _, t := range passiveTypes {
		m[t] = true
	}
	// DetectContentType's spellings that differ from the table's.
	for _, t := range []string{"image/x-icon", "audio/wave", "audio/aiff", "audio/basic", "audio/midi", "video/avi"} {
		m[t] = true
	}
	return m
}()

// contentHeaders is what a file is stored with.
type contentHeaders struct {
	Type        string
	Disposition string // "" or "attachment"
	Encoding    string // "" or "gzip" (.svgz)
}

// contentFor decides the headers of key from its extension (case-insensitive), or, for an
// unknown extension, from head (the file's first bytes) when they sniff to a passive type.
// Anything else is active and is handled by mode: the error, for ActiveRefuse, wraps ErrInvalid.
func contentFor(key string, head []byte, mode string) (contentHeaders, error) {
	ext := strings.ToLower(path.Ext(key))
	if t, ok := passiveTypes[ext]; ok {
		return contentHeaders{Type: t}, nil
	}
	t, known := activeTypes[ext]
	enc := ""
	if ext == ".svgz" {
		// A gzipped SVG: without Content-Encoding a browser gets gzip bytes it cannot render.
		enc = "gzip"
	}
	if !known {
		// An unknown extension: the bytes may still be an image (an extensionless upload).
		if s, _, _ := strings.Cut(http.DetectContentType(head), ";"); sniffedPassive[s] {
			return contentHeaders{Type: s}, nil
		}
		// Never a sniffed active type: HTML in a file without an extension stays opaque.
		t = "application/octet-stream"
	}
	switch mode {
	case ActiveAllow:
		return contentHeaders{Type: t, Encoding: enc}, nil
	case ActiveRefuse:
		what := "an unknown type"
		if known {
			what = t
		}
		return contentHeaders{}, fmt.Errorf("%w: %s is active content (a browser could run script in it on the bucket's origin) "+
			"and --active-content is refuse; use attachment to store it as a download", ErrInvalid, what)
	default:
		return contentHeaders{Type: t, Disposition: "attachment", Encoding: enc}, nil
	}
}

// needsHead reports whether contentFor needs the file's first bytes for key.
func needsHead(key string) bool {
	ext := strings.ToLower(path.Ext(key))
	_, passive := passiveTypes[ext]
	_, active := activeTypes[ext]
	return !passive && !active
}
