package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/staticmedia/staticmedia/internal/policy"
)

var _ function.Function = (*uploadPolicyFunction)(nil)

// NewUploadPolicyFunction returns provider::staticmedia::upload_policy.
func NewUploadPolicyFunction() function.Function {
	return &uploadPolicyFunction{}
}

type uploadPolicyFunction struct{}

func (f *uploadPolicyFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "upload_policy"
}

func (f *uploadPolicyFunction) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	resp.Definition = function.Definition{
		Summary: "IAM policy that allows uploading into one bucket and nothing else",
		MarkdownDescription: "Returns the upload-only identity policy that `staticmedia_upload_user` attaches, as JSON, for " +
			"use with `aws_iam_user_policy` or `aws_iam_policy` from the AWS provider: `s3:PutObject` on the bucket and " +
			"its objects (or only keys starting with `key_prefix`), plus `s3:ListAllMyBuckets`, which upload tools " +
			"call first and fail without. It grants no read, list or delete on the bucket. ARNs use the `aws` partition unless a `partition` argument names another (`aws-cn`, `aws-us-gov`, ...).",
		Parameters: []function.Parameter{
			function.StringParameter{
				Name:                "bucket",
				MarkdownDescription: "Bucket name.",
			},
			function.StringParameter{
				Name: "key_prefix",
				MarkdownDescription: "Only keys starting with this prefix may be written; `\"\"` allows the whole bucket. " +
					"Used verbatim: `\"media/\"` stays inside `media/`, `\"media\"` also allows `media-old/...`.",
			},
		},
		VariadicParameter: partitionParameter(),
		Return:            function.StringReturn{},
	}
}

func (f *uploadPolicyFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	var bucket, keyPrefix string
	var partitions []string
	resp.Error = function.ConcatFuncErrors(resp.Error, req.Arguments.Get(ctx, &bucket, &keyPrefix, &partitions))
	if resp.Error != nil {
		return
	}
	partition, funcErr := partitionArgument(partitions, 2)
	if funcErr != nil {
		resp.Error = funcErr
		return
	}
	// The bucket is checked on its own first so an error names the argument that caused it.
	if err := policy.ValidateBucketName(bucket); err != nil {
		resp.Error = function.NewArgumentFuncError(0, err.Error())
		return
	}
	doc, err := policy.UploadOnly(policy.UploadOnlyInput{Partition: partition, Bucket: bucket, KeyPrefix: keyPrefix})
	if err != nil {
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

// partitionParameter is the optional last argument of the policy functions. It is variadic because Terraform
// functions have no optional parameters; partitionArgument allows at most one value.
func partitionParameter() function.StringParameter {
	return function.StringParameter{
		Name: "partition",
		MarkdownDescription: "Optional: the ARN partition, `aws` when omitted. `aws-cn` for China, `aws-us-gov` for " +
			"GovCloud, `aws-iso`, `aws-iso-b`, ... for the isolated regions.",
	}
}

// partitionArgument returns the partition the variadic arguments name ("aws" without one), or an error on the
// argument at index first when there are several or the one given is not a partition name.
func partitionArgument(partitions []string, first int) (string, *function.FuncError) {
	switch len(partitions) {
	case 0:
		return policy.DefaultPartition, nil
	case 1:
		if err := policy.ValidatePartition(partitions[0]); err != nil {
			return "", function.NewArgumentFuncError(int64(first), err.Error())
		}
		return partitions[0], nil
	default:
		return "", function.NewArgumentFuncError(int64(first+1),
			fmt.Sprintf("%d partition arguments given; pass at most one, such as \"aws-cn\"", len(partitions)))
	}
}
