package provider

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"flag"
	"fmt"
	"html/template"
	"image"
	"image/color"
	"image/jpeg"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/chromedp/chromedp"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/staticmedia/staticmedia/internal/testbed"
	"github.com/staticmedia/staticmedia/uploader/signer"
)

// updateScreenshot rewrites the guide's screenshot of the demo page: go test -run TestAccDirectUpload_browserMinIO -args -update-screenshot.
var updateScreenshot = flag.Bool("update-screenshot", false, "rewrite templates/guides/direct-uploads.png from the browser test")

//go:embed testdata/direct-upload/page.html
var uploadPageHTML string

var uploadPage = template.Must(template.New("page").Parse(uploadPageHTML))

// uploadResult is what the page reports after an upload: the answer's status, its ETag header and the ETag in
// its XML body (both empty when the page may not read them), and the browser's error when the request failed.
type uploadResult struct {
	Status     int    `json:"status"`
	ETag       string `json:"etag"`
	BodyETag   string `json:"bodyETag"`
	Key        string `json:"key"`
	Error      string `json:"error"`
	Preflights bool   `json:"preflights"`
}

// testJPEG is a small real JPEG (a gradient), what a user would pick.
func testJPEG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 96, 64))
	for x := range 96 {
		for y := range 64 {
			img.Set(x, y, color.RGBA{R: uint8(x * 2), G: uint8(120 + y), B: 200, A: 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// startSite serves the demo page on host (its origin is the returned server's URL). With sign, it is the site
// itself: POST /sign checks the user (here: anyone) and asks the signer for a form, as a Go app does with the
// signer package; the browser never sees a credential. Without sign it is a foreign site that has no signer.
func startSite(t *testing.T, l net.Listener, title string, sign *signer.Signer, photo []byte) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := uploadPage.Execute(w, map[string]string{"Title": title}); err != nil {
			t.Errorf("rendering the page: %v", err)
		}
	})
	mux.HandleFunc("GET /photo.jpg", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		_, _ = w.Write(photo)
	})
	if sign != nil {
		mux.HandleFunc("POST /sign", func(w http.ResponseWriter, r *http.Request) {
			var req struct {
				ContentType string `json:"content_type"`
				Size        int64  `json:"size"`
			}
			if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			form, err := sign.Sign(r.Context(), signer.Request{ContentType: req.ContentType, Size: req.Size})
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(form)
		})
	}
	srv := httptest.NewUnstartedServer(mux)
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// listen opens a listener on a free port of host (a loopback address).
func listen(t *testing.T, host string) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", host+":0")
	if err != nil {
		t.Fatalf("listening on %s: %v", host, err)
	}
	return l
}

// upload opens the page at siteURL in a new tab and runs its upload: with form nil the page asks its own
// /sign for one. mode "fetch" posts with fetch and FormData (a simple request: no preflight); mode "xhr" posts
// with an XMLHttpRequest that listens to upload progress, as Active Storage and Uppy do, which makes the
// browser send a CORS preflight first.
func upload(ctx context.Context, siteURL, mode string, form *signer.Form) (uploadResult, error) {
	formJSON := "null"
	if form != nil {
		b, err := json.Marshal(form)
		if err != nil {
			return uploadResult{}, err
		}
		formJSON = string(b)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(siteURL)); err != nil {
		return uploadResult{}, fmt.Errorf("loading %s: %w", siteURL, err)
	}
	res, err := chromedp.Run(ctx, chromedp.Evaluate[uploadResult](fmt.Sprintf("upload(%q, %s)", mode, formJSON), chromedp.EvalAwaitPromise))
	if err != nil {
		return uploadResult{}, fmt.Errorf("running the upload on %s: %w", siteURL, err)
	}
	return res, nil
}

// headContentType returns the stored object's Content-Type and ETag.
func headObject(ctx context.Context, client *s3.Client, bucket, key string) (contentType, etag string, err error) {
	out, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return "", "", err
	}
	return aws.ToString(out.ContentType), aws.ToString(out.ETag), nil
}

