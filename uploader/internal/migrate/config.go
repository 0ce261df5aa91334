package migrate

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/staticmedia/staticmedia/uploader/internal/source"
)

// Defaults. The concurrency, threshold, part size and batch size are starting points until the
// benchmark (issue 7) measures better ones; the reasons for each are next to it.
const (
	// DefaultConcurrency comes from the benchmark's sweeps (uploader/bench/README.md, issue 12):
	// a client is capped at concurrency / round trip. On the small images, 64, 128 and 256 workers
	// reached 1,605, 1,495 and 1,273 files/s with the client alone, 1,525, 1,904 and 1,724 with
	// 30 ms per request and 742, 1,335 and 1,715 with 80 ms (s5cmd: 1,108, 1,311, 1,330), at 44,
	// 57 and 83 MB of peak RSS. 128 is best at 30 ms and stays within 64 MB on the small servers
	// this tool is for; 256 pays off only in a far region.
	DefaultConcurrency = 128
	// DefaultMultipartThreshold: files up to this size go up in one PUT (one round trip). Photos,
	// even from cameras, are below it.
	DefaultMultipartThreshold int64 = 16 << 20
	// DefaultPartSize is the size of each multipart part (S3 allows 5 MiB to 5 GiB). Parts are sent
	// from the file, so it does not set memory: on the bench's three 64-128 MiB files, 5, 8 and 16
	// MiB parts gave 486, 512 and 448 MB/s with the client alone and 282, 325 and 309 MB/s on
	// MinIO, all at 26-27 MB of peak RSS. 8 MiB (also the AWS CLI's) is the fastest, with 1.6 times
	// fewer requests than 5 MiB on a high-latency link.
	DefaultPartSize int64 = 8 << 20
	// DefaultPartConcurrency is how many parts of one large file are sent at once.
	DefaultPartConcurrency = 4
	// DefaultBatchSize is how many flags one catalog transaction writes. Since a flag-only batch
	// is one statement, it hardly moves speed: with PostgreSQL on 5,000 small images, batches of
	// 25, 100 and 500 gave 3,267, 3,247 and 3,411 files/s with the client alone and 2,778, 2,765
	// and 2,888 with 30 ms per request. What it does set is the work a crash can cost: up to a
	// batch (plus what the flush timer holds) of uploaded but unflagged files to send again.
	DefaultBatchSize = 100
	// DefaultPageSize is how many pending records one catalog read returns. There is no barrier
	// between pages: the next page is read while the last files of this one are in flight, and
	// PostgreSQL and MySQL release each row's claim on its own (claims come in windows of 125
	// rows there, whatever the page size). The page only bounds the records held in memory.
	DefaultPageSize = 1000
	// DefaultFlushInterval bounds how long an earned flag waits in memory before it is written.
	DefaultFlushInterval = 2 * time.Second
	// DefaultStopGrace is how long in-flight uploads may finish after a stop signal.
	DefaultStopGrace = 20 * time.Second
	// DefaultCacheControl suits content-addressed or never-edited media.
	DefaultCacheControl = "public, max-age=31536000, immutable"

	minPartSize   int64 = 5 << 20
	maxPartSize   int64 = 5 << 30
	maxSinglePut  int64 = 5 << 30
	maxParts            = 10000
	maxConcurrent       = 4096
)

// Config is everything a run needs, already parsed from flags and the Terraform output.
type Config struct {
	// Bucket receives the objects.
	Bucket string
	// Source is the directory the catalog's paths are relative to (the served media tree).
	Source string
	// KeyPrefix is prepended verbatim to every key ("media/" puts objects under media/).
	KeyPrefix string
	// CacheControl is sent with every object; empty sends none.
	CacheControl string
	// Concurrency is the number of files uploaded at once.
	Concurrency int
	// MultipartThreshold: files larger than this use a multipart upload.
	MultipartThreshold int64
	// PartSize is the size of multipart parts; it grows when a file would need more than
	// 10,000 parts.
	PartSize int64
	// PartConcurrency is the number of parts of one file sent at once.
	PartConcurrency int
	// BatchSize is the number of flags written per catalog transaction.
	BatchSize int
	// PageSize is the number of pending records read from the catalog at once.
	PageSize int
	// FlushInterval is the longest time an earned flag waits before it is written.
	FlushInterval time.Duration
	// StopGrace is how long in-flight uploads may go on after ctx is cancelled.
	StopGrace time.Duration
	// DryRun classifies the pending records without uploading or flagging anything.
	DryRun bool
	// Limit stops the run after this many records were taken from the catalog (0 = no limit).
	Limit int64
	// Checksum is how S3 verifies each PUT: ChecksumCRC32C (the default, x-amz-checksum-crc32c)
	// or ChecksumMD5 (Content-MD5, and the ETags checked), for S3-compatible services that
	// ignore or reject additional checksums.
	Checksum string
	// StorageClass is sent with every object; empty sends none (the bucket's default).
	StorageClass types.StorageClass
	// MinAge skips files modified less than this long ago (files still being written); they
	// are counted as too new and left pending for a later run.
	MinAge time.Duration
	// ActiveContent says how files of an active or unknown type are stored: ActiveAttachment
	// (the default), ActiveRefuse or ActiveAllow (contenttype.go).
	ActiveContent string
}

