package migrate

import (
	"context"
	"crypto/md5" //nolint:gosec // G501: Content-MD5 and S3's ETags are defined with MD5
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"

	"github.com/staticmedia/staticmedia/uploader/internal/catalog"
)

// objectPutter sends one object in a single request.
type objectPutter interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// multipartPutter sends a large object in parts. All three calls are covered by s3:PutObject.
// AbortMultipartUpload is not: the upload-only key cannot abort, so an interrupted multipart
// upload is left to the bucket's lifecycle rule (AbortIncompleteMultipartUpload).
type multipartPutter interface {
	CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPart(ctx context.Context, in *s3.UploadPartInput, optFns ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
}

// unsignedPayload sends PUT bodies as UNSIGNED-PAYLOAD: the CRC32C is a signed header that S3
// verifies against the body, so hashing the body a second time with SHA-256 for the signature
// adds CPU and no integrity. (The SDK already does this over HTTPS; this extends it to plain
// HTTP endpoints.)
func unsignedPayload(o *s3.Options) {
	o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
}

// uploaded is what S3 confirmed for one file.
type uploaded struct {
	ETag       string
	Size       int64
	ModTime    time.Time
	ChangeTime time.Time
	Inode      uint64
}

// confirmed is what S3 confirmed for the file fi describes.
func confirmed(etag string, fi fs.FileInfo) uploaded {
	ctime, inode := catalog.FileIdentity(fi)
	return uploaded{ETag: etag, Size: fi.Size(), ModTime: fi.ModTime(), ChangeTime: ctime, Inode: inode}
}

// uploader sends files. It holds no file in memory: single PUTs and multipart parts are sent
// from the file, after a first pass that computes their checksum.
type uploader struct {
	s3        S3
	bucket    string
	cache     string
	threshold int64
	partSize  int64
	partConc  int
	checksum  string // ChecksumCRC32C or ChecksumMD5
	class     types.StorageClass
	scratch   sync.Pool // *[]byte of scratchSize for the checksum pass
	sent      func(n int64)
}

// upload sends f (already opened and checked) to key. The file is sent a second time, once,
// when it changed while it was read or sent (the object may hold bytes the file no longer has),
// and when a multipart upload's completion answer was lost; then the error is reported.
func (u *uploader) upload(ctx context.Context, f *os.File, key string, hdr contentHeaders) (uploaded, *FileError) {
	var last *FileError
	for range 2 {
		fi, err := f.Stat()
		if err != nil {
			return uploaded{}, &FileError{Op: "stat", Err: err}
		}
		var res uploaded
		if fi.Size() > u.threshold {
			res, last = u.multipart(ctx, f, fi, key, hdr)
		} else {
			res, last = u.single(ctx, f, fi, key, hdr)
		}
		if last == nil || !sendAgain(last) {
			return res, last
		}
	}
	return uploaded{}, last
}

// sendAgain reports whether a failed upload is worth one more try of the whole file. A retried
// CompleteMultipartUpload answers NoSuchUpload when the first attempt completed the upload but
// its answer was lost: the object is probably there, but only a new upload, verified part by
// part, earns the flag (the key may not read the object back).
func sendAgain(fe *FileError) bool {
	if errors.Is(fe.Err, ErrFileChanged) {
		return true
	}
	// CompleteMultipartUpload has no modeled errors: the code is all there is to match.
	var apiErr smithy.APIError
	return fe.Op == "complete-multipart" && errors.As(fe.Err, &apiErr) && apiErr.ErrorCode() == "NoSuchUpload"
}

// single sends the file in one PutObject with its checksum: x-amz-checksum-crc32c (or
// Content-MD5 with --checksum md5). The file is not held in memory: the checksum is computed in
// a first pass over the file and the body is the file itself (a section reader, which the SDK can
// rewind for a retry). S3 computes the checksum of what it received and refuses the PUT
// (BadDigest) when it differs, so bytes that changed between the two passes are never stored as
// the file; the file's size, mtime and ctime, checked after the PUT or its failure, tell that it changed.
// The answer echoes the checksum S3 stored, which must be ours. CRC32C rather than Content-MD5
// because the CPU has an instruction for it: MD5 was 29% of the uploader's CPU on small images
// (uploader/bench/README.md).
func (u *uploader) single(ctx context.Context, f *os.File, fi fs.FileInfo, key string, hdr contentHeaders) (uploaded, *FileError) {
	size := fi.Size()
	h := u.newChecksum()
	n, err := u.checksumOf(h, io.NewSectionReader(f, 0, size))
	if err != nil {
		return uploaded{}, &FileError{Op: "read", Err: err}
	}
	// A byte past the size read at stat time means the file grew meanwhile.
	var past [1]byte
	if grew, _ := f.ReadAt(past[:], size); n != size || grew > 0 || changed(f, fi) {
		return uploaded{}, &FileError{Op: "read", Err: ErrFileChanged}
	}
	in := &s3.PutObjectInput{
		Bucket:             aws.String(u.bucket),
		Key:                aws.String(key),
		Body:               newFileBody(f, 0, size),
		ContentLength:      aws.Int64(size),
		ContentType:        aws.String(hdr.Type),
		ContentDisposition: optional(hdr.Disposition),
		ContentEncoding:    optional(hdr.Encoding),
		CacheControl:       optional(u.cache),
		StorageClass:       u.class,
	}
	var sum string
	if u.checksum == ChecksumMD5 {
		d := h.Sum(nil)
		in.ContentMD5, sum = aws.String(base64.StdEncoding.EncodeToString(d)), hex.EncodeToString(d)
	} else {
		sum = crc32cEncode(h.(hash.Hash32).Sum32())
		in.ChecksumAlgorithm, in.ChecksumCRC32C = types.ChecksumAlgorithmCrc32c, aws.String(sum)
	}
	out, err := u.s3.PutObject(ctx, in, unsignedPayload)
	if err != nil {
		if changed(f, fi) {
			err = ErrFileChanged
		}
		return uploaded{}, &FileError{Op: "put", Err: err}
	}
	if u.checksum == ChecksumMD5 {
		err = checkETag(aws.ToString(out.ETag), sum)
	} else {
		err = checkCRC32C(aws.ToString(out.ChecksumCRC32C), sum)
	}
	if err != nil {
		return uploaded{}, &FileError{Op: "put", Err: err}
	}
	// A file written to while its PUT was on the wire (an upload the application is still
	// receiving) would be flagged with bytes it no longer has.
	if changed(f, fi) {
		return uploaded{}, &FileError{Op: "put", Err: ErrFileChanged}
	}
	u.sent(size)
	return confirmed(aws.ToString(out.ETag), fi), nil
}

// newChecksum is the hash of u.checksum: CRC32C (a hash.Hash32) or MD5.
func (u *uploader) newChecksum() hash.Hash {
	if u.checksum == ChecksumMD5 {
		return md5.New() //nolint:gosec // G401: Content-MD5 is what the endpoint verifies, not a security hash
	}
	return crc32.New(castagnoli)
}

// checksumOf feeds r to h through a scratch buffer kept for reuse, and returns the bytes read.
func (u *uploader) checksumOf(h hash.Hash, r io.Reader) (int64, error) {
	buf, _ := u.scratch.Get().(*[]byte)
	if buf == nil {
		b := make([]byte, scratchSize)
		buf = &b
	}
	defer u.scratch.Put(buf)
	return io.CopyBuffer(h, r, *buf)
}

// fileBody is a section of the file sent as a request body (seekable, so the SDK rewinds it for
// a retry). A file that shrank after the checksum pass ends the body before its length: every
// retry of the SDK would meet the same end (10 attempts and a minute of backoff), so that read
// fails with errShrank, which the SDK does not retry; the engine's re-check then tells that the
// file changed, and the file is sent again at once.
type fileBody struct{ *io.SectionReader }

func newFileBody(f *os.File, off, n int64) fileBody {
	return fileBody{io.NewSectionReader(f, off, n)}
}

func (b fileBody) Read(p []byte) (int, error) {
	n, err := b.SectionReader.Read(p)
	if errors.Is(err, io.EOF) {
		if at, _ := b.Seek(0, io.SeekCurrent); at < b.Size() {
			err = errShrank
		}
	}
	return n, err
}

// errShrank ends the body of a file that shrank while it was sent.
var errShrank error = shrankError{}

type shrankError struct{}

func (shrankError) Error() string { return "the file shrank while it was sent" }

// RetryableError tells the SDK's retryer not to try the request again.
func (shrankError) RetryableError() bool { return false }

// scratchSize is the read size of the checksum pass: a typical photo in one or two reads.
const scratchSize = 128 << 10

// castagnoli is the CRC32C table (crc32 uses the CPU's instruction for it).
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// crc32c is data's CRC32C (Castagnoli), computed with the CPU's CRC32 instruction.
func crc32c(data []byte) uint32 {
	return crc32.Checksum(data, castagnoli)
}

// crc32cEncode writes a CRC32C as S3 does: the four big-endian bytes, base64.
func crc32cEncode(sum uint32) string {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], sum)
	return base64.StdEncoding.EncodeToString(b[:])
}

