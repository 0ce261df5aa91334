package fakes3

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// crc64NVME is the reversed NVME polynomial, as hash/crc64 wants it (the SDK uses the same value).
const crc64NVME = 0x9a6c_9329_ac4b_c9b5

// checksumAlgorithms maps the header suffix of x-amz-checksum-<alg> to a hash constructor.
var checksumAlgorithms = map[string]func() hash.Hash{
	"crc32":     func() hash.Hash { return crc32.NewIEEE() },
	"crc32c":    func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) },
	"crc64nvme": func() hash.Hash { return crc64.New(crc64.MakeTable(crc64NVME)) },
	"sha1":      sha1.New,
	"sha256":    sha256.New,
}

// payload is what the server learned from one request body: its decoded length, MD5 and the
// checksum the client asked for (algorithm name and base64 value, verified).
type payload struct {
	size        int64
	md5         []byte
	checksumAlg string // "" when the client sent no x-amz-checksum-*
	checksum    string // base64, as S3 echoes it
}

// s3Error is an S3 error response: HTTP status, code and message.
type s3Error struct {
	status  int
	code    string
	message string
}

func (e *s3Error) Error() string { return e.code + ": " + e.message }

func badRequest(code, format string, args ...any) *s3Error {
	return &s3Error{status: http.StatusBadRequest, code: code, message: fmt.Sprintf(format, args...)}
}

// readPayload consumes the request body (plain or aws-chunked), hashes it and checks the digests
// the client declared: Content-MD5 and one x-amz-checksum-<alg>, from a header or a trailer.
// The bytes themselves are discarded. buf is scratch space for copying.
func readPayload(r *http.Request, buf []byte) (payload, error) {
	md5h := md5.New()
	sink := io.Writer(md5h)

	alg, want, fromTrailer, err := declaredChecksum(r.Header)
	if err != nil {
		return payload{}, err
	}
	var sumh hash.Hash
	if alg != "" {
		sumh = checksumAlgorithms[alg]()
		sink = io.MultiWriter(md5h, sumh)
	}

	var (
		n        int64
		trailers http.Header
	)
	if isAWSChunked(r.Header) {
		cr := newChunkedReader(r.Body)
		n, err = io.CopyBuffer(sink, cr, buf)
		if err != nil {
			return payload{}, badRequest("IncompleteBody", "reading the aws-chunked body: %v", err)
		}
		trailers = cr.trailers
		if decoded := r.Header.Get("X-Amz-Decoded-Content-Length"); decoded != "" {
			if d, err := strconv.ParseInt(decoded, 10, 64); err != nil || d != n {
				return payload{}, badRequest("IncompleteBody", "x-amz-decoded-content-length is %s but the body decoded to %d bytes", decoded, n)
			}
		}
	} else {
		n, err = io.CopyBuffer(sink, r.Body, buf)
		if err != nil {
			return payload{}, badRequest("IncompleteBody", "reading the body: %v", err)
		}
		if r.ContentLength >= 0 && n != r.ContentLength {
			return payload{}, badRequest("IncompleteBody", "content-length is %d but the body had %d bytes", r.ContentLength, n)
		}
	}

	p := payload{size: n, md5: md5h.Sum(nil)}
	if cmd5 := r.Header.Get("Content-Md5"); cmd5 != "" {
		got, err := base64.StdEncoding.DecodeString(cmd5)
		if err != nil || len(got) != md5.Size {
			return payload{}, badRequest("InvalidDigest", "the Content-MD5 you specified is not valid")
		}
		if !bytes.Equal(got, p.md5) {
			return payload{}, badRequest("BadDigest", "the Content-MD5 you specified did not match what we received")
		}
	}
	if alg != "" {
		if fromTrailer {
			want = trailers.Get("X-Amz-Checksum-" + alg)
			if want == "" {
				return payload{}, badRequest("MalformedTrailerError", "the x-amz-checksum-%s trailer announced by x-amz-trailer is missing", alg)
			}
		}
		got := base64.StdEncoding.EncodeToString(sumh.Sum(nil))
		if got != want {
			return payload{}, badRequest("BadDigest", "the %s you specified did not match the calculated checksum", strings.ToUpper(alg))
		}
		p.checksumAlg, p.checksum = alg, got
	}
	return p, nil
}

