# Quickstart: everything the blog post set up by hand, in one apply.
#
# On AWS, delete the endpoints block (or leave the variables empty) and authenticate the usual way
# (AWS_PROFILE, environment variables, or an instance role).

provider "staticmedia" {
  region = var.region

  endpoints {
    s3  = var.s3_endpoint != "" ? var.s3_endpoint : null
    iam = var.iam_endpoint != "" ? var.iam_endpoint : null
    sts = var.iam_endpoint != "" ? var.iam_endpoint : null
  }
}

resource "staticmedia_bucket" "media" {
  bucket = var.bucket

  tags = {
    purpose = "user-uploaded media"
  }
}

# The identity the uploader runs as: s3:PutObject on the bucket, s3:ListAllMyBuckets for its preflight, nothing else.
# uploader_identity = "key" (the default): an IAM user and its access key, whose secret is in the state.
# uploader_identity = "role": a role CI jobs assume with their OIDC token, so no secret exists anywhere.
# Terraform carries the key's create_before_destroy to everything the key depends on, so a replaced user is
# created before the old one is deleted. A name cannot exist twice: the user takes a name_prefix (the name gets a
# unique suffix), and it names the bucket by var.bucket, not staticmedia_bucket.media, so replacing the bucket
# does not replace the user.
resource "staticmedia_upload_user" "uploader" {
  count = var.uploader_identity == "key" ? 1 : 0

  name_prefix = "${var.uploader_name}-"
  bucket      = var.bucket
  key_prefix  = var.key_prefix # "" is the whole bucket
}

# user is the user's id, unknown while the user is replaced, so the key is replaced with it.
resource "staticmedia_upload_access_key" "uploader" {
  count = var.uploader_identity == "key" ? 1 : 0

  user = staticmedia_upload_user.uploader[0].id

  rotation_triggers = {
    rotation = var.key_rotation
  }

  lifecycle {
    create_before_destroy = true
  }
}

# The same upload-only policy on a role, trusted only for the CI subjects given (see examples/keyless-ci for
# creating the OIDC provider, and the keyless CI guide).
resource "staticmedia_upload_role" "uploader" {
  count = var.uploader_identity == "role" ? 1 : 0

  name              = var.uploader_name
  bucket            = staticmedia_bucket.media.bucket
  key_prefix        = var.key_prefix
  oidc_provider_arn = var.oidc_provider_arn
  audience          = var.ci_audience
  subjects          = var.ci_subjects
}

# Anyone may GET objects when the Referer is one of the site's pages, or when there is no Referer at all.
# bucket is the bucket's id, unknown while the bucket is replaced, so the policy is put on the new bucket too.
resource "staticmedia_referer_policy" "site" {
  bucket              = staticmedia_bucket.media.id
  allowed_domains     = var.site_domains
  allow_empty_referer = true
}
