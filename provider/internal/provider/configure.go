package provider

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
)

// endpointPattern accepts http(s) URLs; awsconfig re-validates them when the configuration loads.
var endpointPattern = regexp.MustCompile(`^https?://[^\s/]+`)

func envServiceName(service string) string {
	return strings.ToUpper(strings.ReplaceAll(service, " ", "_"))
}

func anyUnknown(values ...attr.Value) bool {
	for _, v := range values {
		if v.IsUnknown() {
			return true
		}
	}
	return false
}

// providerDataFrom converts the value Configure handed over. It returns nil without a diagnostic when the
// provider is not configured yet (Terraform calls Configure on resources early during validation).
func providerDataFrom(data any, diags *diag.Diagnostics) *providerData {
	if data == nil {
		return nil
	}
	pd, ok := data.(*providerData)
	if !ok {
		diags.AddError("Unexpected Provider Data",
			fmt.Sprintf("Expected *providerData, got %T. This is a bug in the provider; please report it.", data))
		return nil
	}
	return pd
}
