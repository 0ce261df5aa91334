package verify

import "strings"

// EscapeKey escapes an object key for the path of its public URL, segment by segment: every
// byte outside RFC 3986's unreserved set (letters, digits, "-", ".", "_", "~") is
// percent-encoded and "/" stays the separator. This is how the AWS SDKs put a key in a path,
// and it is stricter than url.PathEscape on purpose: S3 reads a literal "+" in a path as a
// space (a key "a+b.jpg" must be sent as "a%2Bb.jpg"), and "#", "?" and "%" would otherwise
// end the path or be decoded. Non-UTF-8 bytes are escaped as they are, so no key is altered.
func EscapeKey(key string) string {
	var b strings.Builder
	b.Grow(len(key) * 3)
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(key); i++ {
		c := key[i]
		if unreserved(c) || c == '/' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}