// compositeCRC32C is the checksum S3 gives a multipart object uploaded with CRC32C parts: the
// CRC32C of the parts' checksums (their bytes, concatenated), then "-" and the number of parts.
func compositeCRC32C(parts []uint32) string {
	b := make([]byte, 0, 4*len(parts))
	for _, p := range parts {
		b = binary.BigEndian.AppendUint32(b, p)
	}
	return fmt.Sprintf("%s-%d", crc32cEncode(crc32c(b)), len(parts))
}

// checkCRC32C compares the CRC32C S3 answered with the one sent. An answer without one comes
// from an endpoint that ignored the checksum, so nothing confirmed the bytes.
func checkCRC32C(got, sent string) error {
	switch got {
	case sent:
		return nil
	case "":
		return fmt.Errorf("%w: the answer carries no CRC32C, so the endpoint did not check the one sent (%s); "+
			"use an S3 endpoint that supports additional checksums (x-amz-checksum-crc32c)", ErrChecksumMismatch, sent)
	default:
		return fmt.Errorf("%w: S3 stored CRC32C %s, sent %s", ErrChecksumMismatch, got, sent)
	}
}

// checkETag compares the ETag of a PUT, a part or a completed multipart upload with the MD5
// hex (or the "-N" composite) of what was sent: S3 and the services that verify Content-MD5
// answer it so for unencrypted and SSE-S3 objects.
func checkETag(got, sent string) error {
	if strings.Trim(got, `"`) == sent {
		return nil
	}
	return fmt.Errorf("%w: the ETag is %s, the MD5 of the bytes sent is %s (an SSE-KMS or SSE-C bucket answers ETags that are not MD5s: use --checksum crc32c there)",
		ErrChecksumMismatch, got, sent)
}

