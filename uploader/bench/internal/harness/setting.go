package harness

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/staticmedia/staticmedia/internal/awsconfig"
	"github.com/staticmedia/staticmedia/uploader/bench/internal/corpus"
	"github.com/staticmedia/staticmedia/uploader/bench/internal/fakes3"
)

// Setting is one S3 endpoint the clients upload to, with the credentials they use and a way to
// check afterwards what a run stored.
type Setting struct {
	Name  string // short, for tables: "minio", "fakes3", "fakes3+30ms"
	Title string // one line for the reader

	Endpoint, Region, Bucket string
	AccessKey, SecretKey     string

	store objectStore
}

// objectStore is what the harness needs from an endpoint around a run.
type objectStore interface {
	// begin is called right before a run starts.
	begin()
	// stored returns key -> size of the objects the run stored under prefix.
	stored(ctx context.Context, prefix string) (map[string]int64, error)
	// clean removes what the run stored under prefix once it was checked, so every run meets
	// the endpoint in the same state.
	clean(ctx context.Context, prefix string) error
}

// verify checks that a run stored exactly the set's files under prefix, with their sizes: a
// client that skipped, renamed or truncated files must not look fast.
func (s *Setting) verify(ctx context.Context, prefix string, set *corpus.Set) error {
	got, err := s.store.stored(ctx, prefix)
	if err != nil {
		return err
	}
	var missing, wrong []string
	for _, f := range set.Files {
		size, ok := got[prefix+f.Path]
		switch {
		case !ok:
			missing = append(missing, f.Path)
		case size != f.Size:
			wrong = append(wrong, fmt.Sprintf("%s (%d bytes, want %d)", f.Path, size, f.Size))
		}
		delete(got, prefix+f.Path)
	}
	var extra []string
	for k := range got {
		extra = append(extra, k)
	}
	if len(missing)+len(wrong)+len(extra) == 0 {
		return nil
	}
	sort.Strings(extra)
	return fmt.Errorf("%s: %d files missing %s, %d with a wrong size %s, %d unexpected keys %s",
		s.Name, len(missing), sample(missing), len(wrong), sample(wrong), len(extra), sample(extra))
}

func sample(s []string) string {
	if len(s) == 0 {
		return ""
	}
	if len(s) > 3 {
		return "(" + strings.Join(s[:3], ", ") + ", ...)"
	}
	return "(" + strings.Join(s, ", ") + ")"
}

// fakeStore reads back what fakes3 recorded.
type fakeStore struct{ srv *fakes3.Running }

func (f fakeStore) begin() { f.srv.TakeObjects() }

// clean does nothing: stored already took the run's objects out of fakes3's record.
func (f fakeStore) clean(context.Context, string) error { return nil }

func (f fakeStore) stored(_ context.Context, prefix string) (map[string]int64, error) {
	all := f.srv.TakeObjects()
	out := make(map[string]int64, len(all))
	for k, v := range all {
		out[k] = v // keys outside the prefix count as unexpected
	}
	if u := f.srv.Unsupported(); len(u) > 0 {
		return out, fmt.Errorf("fakes3 answered 501 to: %s", strings.Join(u, "; "))
	}
	return out, nil
}

// FakeS3Setting wraps a running fakes3.
func FakeS3Setting(name, title string, srv *fakes3.Running, bucket string) *Setting {
	return &Setting{
		Name: name, Title: title,
		Endpoint: srv.URL, Region: "us-east-1", Bucket: bucket,
		// fakes3 checks no signature; clients still need keys to sign with.
		AccessKey: "AKIABENCHFAKES3", SecretKey: "fakes3-checks-no-signature",
		store: fakeStore{srv: srv},
	}
}

// minioStore lists the run's prefix with admin credentials.
type minioStore struct {
	client *s3.Client
	bucket string
}

func (m minioStore) begin() {}

func (m minioStore) stored(ctx context.Context, prefix string) (map[string]int64, error) {
	out := map[string]int64{}
	err := m.list(ctx, prefix, func(objects []types.Object) error {
		for _, o := range objects {
			out[aws.ToString(o.Key)] = aws.ToInt64(o.Size)
		}
		return nil
	})
	return out, err
}

// list hands fn the objects under prefix, a page at a time.
func (m minioStore) list(ctx context.Context, prefix string, fn func([]types.Object) error) error {
	p := s3.NewListObjectsV2Paginator(m.client, &s3.ListObjectsV2Input{Bucket: aws.String(m.bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("minio: listing %s: %w", prefix, err)
		}
		if err := fn(page.Contents); err != nil {
			return err
		}
	}
	return nil
}

// clean deletes the run's objects. Left in place they piled up (30 runs of 5,000 objects in one
// case) and every client's files/s fell by a quarter from the first repetition to the last, so
// clients that happened to run late looked slower.
func (m minioStore) clean(ctx context.Context, prefix string) error {
	return m.list(ctx, prefix, func(objects []types.Object) error {
		if len(objects) == 0 {
			return nil
		}
		ids := make([]types.ObjectIdentifier, len(objects))
		for i, o := range objects {
			ids[i] = types.ObjectIdentifier{Key: o.Key}
		}
		out, err := m.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(m.bucket),
			Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
		if err != nil {
			return fmt.Errorf("minio: deleting %s: %w", prefix, err)
		}
		if len(out.Errors) > 0 {
			return fmt.Errorf("minio: deleting %s: %d objects not deleted, first %s: %s", prefix, len(out.Errors),
				aws.ToString(out.Errors[0].Key), aws.ToString(out.Errors[0].Message))
		}
		return nil
	})
}

// MinIOSetting uses MinIO's root credentials for the clients and for checking.
func MinIOSetting(ctx context.Context, name, title string, o awsconfig.Options, bucket string) (*Setting, error) {
	cfg, err := awsconfig.Load(ctx, o)
	if err != nil {
		return nil, err
	}
	return &Setting{
		Name: name, Title: title,
		Endpoint: o.Endpoints.S3, Region: o.Region, Bucket: bucket,
		AccessKey: o.AccessKey, SecretKey: o.SecretKey,
		store: minioStore{client: o.S3(cfg), bucket: bucket},
	}, nil
}
