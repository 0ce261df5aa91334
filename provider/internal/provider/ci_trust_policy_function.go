package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/staticmedia/staticmedia/internal/policy"
)

var _ function.Function = (*ciTrustPolicyFunction)(nil)

// NewCITrustPolicyFunction returns provider::staticmedia::ci_trust_policy.
func NewCITrustPolicyFunction() function.Function {
	return &ciTrustPolicyFunction{}
}

type ciTrustPolicyFunction struct{}

func (f *ciTrustPolicyFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "ci_trust_policy"
}

func (f *ciTrustPolicyFunction) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	resp.Definition = function.Definition{
		Summary: "Trust policy that lets CI jobs of named repositories assume a role with their OIDC token",
		MarkdownDescription: "Returns the trust policy that `staticmedia_upload_role` puts on its role, as JSON, for use as " +
			"`assume_role_policy` of an `aws_iam_role` from the AWS provider: the OIDC provider may exchange a token for " +
			"the role's credentials (`sts:AssumeRoleWithWebIdentity`) when its `aud` claim equals the audience and its " +
			"`sub` claim matches one of the subjects. Subjects are sorted and deduplicated.\n\n" +
			"Subjects that would let other owners' repositories in are refused with an error: `*`, `repo:*`, " +
			"`repo:*/...`, a GitHub subject that does not start with `repo:OWNER/NAME:`, a GitLab one without " +
			"`project_path:GROUP/`. Attach `upload_policy` to the role as its only permission.",
		Parameters: []function.Parameter{
			function.StringParameter{
				Name:               "oidc_provider_arn",
				AllowUnknownValues: true,
				MarkdownDescription: "ARN of the IAM OIDC provider of the CI's issuer, for example " +
					"`arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com` (the `arn` of an " +
					"`aws_iam_openid_connect_provider`).",
			},
			function.ListParameter{
				Name:               "subjects",
				ElementType:        types.StringType,
				AllowUnknownValues: true,
				Validators:         []function.ListParameterValidator{listvalidator.NoNullValues()},
				MarkdownDescription: "`sub` claim `StringLike` patterns, for example `\"repo:OWNER/NAME:ref:refs/heads/main\"` " +
					"(GitHub) or `\"project_path:GROUP/PROJECT:ref_type:branch:ref:main\"` (GitLab).",
			},
		},
		VariadicParameter: function.StringParameter{
			Name: "audience",
			MarkdownDescription: "Optional: the `aud` claim tokens must carry, at most one. Defaults to `" +
				policy.DefaultCIAudience + "`.",
		},
		Return: function.StringReturn{},
	}
}

func (f *ciTrustPolicyFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	var arn types.String
	var subjectList types.List
	var audiences []string
	resp.Error = function.ConcatFuncErrors(resp.Error, req.Arguments.Get(ctx, &arn, &subjectList, &audiences))
	if resp.Error != nil {
		return
	}
	// Inputs are checked one by one first so each error names the argument that caused it. The ARN of an OIDC
	// provider created in the same apply is unknown at plan, and so may be a subject: the known subjects are
	// checked then (without the platform while the ARN is unknown), as staticmedia_upload_role checks them, so a
	// subject that lets other owners in fails the plan, and the result is unknown.
	subjects, unknownSubject := knownStrings(subjectList.Elements())
	unknown := arn.IsUnknown() || subjectList.IsUnknown() || unknownSubject
	var provider policy.OIDCProvider
	if !arn.IsUnknown() {
		p, err := policy.ParseOIDCProviderARN(arn.ValueString())
		if err != nil {
			resp.Error = function.NewArgumentFuncError(0, err.Error())
			return
		}
		provider = p
	}
	if _, err := policy.ValidateCISubjects(provider, subjects); err != nil && (!unknown || len(subjects) > 0) {
		resp.Error = function.NewArgumentFuncError(1, err.Error())
		return
	}
	in := policy.CITrustInput{OIDCProviderARN: arn.ValueString(), Subjects: subjects}
	switch len(audiences) {
	case 0:
	case 1:
		in.Audience = audiences[0]
		if err := policy.ValidateCIAudience(in.Audience); err != nil || in.Audience == "" {
			msg := "the audience is empty: leave it out for " + policy.DefaultCIAudience + " or give the aud claim"
			if err != nil {
				msg = err.Error()
			}
			resp.Error = function.NewArgumentFuncError(2, msg)
			return
		}
	default:
		resp.Error = function.NewArgumentFuncError(2, "give at most one audience: a token carries the aud claim the CI was asked for")
		return
	}
	if unknown {
		resp.Error = function.ConcatFuncErrors(resp.Error, resp.Result.Set(ctx, types.StringUnknown()))
		return
	}
	doc, err := policy.CITrust(in)
	if err != nil {
		resp.Error = function.NewFuncError(err.Error())
		return
	}
	out, err := doc.JSON()
	if err != nil {
		resp.Error = function.NewFuncError(err.Error())
		return
	}
	resp.Error = function.ConcatFuncErrors(resp.Error, resp.Result.Set(ctx, out))
}

// knownStrings returns the known, non-null strings among elems, and whether one of them is unknown.
func knownStrings(elems []attr.Value) (known []string, anyUnknown bool) {
	for _, e := range elems {
		s, ok := e.(types.String)
		switch {
		case !ok:
		case s.IsUnknown():
			anyUnknown = true
		case !s.IsNull():
			known = append(known, s.ValueString())
		}
	}
	return known, anyUnknown
}
