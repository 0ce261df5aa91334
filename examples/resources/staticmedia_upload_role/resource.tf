resource "staticmedia_bucket" "media" {
  bucket = "example-media-assets"
}

# An IAM role that GitHub Actions jobs of one repository assume with their OIDC token: no access key
# exists anywhere. Its inline policy is the upload user's (s3:PutObject below uploads/ and
# s3:ListAllMyBuckets); its trust policy admits only tokens of the main branch and of the
# production environment of octo-org/site, with the audience sts.amazonaws.com.
resource "staticmedia_upload_role" "ci" {
  name       = "media-uploader-ci"
  bucket     = staticmedia_bucket.media.bucket
  key_prefix = "uploads/"

  # The IAM OIDC provider of GitHub Actions; see examples/keyless-ci for creating it.
  oidc_provider_arn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
  subjects = [
    "repo:octo-org/site:ref:refs/heads/main",
    "repo:octo-org/site:environment:production",
  ]

  tags = {
    purpose = "static media uploads from CI"
  }
}

# What the CI job sets as AWS_ROLE_ARN.
output "role_arn" {
  value = staticmedia_upload_role.ci.arn
}