// declaredChecksum finds the flexible checksum the client sent: a header x-amz-checksum-<alg>
// with its value, or an x-amz-trailer naming one whose value comes after the body.
func declaredChecksum(h http.Header) (alg, value string, fromTrailer bool, err error) {
	if t := h.Get("X-Amz-Trailer"); t != "" {
		name := strings.ToLower(strings.TrimSpace(t))
		alg, ok := strings.CutPrefix(name, "x-amz-checksum-")
		if !ok || checksumAlgorithms[alg] == nil {
			return "", "", false, badRequest("InvalidRequest", "unsupported x-amz-trailer %q", t)
		}
		return alg, "", true, nil
	}
	for name := range checksumAlgorithms {
		if v := h.Get("X-Amz-Checksum-" + name); v != "" {
			return name, v, false, nil
		}
	}
	return "", "", false, nil
}

func isAWSChunked(h http.Header) bool {
	if strings.HasPrefix(h.Get("X-Amz-Content-Sha256"), "STREAMING-") {
		return true
	}
	for _, enc := range strings.Split(h.Get("Content-Encoding"), ",") {
		if strings.TrimSpace(enc) == "aws-chunked" {
			return true
		}
	}
	return false
}

// chunkedReader decodes an aws-chunked body: "<hex size>[;chunk-signature=...]\r\n<data>\r\n"
// repeated, a zero-size chunk, then optional "name:value\r\n" trailers and a final "\r\n".
// Chunk signatures are parsed and ignored: this endpoint checks no authentication.
type chunkedReader struct {
	br       *bufio.Reader
	left     int64 // bytes left in the current chunk
	done     bool
	trailers http.Header
}

func newChunkedReader(r io.Reader) *chunkedReader {
	return &chunkedReader{br: bufio.NewReaderSize(r, 32<<10), trailers: http.Header{}}
}

func (c *chunkedReader) Read(p []byte) (int, error) {
	for c.left == 0 {
		if c.done {
			return 0, io.EOF
		}
		if err := c.nextChunk(); err != nil {
			return 0, err
		}
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.br.Read(p)
	c.left -= int64(n)
	if c.left == 0 && err == nil {
		err = c.expectCRLF()
	}
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// nextChunk reads a chunk header; on the final (zero) chunk it reads the trailers.
func (c *chunkedReader) nextChunk() error {
	line, err := c.line()
	if err != nil {
		return fmt.Errorf("chunk header: %w", err)
	}
	sizeHex, _, _ := strings.Cut(line, ";")
	size, err := strconv.ParseInt(strings.TrimSpace(sizeHex), 16, 64)
	if err != nil || size < 0 {
		return fmt.Errorf("chunk header %q: bad size", line)
	}
	if size > 0 {
		c.left = size
		return nil
	}
	c.done = true
	for {
		line, err := c.line()
		if errors.Is(err, io.EOF) {
			return nil // some clients end the body right after the last trailer
		}
		if err != nil {
			return fmt.Errorf("trailer: %w", err)
		}
		if line == "" {
			return nil
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return fmt.Errorf("trailer %q: missing ':'", line)
		}
		c.trailers.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
}

func (c *chunkedReader) expectCRLF() error {
	line, err := c.line()
	if err != nil {
		return fmt.Errorf("end of chunk: %w", err)
	}
	if line != "" {
		return fmt.Errorf("end of chunk: want CRLF, got %q", line)
	}
	return nil
}

// line returns the next CRLF-terminated line without its terminator.
func (c *chunkedReader) line() (string, error) {
	s, err := c.br.ReadString('\n')
	if err != nil {
		if s == "" && errors.Is(err, io.EOF) {
			return "", io.EOF
		}
		return "", io.ErrUnexpectedEOF
	}
	return strings.TrimSuffix(strings.TrimSuffix(s, "\n"), "\r"), nil
}
