package provider

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/staticmedia/staticmedia/internal/testbed"
)

// credentialKey matches the access key ID in a SigV4 Authorization header.
var credentialKey = regexp.MustCompile(`Credential=([^/,\s]+)/`)

// stsKeyGate stands in front of moto's STS and plays IAM's eventual consistency, which moto does not have:
// the first `refuse` requests signed with any key other than the admin's are answered as AWS answers an
// unknown key (403 InvalidClientTokenId) without reaching moto; the rest are forwarded. It records, per
// request with a new key, "refused" or "forwarded", in order.
type stsKeyGate struct {
	*interceptProxy
	mu   sync.Mutex
	seen []string
}

// record notes what happened to one request with a new key.
func (g *stsKeyGate) record(what string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.seen = append(g.seen, what)
}

// sequence is what happened to the requests with a new key so far, in order.
func (g *stsKeyGate) sequence() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return strings.Join(g.seen, " ")
}

func startSTSKeyGate(t *testing.T, m *testbed.Moto, refuse int) *stsKeyGate {
	t.Helper()
	g := &stsKeyGate{}
	refused := 0
	g.interceptProxy = startInterceptProxy(t, m.Endpoint, func(r *http.Request, _ []byte, w http.ResponseWriter) bool {
		key := credentialKey.FindStringSubmatch(r.Header.Get("Authorization"))
		if key == nil || key[1] == m.AccessKey {
			return false // the admin's own calls (Configure's credential check) pass
		}
		if refused < refuse {
			refused++
			g.record("refused")
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>`+
				`<Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message>`+
				`</Error><RequestId>staticmedia-test</RequestId></ErrorResponse>`)
			return true
		}
		g.record("forwarded")
		return false
	}, nil)
	return g
}

// TestAccUploadAccessKeyResource_propagationWait proves the wait for a new key: STS refuses the new key
// twice, as AWS does while IAM propagates it, and create must keep asking until the key authenticates the
// required number of times in a row. With wait_for_propagation = false, create must not use the key at all.
func TestAccUploadAccessKeyResource_propagationWait(t *testing.T) {
	t.Parallel()
	testAccPreCheck(t)
	const refusals = 2
	tests := []struct {
		name string
		wait bool
		want []string
	}{
		{"wait", true, append([]string{"refused", "refused"}, strings.Split(strings.Repeat("forwarded ", keyPropagationSuccesses), " ")[:keyPropagationSuccesses]...)},
		{"no wait", false, nil},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := testbed.StartMoto(t)
			gate := startSTSKeyGate(t, m, refusals)
			config := fmt.Sprintf(`
provider "staticmedia" {
%[1]s  endpoints {
    s3        = %[2]q
    iam       = %[2]q
    sts       = %[3]q
    s3control = %[2]q
  }
}

resource "staticmedia_upload_user" "test" {
  name   = "propagation-%[4]d"
  bucket = "media"
}

resource "staticmedia_upload_access_key" "test" {
  user                 = staticmedia_upload_user.test.name
  wait_for_propagation = %[5]t
}
`, motoKeys(m), m.Endpoint, gate.URL, i, tt.wait)
			resource.Test(t, resource.TestCase{
				PreCheck:                 func() { testAccPreCheck(t) },
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config: config,
					Check: func(*terraform.State) error {
						if got := gate.sequence(); got != strings.Join(tt.want, " ") {
							return fmt.Errorf("STS saw the new key as [%s], want [%s]", got, strings.Join(tt.want, " "))
						}
						return nil
					},
				}},
			})
		})
	}
}
