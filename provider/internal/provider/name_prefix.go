package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// The unique suffix appended to a name_prefix is terraform-provider-aws's (id.PrefixedUniqueId): the UTC time
// to the 1/10000 second, then an 8-digit hexadecimal counter, 26 characters that sort in creation order.
const (
	uniqueSuffixLength = 26
	// iamNameMaxLength is the longest IAM user or role name.
	iamNameMaxLength = 64
)

var (
	uniqueSuffixPattern = regexp.MustCompile(`^(.*)\d{18}[0-9a-f]{8}$`)
	uniqueSuffixMu      sync.Mutex
	uniqueSuffixCounter uint32
)

// prefixedUniqueName returns prefix followed by a suffix no earlier call in this process returned, and that
// another process is very unlikely to return (it starts with the time).
func prefixedUniqueName(prefix string) string {
	uniqueSuffixMu.Lock()
	defer uniqueSuffixMu.Unlock()
	uniqueSuffixCounter++
	stamp := strings.Replace(time.Now().UTC().Format("20060102150405.0000"), ".", "", 1)
	return fmt.Sprintf("%s%s%08x", prefix, stamp, uniqueSuffixCounter)
}

// namePrefixFromName returns the name_prefix a name was generated from, or null when the name does not end in a
// unique suffix. Import uses it so that a configuration with name_prefix plans no replacement.
func namePrefixFromName(name string) types.String {
	m := uniqueSuffixPattern.FindStringSubmatch(name)
	if m == nil {
		return types.StringNull()
	}
	return types.StringValue(m[1])
}

// iamNameAttributes are name and name_prefix of an IAM user or role (kind is "user" or "role"): exactly one may
// be set, and name is computed from name_prefix at create. Changing either replaces the entity.
func iamNameAttributes(kind string) (name, namePrefix schema.StringAttribute) {
	chars := stringvalidator.RegexMatches(iamNamePattern, "may contain only letters, digits and + = , . @ _ -")
	exclusive := stringvalidator.ExactlyOneOf(path.MatchRoot("name"), path.MatchRoot("name_prefix"))
	name = schema.StringAttribute{
		MarkdownDescription: fmt.Sprintf("Name of the IAM %s. Changing it replaces the %[1]s. Exactly one of `name` and "+
			"`name_prefix` must be set; with `name_prefix` this is the generated name.", kind),
		Optional:   true,
		Computed:   true,
		Validators: []validator.String{stringvalidator.LengthBetween(1, iamNameMaxLength), chars, exclusive},
		PlanModifiers: []planmodifier.String{
			stringplanmodifier.UseStateForUnknown(),
			stringplanmodifier.RequiresReplace(),
		},
	}
	namePrefix = schema.StringAttribute{
		MarkdownDescription: fmt.Sprintf("Creates a unique name beginning with this prefix, as `aws_iam_role`'s "+
			"`name_prefix` does: the prefix followed by %d characters (the creation time and a counter). Use it when the %s "+
			"may be replaced while a dependent resource is `create_before_destroy`: Terraform then creates the new %[2]s "+
			"before deleting the old one, and one fixed name cannot exist twice. At most %d characters. Changing it "+
			"replaces the %[2]s.", uniqueSuffixLength, kind, iamNameMaxLength-uniqueSuffixLength),
		Optional: true,
		// Computed so that the name_prefix an import recovers from a generated-looking name can stay in state
		// under a configuration that sets name: an optional-only attribute would plan it to null, a replacement.
		Computed:      true,
		Validators:    []validator.String{stringvalidator.LengthBetween(1, iamNameMaxLength-uniqueSuffixLength), chars},
		PlanModifiers: []planmodifier.String{namePrefixPlanModifier{}},
	}
	return name, namePrefix
}

// namePrefixPlanModifier plans name_prefix: the configured value, which replaces the entity when it changes;
// without one (name is set), null for a new entity, and the state's value while the entity keeps its name, so
// pinning a generated name with name, or importing a name that ends like a generated one, replaces nothing.
type namePrefixPlanModifier struct{}

func (namePrefixPlanModifier) Description(context.Context) string {
	return "The configured value replaces the entity when it changes; without one, the state's value while the name stays."
}

func (m namePrefixPlanModifier) MarkdownDescription(ctx context.Context) string {
	return m.Description(ctx)
}

func (namePrefixPlanModifier) PlanModifyString(ctx context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	creating := req.State.Raw.IsNull()
	if !req.ConfigValue.IsNull() {
		resp.RequiresReplace = !creating && !req.PlanValue.Equal(req.StateValue)
		return
	}
	resp.PlanValue = types.StringNull()
	if creating {
		return
	}
	var configName, stateName types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("name"), &configName)...)
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("name"), &stateName)...)
	if configName.Equal(stateName) {
		resp.PlanValue = req.StateValue
	}
}

// planIAMName plans name when the configuration leaves it to name_prefix: the name in state while the entity is
// kept, unknown when it is created or replaced (a new name is generated then).
func planIAMName(ctx context.Context, config tfsdk.Config, plannedName types.String, statePrefix, planPrefix types.String, hasState bool) (types.String, error) {
	var configured types.String
	if d := config.GetAttribute(ctx, path.Root("name"), &configured); d.HasError() {
		return plannedName, fmt.Errorf("reading name from the configuration: %v", d)
	}
	if !configured.IsNull() {
		return plannedName, nil
	}
	if !hasState || !planPrefix.Equal(statePrefix) {
		return types.StringUnknown(), nil
	}
	return plannedName, nil
}

// iamNameToCreate returns the name Create gives the entity: name when known, else a new name from name_prefix.
func iamNameToCreate(name, namePrefix types.String) string {
	if !name.IsUnknown() && !name.IsNull() {
		return name.ValueString()
	}
	return prefixedUniqueName(namePrefix.ValueString())
}
