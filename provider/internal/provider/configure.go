package provider

import (
	"regexp"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// endpointPattern accepts http(s) URLs; awsconfig re-validates them when the configuration loads.
var endpointPattern = regexp.MustCompile(`^https?://[^\s/]+`)

func envServiceName(service string) string {
	return strings.ToUpper(strings.ReplaceAll(service, " ", "_"))
}

// hasUnknown reports whether any value, or any element of a list or set, is unknown.
func hasUnknown(values ...attr.Value) bool {
	for _, v := range values {
		if v.IsUnknown() {
			return true
		}
		var elems []attr.Value
		switch c := v.(type) {
		case types.List:
			elems = c.Elements()
		case types.Set:
			elems = c.Elements()
		}
		if hasUnknown(elems...) {
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
		diags.Append(unexpectedProviderDataError(data))
		return nil
	}
	return pd
}
