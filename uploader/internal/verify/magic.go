package verify

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
)

// MagicBytes is how much of a public copy the type check reads: enough for an AVIF file's ftyp
// box with a few compatible brands.
const MagicBytes = 64

// imageType is a raster image type whose files start with a known signature.
type imageType struct {
	name      string // for messages: "JPEG"
	signature string // for messages: the bytes it starts with
	match     func(head []byte) bool
}

// imageTypes are the types the direct-upload signer admits (uploader/signer), keyed by the
// Content-Type a copy is served with.
var imageTypes = map[string]imageType{
	"image/jpeg": {"JPEG", "FF D8 FF", func(h []byte) bool { return bytes.HasPrefix(h, []byte{0xFF, 0xD8, 0xFF}) }},
	"image/png":  {"PNG", "89 50 4E 47 0D 0A 1A 0A", func(h []byte) bool { return bytes.HasPrefix(h, []byte("\x89PNG\r\n\x1a\n")) }},
	"image/gif": {"GIF", `"GIF87a" or "GIF89a"`, func(h []byte) bool {
		return bytes.HasPrefix(h, []byte("GIF87a")) || bytes.HasPrefix(h, []byte("GIF89a"))
	}},
	"image/webp": {"WebP", `"RIFF", a size, "WEBP"`, func(h []byte) bool {
		return len(h) >= 12 && string(h[:4]) == "RIFF" && string(h[8:12]) == "WEBP"
	}},
	"image/avif": {"AVIF", `an ISO BMFF "ftyp" box with the brand avif or avis`, isAVIF},
}

// isAVIF reports whether head starts with an ftyp box whose major or a compatible brand is
// avif (a still image) or avis (a sequence).
func isAVIF(h []byte) bool {
	if len(h) < 16 || string(h[4:8]) != "ftyp" {
		return false
	}
	size := int(h[0])<<24 | int(h[1])<<16 | int(h[2])<<8 | int(h[3])
	if size < 16 {
		return false
	}
	end := min(size, len(h))
	// The major brand at 8, the minor version at 12, then compatible brands to the box's end.
	for i := 8; i+4 <= end; i += 4 {
		if i == 12 {
			continue
		}
		if b := string(h[i : i+4]); b == "avif" || b == "avis" {
			return true
		}
	}
	return false
}

// MagicProblem returns what is wrong when a copy served with contentType does not start with
// that type's signature, or "" when it does or the type is not one of the raster image types
// checked. head is the start of the copy (up to MagicBytes).
func MagicProblem(contentType string, head []byte) string {
	// The type is what comes before the parameters, as browsers read it: parameters that
	// mime.ParseMediaType refuses ("image/png; charset") do not stop a browser from showing the
	// bytes as that type, so they do not stop the check either.
	essence, _, _ := strings.Cut(contentType, ";")
	mt := strings.ToLower(strings.TrimSpace(essence))
	it, ok := imageTypes[mt]
	if !ok || it.match(head) {
		return ""
	}
	shown := head[:min(len(head), 12)]
	start := fmt.Sprintf("start with % X", shown)
	if len(head) == 0 {
		start = "are empty"
	}
	return fmt.Sprintf("type: the public copy is served as %s but its bytes %s, not with the %s signature %s; they look like %s. "+
		"Delete the object (an upload that declared a type it is not), or upload it again with its real type",
		mt, start, it.name, it.signature, looksLike(head))
}

// looksLike names what head seems to be, for the message.
func looksLike(head []byte) string {
	if len(head) == 0 {
		return "nothing"
	}
	for _, it := range imageTypes {
		if it.match(head) {
			return "a " + it.name + " image"
		}
	}
	trimmed := bytes.TrimLeft(head, " \t\r\n\ufeff")
	if bytes.HasPrefix(trimmed, []byte("<")) {
		return "markup (HTML, XML or SVG), which a browser may run script in"
	}
	ct := http.DetectContentType(head)
	ct, _, _ = strings.Cut(ct, ";")
	return ct
}
