package signer_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/staticmedia/staticmedia/internal/testbed"
	"github.com/staticmedia/staticmedia/uploader/signer"
)

// These tests post the signer's forms to MinIO, which enforces POST policy conditions as S3
// does (moto does not): the form is the contract, and S3 is the one who holds the browser to it.

// jpeg is the start of a JPEG file (SOI, APP0 JFIF) padded to n bytes.
func jpeg(n int) []byte {
	b := append([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00}, bytes.Repeat([]byte{0x42}, n)...)
	return b[:n]
}

const svg = `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.domain)</script></svg>`

// PostForm posts fields and then the file, as a browser's FormData does, and returns the
// status and body.
func postForm(t *testing.T, url string, fields map[string]string, fileType string, file []byte) (int, []byte) {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range fields {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="upload"`)
	h.Set("Content-Type", fileType)
	part, err := w.CreatePart(h)
	if err != nil {
		t.Fatal(err)
	}
	part.Write(file)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, data
}

// postResponse is S3's answer to a post with success_action_status 201.
type postResponse struct {
	Bucket string `xml:"Bucket"`
	Key    string `xml:"Key"`
	ETag   string `xml:"ETag"`
}

func errorCode(body []byte) string {
	var e struct {
		Code string `xml:"Code"`
	}
	_ = xml.Unmarshal(body, &e)
	return e.Code
}

func TestFormMinIO(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs MinIO")
	}
	const bucket, prefix = "media", "incoming/"
	m := testbed.StartMinIO(t)
	client := m.Options().S3(m.Config(t))
	ctx := context.Background()
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	newSigner := func(t *testing.T, opts ...signer.Option) *signer.Signer {
		t.Helper()
		s, err := signer.New(client, signer.Config{Bucket: bucket, KeyPrefix: prefix, MaxBytes: 4096}, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	sign := func(t *testing.T, s *signer.Signer, contentType string) signer.Form {
		t.Helper()
		form, err := s.Sign(ctx, signer.Request{ContentType: contentType})
		if err != nil {
			t.Fatal(err)
		}
		return form
	}
	with := func(fields map[string]string, k, v string) map[string]string {
		out := map[string]string{}
		for fk, fv := range fields {
			out[fk] = fv
		}
		out[k] = v
		return out
	}

	t.Run("accepted", func(t *testing.T) {
		form := sign(t, newSigner(t), "image/jpeg")
		file := jpeg(4096) // the maximum itself
		status, body := postForm(t, form.URL, form.Fields, "image/jpeg", file)
		if status != http.StatusCreated {
			t.Fatalf("post: status %d, want 201; body:\n%s", status, body)
		}
		var answer postResponse
		if err := xml.Unmarshal(body, &answer); err != nil || answer.ETag == "" || answer.Key != form.Key || answer.Bucket != bucket {
			t.Fatalf("201 answer %+v (%v), want the bucket, the key %s and an ETag:\n%s", answer, err, form.Key, body)
		}
		head, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(form.Key)})
		if err != nil {
			t.Fatalf("the object is not there: %v", err)
		}
		if aws.ToString(head.ContentType) != "image/jpeg" || aws.ToInt64(head.ContentLength) != int64(len(file)) {
			t.Errorf("object: Content-Type %q, %d bytes; want image/jpeg, %d", aws.ToString(head.ContentType), aws.ToInt64(head.ContentLength), len(file))
		}
		if aws.ToString(head.ETag) != answer.ETag {
			t.Errorf("HEAD ETag %s, the post's answer %s", aws.ToString(head.ETag), answer.ETag)
		}
	})

	refused := []struct {
		name       string
		opts       []signer.Option
		signedType string
		fields     func(signer.Form) map[string]string
		fileType   string
		file       []byte
		wantStatus int
		wantCode   string
		// wantMessage is in MinIO's message: the refusal is for the reason the case is about.
		wantMessage string
	}{
		{name: "oversize", signedType: "image/jpeg", fileType: "image/jpeg", file: jpeg(4097),
			wantStatus: http.StatusBadRequest, wantCode: "EntityTooLarge", wantMessage: "exceeds the maximum"},
		{name: "empty", signedType: "image/jpeg", fileType: "image/jpeg", file: nil,
			wantStatus: http.StatusBadRequest, wantCode: "EntityTooSmall", wantMessage: "smaller than the minimum"},
		{name: "other_content_type", signedType: "image/jpeg", fileType: "image/gif", file: jpeg(100),
			fields:     func(f signer.Form) map[string]string { return with(f.Fields, "Content-Type", "image/gif") },
			wantStatus: http.StatusForbidden, wantCode: "AccessDenied", wantMessage: "Policy Condition failed"},
		{name: "svg_on_png_form", signedType: "image/png", fileType: "image/svg+xml", file: []byte(svg),
			fields:     func(f signer.Form) map[string]string { return with(f.Fields, "Content-Type", "image/svg+xml") },
			wantStatus: http.StatusForbidden, wantCode: "AccessDenied", wantMessage: "Policy Condition failed"},
		{name: "key_outside_prefix", signedType: "image/jpeg", fileType: "image/jpeg", file: jpeg(100),
			fields:     func(f signer.Form) map[string]string { return with(f.Fields, "key", "index.html") },
			wantStatus: http.StatusForbidden, wantCode: "AccessDenied", wantMessage: "Policy Condition failed"},
		{name: "other_key_under_prefix", signedType: "image/jpeg", fileType: "image/jpeg", file: jpeg(100),
			fields: func(f signer.Form) map[string]string {
				return with(f.Fields, "key", prefix+"chosen-by-the-browser.jpg")
			},
			wantStatus: http.StatusForbidden, wantCode: "AccessDenied", wantMessage: "Policy Condition failed"},
		{name: "expired", opts: []signer.Option{signer.WithClock(func() time.Time { return time.Now().Add(-time.Hour) })},
			signedType: "image/jpeg", fileType: "image/jpeg", file: jpeg(100),
			wantStatus: http.StatusForbidden, wantCode: "AccessDenied", wantMessage: "Policy expired"},
		{name: "unsigned_field", signedType: "image/jpeg", fileType: "image/jpeg", file: jpeg(100),
			fields:     func(f signer.Form) map[string]string { return with(f.Fields, "Content-Disposition", "inline") },
			wantStatus: http.StatusForbidden, wantCode: "AccessDenied", wantMessage: "must appear in the list of policy conditions"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			form := sign(t, newSigner(t, tt.opts...), tt.signedType)
			fields := form.Fields
			if tt.fields != nil {
				fields = tt.fields(form)
			}
			status, body := postForm(t, form.URL, fields, tt.fileType, tt.file)
			if status != tt.wantStatus || errorCode(body) != tt.wantCode || !strings.Contains(string(body), tt.wantMessage) {
				t.Fatalf("post: status %d %s, want %d %s with %q; body:\n%s", status, errorCode(body), tt.wantStatus, tt.wantCode, tt.wantMessage, body)
			}
			for _, key := range []string{form.Key, fields["key"]} {
				_, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
				var apiErr smithy.APIError
				if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "NotFound" {
					t.Errorf("HEAD %s after a refused post: %v, want NotFound", key, err)
				}
			}
		})
	}

	t.Run("svg_type_not_signed", func(t *testing.T) {
		_, err := newSigner(t).Sign(ctx, signer.Request{ContentType: "image/svg+xml"})
		var re *signer.RefusedError
		if !errors.As(err, &re) || !errors.Is(err, signer.ErrContentType) || !strings.Contains(err.Error(), "SVG") {
			t.Fatalf("Sign(image/svg+xml) error %v, want a *RefusedError for the content type", err)
		}
	})
}