// compositeMD5 is the ETag S3 gives a multipart object: the MD5 of the parts' MD5s (their bytes,
// concatenated), in hex, then "-" and the number of parts.
func compositeMD5(parts [][md5.Size]byte) string {
	h := md5.New() //nolint:gosec // G401: S3's multipart ETag is defined with MD5
	for _, p := range parts {
		h.Write(p[:])
	}
	return fmt.Sprintf("%x-%d", h.Sum(nil), len(parts))
}

// multipart sends a large file in parts, each with its own CRC32C that S3 verifies and echoes,
// and checks the whole object's composite checksum (the CRC32C of the parts' CRC32Cs, "-N") in
// CompleteMultipartUpload's answer: S3 assembled exactly the parts sent, in order.
func (u *uploader) multipart(ctx context.Context, f *os.File, fi fs.FileInfo, key string, hdr contentHeaders) (uploaded, *FileError) {
	size := fi.Size()
	partSize, nparts := u.layout(size)

	created, err := u.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket:             aws.String(u.bucket),
		Key:                aws.String(key),
		ContentType:        aws.String(hdr.Type),
		ContentDisposition: optional(hdr.Disposition),
		ContentEncoding:    optional(hdr.Encoding),
		CacheControl:       optional(u.cache),
		ChecksumAlgorithm:  u.createAlgorithm(),
		StorageClass:       u.class,
	})
	if err != nil {
		return uploaded{}, &FileError{Op: "create-multipart", Err: err}
	}
	uploadID := created.UploadId

	parts := make([]types.CompletedPart, nparts)
	sums := make([]uint32, nparts)
	md5s := make([][md5.Size]byte, nparts)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(u.partConc)
	for i := range nparts {
		g.Go(func() error {
			off := int64(i) * partSize
			n := min(partSize, size-off)
			part, sum, md5sum, fe := u.part(gctx, f, fi, key, uploadID, int32(i+1), off, n) //nolint:gosec // G115: at most 10,000 parts
			if fe != nil {
				return fe
			}
			parts[i], sums[i], md5s[i] = part, sum, md5sum
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		var fe *FileError
		if errors.As(err, &fe) {
			return uploaded{}, fe
		}
		return uploaded{}, &FileError{Op: "upload-part", Err: err}
	}
	if changed(f, fi) {
		return uploaded{}, &FileError{Op: "read", Err: ErrFileChanged}
	}
	done, err := u.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          aws.String(u.bucket),
		Key:             aws.String(key),
		UploadId:        uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		return uploaded{}, &FileError{Op: "complete-multipart", Err: err}
	}
	if u.checksum == ChecksumMD5 {
		err = checkETag(aws.ToString(done.ETag), compositeMD5(md5s))
	} else {
		err = checkCRC32C(aws.ToString(done.ChecksumCRC32C), compositeCRC32C(sums))
	}
	if err != nil {
		return uploaded{}, &FileError{Op: "complete-multipart", Err: err}
	}
	if changed(f, fi) {
		return uploaded{}, &FileError{Op: "complete-multipart", Err: ErrFileChanged}
	}
	return confirmed(aws.ToString(done.ETag), fi), nil
}

