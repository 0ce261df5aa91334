# The quickstart's infrastructure built from hashicorp/aws resources, for teams that manage AWS with the AWS provider
# and only want this project's two policy documents: provider::staticmedia::upload_policy for the uploader's IAM
# user and provider::staticmedia::referer_policy for the bucket. The `uploader` output has the quickstart's shape,
# so `terraform output -json | uploader migrate --tf-output - ...` works the same.

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      purpose = "user-uploaded media"
    }
  }
}

locals {
  # The same expansion as staticmedia_referer_policy's allowed_domains: http and https, the domain and its
  # subdomains. The trailing /* also matches a bare origin ("https://example.com/"), which is all that browsers
  # send to another site under their default referrer policy.
  referers = flatten([
    for d in var.site_domains : [
      "http://${d}/*",
      "https://${d}/*",
      "http://*.${d}/*",
      "https://*.${d}/*",
    ]
  ])
}

resource "aws_s3_bucket" "media" {
  bucket = var.bucket
}

# ACLs off: objects belong to the bucket owner, and access is decided by policies alone.
resource "aws_s3_bucket_ownership_controls" "media" {
  bucket = aws_s3_bucket.media.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "media" {
  bucket = aws_s3_bucket.media.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

# The upload key may only PutObject, so it cannot abort a multipart upload it abandons; this rule does, and so
# stops paying for the parts. It costs nothing by itself.
resource "aws_s3_bucket_lifecycle_configuration" "media" {
  bucket = aws_s3_bucket.media.id

  rule {
    id     = "abort-incomplete-multipart"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

# AWS counts a Principal "*" policy as public even with a Referer condition, so the two public-policy settings must
# be off for S3 to accept and honour it. Public ACLs stay blocked. The account-level Block Public Access must allow
# public policies too (see the README).
resource "aws_s3_bucket_public_access_block" "media" {
  bucket = aws_s3_bucket.media.id

  block_public_acls       = true
  ignore_public_acls      = true
  block_public_policy     = false
  restrict_public_buckets = false
}

# Anyone may GET an object when the Referer is one of the site's pages, or (allow_empty_referer) when there is none.
# Hotlink protection, not access control: any client can send any Referer.
resource "aws_s3_bucket_policy" "media" {
  bucket = aws_s3_bucket.media.id
  policy = provider::staticmedia::referer_policy(aws_s3_bucket.media.bucket, local.referers, var.allow_empty_referer)

  # PutBucketPolicy is refused while the bucket still blocks public policies.
  depends_on = [aws_s3_bucket_public_access_block.media, aws_s3_bucket_ownership_controls.media]
}

# The IAM user the uploader runs as: s3:PutObject on the bucket (under key_prefix), s3:ListAllMyBuckets for its
# preflight, nothing else. It can neither read, list nor delete objects.
resource "aws_iam_user" "uploader" {
  name = var.uploader_name
}

resource "aws_iam_user_policy" "uploader" {
  name   = "upload-only"
  user   = aws_iam_user.uploader.name
  policy = provider::staticmedia::upload_policy(aws_s3_bucket.media.bucket, var.key_prefix)
}

# Changing var.key_rotation replaces this resource, and replace_triggered_by below passes that on to the key.
resource "terraform_data" "key_rotation" {
  input = var.key_rotation
}

# aws_iam_access_key does not wait for the new key to work, unlike staticmedia_upload_access_key: an uploader run
# started within seconds of the apply may be refused at its preflight (exit 3); the next run succeeds.
resource "aws_iam_access_key" "uploader" {
  user = aws_iam_user.uploader.name

  lifecycle {
    # The new key exists, and is in the output, before the old one is deleted. IAM allows two keys per user.
    create_before_destroy = true
    replace_triggered_by  = [terraform_data.key_rotation]
  }

  # The policy must exist before the key is handed out, or the first upload is refused.
  depends_on = [aws_iam_user_policy.uploader]
}
