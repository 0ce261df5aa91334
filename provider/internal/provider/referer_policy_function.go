package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/staticmedia/staticmedia/internal/policy"
)

var _ function.Function = (*refererPolicyFunction)(nil)

// NewRefererPolicyFunction returns provider::staticmedia::referer_policy.
func NewRefererPolicyFunction() function.Function {
	return &refererPolicyFunction{}
}

type refererPolicyFunction struct{}

func (f *refererPolicyFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "referer_policy"
}

func (f *refererPolicyFunction) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	resp.Definition = function.Definition{
		Summary: "Bucket policy that allows GET only with an allowed Referer",
		MarkdownDescription: "Returns the bucket policy that `staticmedia_referer_policy` applies, as JSON, for use with " +
			"`aws_s3_bucket_policy` from the AWS provider: anyone may `GET` objects when the `Referer` matches one of the " +
			"patterns and, with `allow_empty_referer`, when there is none. ARNs use the `aws` partition unless a `partition` argument names another (`aws-cn`, `aws-us-gov`, ...).\n\n" +
			"Referer checks are hotlink protection, not access control: any client can send any `Referer`. The bucket's " +
			"Block Public Access must allow public policies (`block_public_policy = false`, `restrict_public_buckets = false`) " +
			"for AWS to accept and honour this policy.",
		Parameters: []function.Parameter{
			function.StringParameter{
				Name:                "bucket",
				MarkdownDescription: "Bucket name.",
			},
			function.ListParameter{
				Name:        "referers",
				ElementType: types.StringType,
				MarkdownDescription: "`aws:Referer` `StringLike` patterns such as `\"https://*.example.com/*\"`; each must start " +
					"with `http://` or `https://` and have a path. May be empty when `allow_empty_referer` is true.",
			},
			function.BoolParameter{
				Name:                "allow_empty_referer",
				MarkdownDescription: "Also allow requests without a `Referer` header (a second statement with a `Null` condition).",
			},
		},
		VariadicParameter: partitionParameter(),
		Return:            function.StringReturn{},
	}
}

func (f *refererPolicyFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	var bucket string
	var referers []string
	var allowEmpty bool
	var partitions []string
	resp.Error = function.ConcatFuncErrors(resp.Error, req.Arguments.Get(ctx, &bucket, &referers, &allowEmpty, &partitions))
	if resp.Error != nil {
		return
	}
	partition, funcErr := partitionArgument(partitions, 3)
	if funcErr != nil {
		resp.Error = funcErr
		return
	}
	// Inputs are checked one by one first so each error names the argument that caused it.
	if err := policy.ValidateBucketName(bucket); err != nil {
		resp.Error = function.NewArgumentFuncError(0, err.Error())
		return
	}
	for _, r := range referers {
		if err := policy.ValidateReferer(r); err != nil {
			resp.Error = function.NewArgumentFuncError(1, err.Error())
			return
		}
	}
	doc, err := policy.RefererRead(policy.RefererReadInput{
		Partition:         partition,
		Bucket:            bucket,
		Referers:          referers,
		AllowEmptyReferer: allowEmpty,
	})
	if err != nil {
		// What is left is "allows nothing" (no referers and allow_empty_referer false) or the size limit,
		// both fixed through the referer list.
		resp.Error = function.NewArgumentFuncError(1, err.Error())
		return
	}
	out, err := doc.JSON()
	if err != nil {
		resp.Error = function.NewFuncError(err.Error())
		return
	}
	resp.Error = function.ConcatFuncErrors(resp.Error, resp.Result.Set(ctx, out))
}