// ConfigError is a setting that cannot work. Setting is the name the user knows it by
// (the cli's flag name without dashes).
type ConfigError = source.ConfigError

// WithDefaults returns c with every zero setting replaced by its default.
func (c Config) WithDefaults() Config {
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.MultipartThreshold == 0 {
		c.MultipartThreshold = DefaultMultipartThreshold
	}
	if c.PartSize == 0 {
		c.PartSize = DefaultPartSize
	}
	if c.PartConcurrency == 0 {
		c.PartConcurrency = DefaultPartConcurrency
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.PageSize == 0 {
		c.PageSize = max(DefaultPageSize, 8*c.Concurrency)
	}
	if c.FlushInterval == 0 {
		c.FlushInterval = DefaultFlushInterval
	}
	if c.StopGrace == 0 {
		c.StopGrace = DefaultStopGrace
	}
	if c.Checksum == "" {
		c.Checksum = ChecksumCRC32C
	}
	if c.ActiveContent == "" {
		c.ActiveContent = ActiveAttachment
	}
	return c
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	switch {
	case c.Bucket == "":
		return &ConfigError{Setting: "bucket", Problem: "no bucket: the Terraform output must name one"}
	case c.Source == "":
		return &ConfigError{Setting: "source", Problem: "required: the directory the catalog's paths are relative to"}
	case len(c.KeyPrefix) >= source.MaxKeyBytes:
		return &ConfigError{Setting: "key-prefix", Problem: fmt.Sprintf("%d bytes leaves no room for a name in a %d-byte S3 key", len(c.KeyPrefix), source.MaxKeyBytes)}
	case c.Concurrency < 1 || c.Concurrency > maxConcurrent:
		return &ConfigError{Setting: "concurrency", Problem: fmt.Sprintf("must be between 1 and %d, got %d", maxConcurrent, c.Concurrency)}
	case c.MultipartThreshold < 1 || c.MultipartThreshold > maxSinglePut:
		return &ConfigError{Setting: "multipart-threshold", Problem: fmt.Sprintf("must be between 1 byte and 5 GiB (S3's single PUT limit), got %d", c.MultipartThreshold)}
	case c.PartSize < minPartSize || c.PartSize > maxPartSize:
		return &ConfigError{Setting: "part-size", Problem: fmt.Sprintf("must be between 5 MiB and 5 GiB (S3's part limits), got %d", c.PartSize)}
	case c.PartConcurrency < 1:
		return &ConfigError{Setting: "part-concurrency", Problem: fmt.Sprintf("must be at least 1, got %d", c.PartConcurrency)}
	case c.BatchSize < 1 || c.BatchSize > 10000:
		return &ConfigError{Setting: "batch-size", Problem: fmt.Sprintf("must be between 1 and 10000, got %d", c.BatchSize)}
	case c.PageSize < 1:
		return &ConfigError{Setting: "page-size", Problem: fmt.Sprintf("must be at least 1, got %d", c.PageSize)}
	case c.FlushInterval <= 0:
		return &ConfigError{Setting: "flush-interval", Problem: "must be positive"}
	case c.StopGrace < 0:
		return &ConfigError{Setting: "stop-grace", Problem: "must not be negative"}
	case c.Limit < 0:
		return &ConfigError{Setting: "limit", Problem: fmt.Sprintf("must be 0 (no limit) or more, got %d", c.Limit)}
	case c.Checksum != ChecksumCRC32C && c.Checksum != ChecksumMD5:
		return &ConfigError{Setting: "checksum", Problem: fmt.Sprintf("must be %s or %s, got %q", ChecksumCRC32C, ChecksumMD5, c.Checksum)}
	case c.StorageClass != "" && !slices.Contains(StorageClasses(), c.StorageClass):
		return &ConfigError{Setting: "storage-class", Problem: fmt.Sprintf("%q is not one of %s", c.StorageClass, joinClasses(StorageClasses()))}
	case c.MinAge < 0:
		return &ConfigError{Setting: "min-age", Problem: "must not be negative"}
	case !slices.Contains(ActiveContentModes, c.ActiveContent):
		return &ConfigError{Setting: "active-content", Problem: fmt.Sprintf("must be %s, got %q", strings.Join(ActiveContentModes, ", "), c.ActiveContent)}
	}
	return nil
}

// Checksum modes (Config.Checksum).
const (
	ChecksumCRC32C = "crc32c"
	ChecksumMD5    = "md5"
)

// StorageClasses are the storage classes Config.StorageClass accepts: the SDK's, except those
// whose objects cannot be read without a restore (GLACIER, DEEP_ARCHIVE), which a site cannot
// serve.
func StorageClasses() []types.StorageClass {
	var out []types.StorageClass
	for _, c := range types.StorageClass("").Values() {
		if c != types.StorageClassGlacier && c != types.StorageClassDeepArchive {
			out = append(out, c)
		}
	}
	return out
}

func joinClasses(cs []types.StorageClass) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}