// layout is the part size and number of parts of a multipart upload of size bytes.
func (u *uploader) layout(size int64) (partSize int64, nparts int) {
	partSize = u.partSize
	if (size+partSize-1)/partSize > maxParts {
		// Grow the part to the next MiB that keeps the file within S3's 10,000 parts.
		partSize = ((size+maxParts-1)/maxParts + (1<<20 - 1)) &^ (1<<20 - 1)
	}
	return partSize, int((size + partSize - 1) / partSize)
}

// part sends one part from the file and returns it as CompleteMultipartUpload lists it, with its
// CRC32C or its MD5 (the one of u.checksum) for the composite checksum. The part is not held in
// memory: its checksum is computed in a first pass over the file's section, and the body is the
// section itself (seekable, so the SDK can rewind it for a retry). Bytes that change between the
// two passes do not match the checksum, and S3 refuses them (BadDigest); the file's size,
// mtime and ctime, checked when a part fails and before the completion, tell that it changed.
func (u *uploader) part(ctx context.Context, f *os.File, fi fs.FileInfo, key string, uploadID *string, num int32, off, n int64) (types.CompletedPart, uint32, [md5.Size]byte, *FileError) {
	var (
		none   types.CompletedPart
		md5sum [md5.Size]byte
		sum    uint32
	)
	h := u.newChecksum()
	read, err := u.checksumOf(h, io.NewSectionReader(f, off, n))
	if err != nil {
		return none, 0, md5sum, &FileError{Op: "read", Err: err}
	}
	if read != n {
		return none, 0, md5sum, &FileError{Op: "read", Err: ErrFileChanged}
	}
	if u.checksum == ChecksumMD5 {
		copy(md5sum[:], h.Sum(nil))
	} else {
		sum = h.(hash.Hash32).Sum32()
	}
	in := &s3.UploadPartInput{
		Bucket:        aws.String(u.bucket),
		Key:           aws.String(key),
		UploadId:      uploadID,
		PartNumber:    aws.Int32(num),
		Body:          newFileBody(f, off, n),
		ContentLength: aws.Int64(n),
	}
	done := types.CompletedPart{PartNumber: aws.Int32(num)}
	if u.checksum == ChecksumMD5 {
		in.ContentMD5 = aws.String(base64.StdEncoding.EncodeToString(md5sum[:]))
	} else {
		in.ChecksumAlgorithm, in.ChecksumCRC32C = types.ChecksumAlgorithmCrc32c, aws.String(crc32cEncode(sum))
		done.ChecksumCRC32C = in.ChecksumCRC32C
	}
	out, err := u.s3.UploadPart(ctx, in, unsignedPayload)
	if err != nil {
		if changed(f, fi) {
			err = ErrFileChanged
		}
		return none, 0, md5sum, &FileError{Op: "upload-part", Err: fmt.Errorf("part %d: %w", num, err)}
	}
	if u.checksum == ChecksumMD5 {
		err = checkETag(aws.ToString(out.ETag), hex.EncodeToString(md5sum[:]))
	} else {
		err = checkCRC32C(aws.ToString(out.ChecksumCRC32C), aws.ToString(in.ChecksumCRC32C))
	}
	if err != nil {
		return none, 0, md5sum, &FileError{Op: "upload-part", Err: fmt.Errorf("part %d: %w", num, err)}
	}
	u.sent(n)
	done.ETag = out.ETag
	return done, sum, md5sum, nil
}

// createAlgorithm is the checksum algorithm a multipart upload is created with: none with
// Content-MD5, whose parts are checked by their ETags.
func (u *uploader) createAlgorithm() types.ChecksumAlgorithm {
	if u.checksum == ChecksumMD5 {
		return ""
	}
	return types.ChecksumAlgorithmCrc32c
}

// changed reports whether the file's size, modification time or status-change time differs
// from what was seen before reading it, or its path no longer names it: a file replaced by a
// rename (how applications write files safely) leaves the handle reading the old one,
// unchanged. The ctime tells a rewrite in place that kept the size and put the mtime back
// (touch -r, rsync -t, cp -p), which no one can set back; a chmod also changes it, and costs
// one more send.
func changed(f *os.File, before fs.FileInfo) bool {
	now, err := f.Stat()
	if err != nil || now.Size() != before.Size() || !now.ModTime().Equal(before.ModTime()) {
		return true
	}
	if !ctimeOf(now).Equal(ctimeOf(before)) {
		return true
	}
	cur, err := os.Lstat(f.Name())
	return err != nil || !os.SameFile(cur, before)
}

// ctimeOf is the file's status-change time (zero where the system has none).
func ctimeOf(fi fs.FileInfo) time.Time {
	ctime, _ := catalog.FileIdentity(fi)
	return ctime
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}
