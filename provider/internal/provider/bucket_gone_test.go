package provider

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"

	"github.com/staticmedia/staticmedia/internal/testbed"
)

// TestAccBucketResource_deletedBeforeUpdate deletes the bucket between the plan and the apply of an update:
// the fault proxy in front of S3 deletes it, straight at moto, when the first PutBucketVersioning arrives.
// The update must fail at once with a message that says what happened, after exactly one attempt (it used
// to retry NoSuchBucket for the whole update timeout), and the next apply must create the bucket anew.
func TestAccBucketResource_deletedBeforeUpdate(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	m := testbed.StartMoto(t)
	admin := adminS3(t, m)
	proxy := testbed.StartFaultProxy(t, m.Endpoint, 1)
	const bucket = "staticmedia-deleted"
	const addr = "staticmedia_bucket.test"
	config := func(versioning bool) string {
		// The update timeout is short so that, without the fix, the test fails in seconds rather than minutes.
		return testAccProviderConfig(motoKeys(m), proxy.URL, m.Endpoint) + fmt.Sprintf(`
resource "staticmedia_bucket" "test" {
  bucket     = %q
  versioning = %t
  timeouts {
    update = "20s"
  }
}
`, bucket, versioning)
	}
	isPutVersioning := func(method, path, query string) bool {
		return method == http.MethodPut && strings.Trim(path, "/") == bucket && strings.HasPrefix(query, "versioning")
	}
	var once sync.Once
	deleteOnUpdate := func(r *http.Request) {
		if !isPutVersioning(r.Method, r.URL.Path, r.URL.RawQuery) {
			return
		}
		once.Do(func() {
			_, err := deleteBucket(context.Background(), admin, bucket, true)
			mustDo(t, "deleting the bucket behind the provider's back", err)
		})
	}

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkBucketGone(admin, bucket),
		Steps: []resource.TestStep{
			{Config: config(false)},
			{
				PreConfig:   func() { proxy.OnRequest(deleteOnUpdate) },
				Config:      config(true),
				ExpectError: phrase(fmt.Sprintf("S3 bucket %q no longer exists: it was deleted outside Terraform after the plan was made", bucket)),
			},
			{
				// The refresh finds the bucket gone, so the plan creates it.
				PreConfig: func() {
					proxy.OnRequest(nil)
					attempts := proxy.Count(func(e testbed.Exchange) bool { return isPutVersioning(e.Method, e.Path, e.Query) })
					if attempts != 1 { // the create puts no versioning when it is off
						t.Errorf("the proxy saw %d PutBucketVersioning requests, want 1: the update must not retry NoSuchBucket", attempts)
					}
				},
				Config: config(true),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate)},
				},
			},
		},
	})
}

// TestAccBucketResource_bare404IsNotGone puts a proxy in front of S3 that, for one plan, answers every request
// with a bare 404, as a wrong endpoint or a misrouting proxy does. HeadBucket's 404 carries no error code (a
// HEAD answer has no body), so it alone is no proof that the bucket was deleted: the refresh must fail and
// say so, not drop the bucket from the state and plan to create it again.
func TestAccBucketResource_bare404IsNotGone(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	m := testbed.StartMoto(t)
	admin := adminS3(t, m)
	var misroute atomic.Bool
	proxy := startInterceptProxy(t, m.Endpoint, func(_ *http.Request, _ []byte, w http.ResponseWriter) bool {
		if !misroute.Load() {
			return false
		}
		w.WriteHeader(http.StatusNotFound)
		return true
	}, nil)
	const bucket = "staticmedia-bare-404"
	config := testAccProviderConfig(motoKeys(m), proxy.URL, m.Endpoint) + fmt.Sprintf(`
resource "staticmedia_bucket" "test" {
  bucket = %q
}
`, bucket)

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkBucketGone(admin, bucket),
		Steps: []resource.TestStep{
			{Config: config},
			{
				PreConfig:   func() { misroute.Store(true) },
				Config:      config,
				PlanOnly:    true,
				ExpectError: phrase(fmt.Sprintf("Reading S3 bucket %q failed", bucket)),
			},
			{
				PreConfig: func() { misroute.Store(false) },
				Config:    config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}
