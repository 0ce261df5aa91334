package provider

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/staticmedia/staticmedia/internal/testbed"
)

// hasSubresource reports whether a request's query names the S3 subresource ("policy", "publicAccessBlock").
func hasSubresource(rawQuery, name string) bool {
	q, err := url.ParseQuery(rawQuery)
	return err == nil && q.Has(name)
}

// TestAccRefererPolicyResource_openBeforePolicy proves the order AWS requires and moto cannot enforce: a
// bucket made by staticmedia_bucket has BlockPublicPolicy and RestrictPublicBuckets on, and AWS rejects a
// Principal "*" policy until they are off. S3 goes through a fault proxy (no faults) in front of moto, which
// records every request; when PutBucketPolicy arrives, a hook reads the bucket's Block Public Access straight
// from moto. The policy request must find both settings off, and the PutPublicAccessBlock that turned them
// off must have been answered before it started.
func TestAccRefererPolicyResource_openBeforePolicy(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	m := testbed.StartMoto(t)
	admin := adminS3(t, m) // straight to moto, bypassing the proxy
	proxy := testbed.StartFaultProxy(t, m.Endpoint, 1)
	const bucket = "referer-order"

	// atPolicy is the bucket's Block Public Access as moto held it when each PutBucketPolicy arrived.
	var (
		mu       sync.Mutex
		atPolicy []string
	)
	proxy.OnRequest(func(r *http.Request) {
		if r.Method != http.MethodPut || !hasSubresource(r.URL.RawQuery, "policy") {
			return
		}
		out, err := admin.GetPublicAccessBlock(r.Context(), &s3.GetPublicAccessBlockInput{Bucket: aws.String(bucket)})
		state := "unreadable: " + fmt.Sprint(err)
		if err == nil {
			c := out.PublicAccessBlockConfiguration
			state = fmt.Sprintf("BlockPublicPolicy=%v RestrictPublicBuckets=%v",
				aws.ToBool(c.BlockPublicPolicy), aws.ToBool(c.RestrictPublicBuckets))
		}
		mu.Lock()
		atPolicy = append(atPolicy, state)
		mu.Unlock()
	})

	// Only S3 goes through the proxy; IAM, STS and S3 Control go to moto directly.
	config := testAccProviderConfig(motoKeys(m), proxy.URL, m.Endpoint) + fmt.Sprintf(`
resource "staticmedia_bucket" "media" {
  bucket = %q
}

resource "staticmedia_referer_policy" "test" {
  bucket          = staticmedia_bucket.media.bucket
  allowed_domains = ["example.com"]
}
`, bucket)

	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: config,
			Check: func(*terraform.State) error {
				return checkOpenedBeforePolicy(proxy.Exchanges(), bucket)
			},
		}},
	})

	mu.Lock()
	defer mu.Unlock()
	if len(atPolicy) == 0 {
		t.Fatal("the proxy saw no PutBucketPolicy: the S3 endpoint did not go through it")
	}
	for i, state := range atPolicy {
		if state != "BlockPublicPolicy=false RestrictPublicBuckets=false" {
			t.Errorf("PutBucketPolicy #%d arrived while the bucket had %s, want both off", i+1, state)
		}
	}
}

// checkOpenedBeforePolicy finds the first PutBucketPolicy to bucket and the PutPublicAccessBlock calls
// before it: staticmedia_bucket's (all on) and then the referer policy's (two off). The last of those must
// have succeeded and ended before the policy request started, and none may overlap it.
func checkOpenedBeforePolicy(exchanges []testbed.Exchange, bucket string) error {
	isBucket := func(e testbed.Exchange) bool { return strings.Trim(e.Path, "/") == bucket }
	var policy *testbed.Exchange
	for i, e := range exchanges {
		if isBucket(e) && e.Method == http.MethodPut && hasSubresource(e.Query, "policy") {
			policy = &exchanges[i]
			break
		}
	}
	if policy == nil {
		return fmt.Errorf("no PutBucketPolicy to %s among %d exchanges", bucket, len(exchanges))
	}
	if policy.Status != http.StatusOK && policy.Status != http.StatusNoContent {
		return fmt.Errorf("PutBucketPolicy answered %d", policy.Status)
	}
	var blocks []testbed.Exchange
	for _, e := range exchanges {
		if isBucket(e) && e.Method == http.MethodPut && hasSubresource(e.Query, "publicAccessBlock") {
			if e.Start.Before(policy.End) && e.End.After(policy.Start) {
				return fmt.Errorf("a PutPublicAccessBlock (%v to %v) overlapped PutBucketPolicy (%v to %v)",
					e.Start, e.End, policy.Start, policy.End)
			}
			if e.End.Before(policy.Start) {
				blocks = append(blocks, e)
			}
		}
	}
	// One from staticmedia_bucket at creation, one from the referer policy that opens the two settings.
	if len(blocks) < 2 {
		return fmt.Errorf("%d PutPublicAccessBlock requests ended before PutBucketPolicy started, want the bucket's and the policy's", len(blocks))
	}
	if last := blocks[len(blocks)-1]; last.Status != http.StatusOK {
		return fmt.Errorf("the PutPublicAccessBlock before PutBucketPolicy answered %d", last.Status)
	}
	return nil
}
