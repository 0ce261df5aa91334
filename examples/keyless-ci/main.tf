# Keyless CI: the CI job exchanges its OIDC token for a session of an upload-only role. No access
# key exists anywhere: not in the Terraform state, not in the CI's secret store.

provider "aws" {
  region = var.region
}

provider "staticmedia" {
  region = var.region
}

locals {
  # Each CI's issuer, the audience its job asks for, and the sub claim of the branch's jobs.
  # Both ask for the audience sts.amazonaws.com (GitLab's id_tokens declare it in examples/ci/gitlab-ci.yml), the
  # default of staticmedia_upload_role's audience.
  issuers = {
    github = {
      url      = "https://token.actions.githubusercontent.com"
      audience = "sts.amazonaws.com"
      subject  = "repo:${var.repository}:ref:refs/heads/${var.branch}"
    }
    gitlab = {
      url      = "https://gitlab.com"
      audience = "sts.amazonaws.com"
      subject  = "project_path:${var.repository}:ref_type:branch:ref:${var.branch}"
    }
  }
  issuer = local.issuers[var.ci]
}

# The IAM OIDC identity provider: IAM trusts tokens signed by the CI's issuer for the listed
# audiences. One per issuer URL and account; pass oidc_provider_arn when it exists already.
resource "aws_iam_openid_connect_provider" "ci" {
  count = var.oidc_provider_arn == "" ? 1 : 0

  url            = local.issuer.url
  client_id_list = [local.issuer.audience]
}

resource "staticmedia_bucket" "media" {
  bucket = var.bucket
}

# The role the CI job assumes: s3:PutObject into the bucket and s3:ListAllMyBuckets, the same
# policy as staticmedia_upload_user, trusted only for the repository's branch.
resource "staticmedia_upload_role" "ci" {
  name       = "media-uploader-${var.ci}"
  bucket     = staticmedia_bucket.media.bucket
  key_prefix = var.key_prefix

  oidc_provider_arn = var.oidc_provider_arn != "" ? var.oidc_provider_arn : aws_iam_openid_connect_provider.ci[0].arn
  audience          = local.issuer.audience
  subjects          = [local.issuer.subject]
}