// TestAccDirectUpload_browserCORSMoto is the direct upload in a real browser against moto, with the bucket's
// CORS rules applied by staticmedia_bucket_cors. moto evaluates those rules on preflight (OPTIONS) but not on the
// POST's own answer, to which it adds Access-Control-Allow-Origin for every origin (moto 5.2.1's server-wide
// flask-cors). So the page on the allowed origin uploads both ways, and the foreign page is tested on the path
// where moto applies the rules: the preflight that an upload with progress events makes. The preflight-less
// foreign case, where S3 answers without Access-Control-Allow-Origin, runs on MinIO
// (TestAccDirectUpload_browserMinIO).
func TestAccDirectUpload_browserCORSMoto(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	m := testbed.StartMoto(t)
	browser := testbed.StartChromium(t)
	admin := adminS3(t, m)
	const bucket = "direct-upload-moto"
	sign, err := signer.New(admin, signer.Config{Bucket: bucket, KeyPrefix: "incoming/", MaxBytes: 1 << 20})
	mustDo(t, "creating the signer", err)
	photo := testJPEG(t)
	site := startSite(t, listen(t, "127.0.0.1"), "staticmedia: direct upload", sign, photo)
	foreign := startSite(t, listen(t, "127.0.0.2"), "another site", nil, photo)
	ctx := context.Background()

	check := func(*terraform.State) error {
		for _, mode := range []string{"fetch", "xhr"} {
			res, err := upload(browser.Tab(t), site.URL, mode, nil)
			if err != nil {
				return err
			}
			if res.Status != http.StatusCreated || res.Error != "" {
				return fmt.Errorf("%s upload from the allowed origin %s: %+v, want status 201", mode, site.URL, res)
			}
			ct, _, err := headObject(ctx, admin, bucket, res.Key)
			if err != nil {
				return fmt.Errorf("%s upload from %s answered 201 but %s is not in the bucket: %w", mode, site.URL, res.Key, err)
			}
			if ct != "image/jpeg" {
				return fmt.Errorf("%s upload: stored Content-Type %q, want the signed image/jpeg", mode, ct)
			}
		}
		// A form that leaked to another site: the browser's preflight is refused by the bucket's rules, so the
		// POST is never sent and the page reads nothing.
		form, err := sign.Sign(ctx, signer.Request{ContentType: "image/jpeg"})
		if err != nil {
			return err
		}
		res, err := upload(browser.Tab(t), foreign.URL, "xhr", &form)
		if err != nil {
			return err
		}
		if res.Status != 0 || res.Error == "" {
			return fmt.Errorf("upload from the foreign origin %s: %+v, want a CORS failure (status 0)", foreign.URL, res)
		}
		if _, _, err := headObject(ctx, admin, bucket, form.Key); !isNotFound(err) {
			return fmt.Errorf("after the refused preflight HeadObject %s = %w, want NotFound (the POST must not be sent)", form.Key, err)
		}
		return nil
	}

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			PreConfig: func() { createTestBucket(t, admin, bucket) },
			Config:    testAccBucketCORSConfig(testAccMotoConfig(m), bucket, fmt.Sprintf(`  allowed_origins = [%q]`, site.URL)),
			Check:     check,
		}},
	})
}

// TestAccDirectUpload_browserMinIO is the whole direct upload in a real browser against an engine that enforces
// the form's conditions and answers 201 with the ETag: MinIO, whose CORS is the server-wide
// MINIO_API_CORS_ALLOW_ORIGIN (set to the site's origin, as staticmedia_bucket_cors sets the bucket's rules on
// S3). The page on the site's origin reads the ETag from the answer; a page on another origin posting with
// fetch, no preflight, cannot read the answer. It also takes the guide's screenshot of the demo page.
func TestAccDirectUpload_browserMinIO(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	// The site's origin must be known before MinIO starts, so its listener is opened first.
	photo := testJPEG(t)
	l := listen(t, "127.0.0.1")
	origin := "http://" + l.Addr().String()
	m := testbed.StartMinIO(t, "MINIO_API_CORS_ALLOW_ORIGIN="+origin)
	browser := testbed.StartChromium(t)
	admin := adminS3(t, m)
	const bucket = "direct-upload-minio"
	createTestBucket(t, admin, bucket)
	sign, err := signer.New(admin, signer.Config{Bucket: bucket, KeyPrefix: "incoming/", MaxBytes: 1 << 20})
	mustDo(t, "creating the signer", err)
	site := startSite(t, l, "staticmedia: direct upload", sign, photo)
	foreign := startSite(t, listen(t, "127.0.0.2"), "another site", nil, photo)
	ctx := context.Background()

	tab := browser.Tab(t)
	res, err := upload(tab, site.URL, "fetch", nil)
	mustDo(t, "uploading from the site", err)
	if res.Status != http.StatusCreated || res.ETag == "" || res.BodyETag == "" {
		t.Fatalf("upload from %s: %+v, want 201 with the ETag readable in the header and the XML body", site.URL, res)
	}
	ct, etag, err := headObject(ctx, admin, bucket, res.Key)
	mustDo(t, "reading the uploaded object", err)
	if ct != "image/jpeg" || etag != res.ETag || etag != res.BodyETag {
		t.Fatalf("stored object: Content-Type %q ETag %s, page read ETag %s (body %s); want image/jpeg and the same ETag", ct, etag, res.ETag, res.BodyETag)
	}
	if *updateScreenshot {
		shot, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
		mustDo(t, "taking the screenshot", err)
		dst := filepath.Join(testbed.RepoRoot(t), "templates", "guides", "direct-uploads.png")
		mustDo(t, "writing the screenshot", os.WriteFile(dst, shot, 0o644))
		t.Logf("wrote %s", dst)
	}

	// A form that leaked to another site, posted without a preflight: the answer has no
	// Access-Control-Allow-Origin for that origin, so the page cannot read it.
	form, err := sign.Sign(ctx, signer.Request{ContentType: "image/jpeg"})
	mustDo(t, "signing a form", err)
	res, err = upload(browser.Tab(t), foreign.URL, "fetch", &form)
	mustDo(t, "uploading from the foreign site", err)
	if res.Status != 0 || res.Error == "" || res.ETag != "" {
		t.Fatalf("upload from the foreign origin %s: %+v, want a CORS failure (status 0, nothing readable)", foreign.URL, res)
	}
	// CORS hides the answer; it does not stop a POST that needs no preflight. What limits uploads is the form:
	// one key, one type, a size range, minutes of validity.
	if _, _, err := headObject(ctx, admin, bucket, form.Key); err != nil {
		t.Fatalf("HeadObject %s after the foreign post = %v; want the object stored (a simple POST reaches S3, only its answer is hidden)", form.Key, err)
	}
}
