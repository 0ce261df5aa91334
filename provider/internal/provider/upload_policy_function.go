package provider

import (
	"context"

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
			"call first and fail without. It grants no read, list or delete on the bucket. ARNs use the `aws` partition.",
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
		Return: function.StringReturn{},
	}
}

func (f *uploadPolicyFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	var bucket, keyPrefix string
	resp.Error = function.ConcatFuncErrors(resp.Error, req.Arguments.Get(ctx, &bucket, &keyPrefix))
	if resp.Error != nil {
		return
	}
	// The bucket is checked on its own first so an error names the argument that caused it.
	if err := policy.ValidateBucketName(bucket); err != nil {
		resp.Error = function.NewArgumentFuncError(0, err.Error())
		return
	}
	doc, err := policy.UploadOnly(policy.UploadOnlyInput{Partition: policy.DefaultPartition, Bucket: bucket, KeyPrefix: keyPrefix})
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
