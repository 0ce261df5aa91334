# Direct uploads: the site's users upload straight to the bucket with a short-lived form the site signs, and
# the uploader retires once no local files are left. See the direct uploads guide.

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

  # Browser uploads land below incoming/. The site promotes each confirmed upload to its permanent key (a copy,
  # see the guide), so what stays below incoming/ was never confirmed: it expires after this many days.
  expire_incoming = var.unconfirmed_days > 0 ? {
    prefix = "incoming/"
    days   = var.unconfirmed_days
  } : null
}

# The site's pages may post forms to the bucket and read the answer (the ETag). The only writer of the bucket's
# CORS configuration.
resource "staticmedia_bucket_cors" "uploads" {
  bucket          = staticmedia_bucket.media.id
  allowed_origins = var.site_origins
}

# The signer's identity: s3:PutObject under incoming/ and nothing else. A form it signs can never put an
# object anywhere else, whatever the form says. On CI or a platform with OIDC, staticmedia_upload_role with the
# same key_prefix does it without a stored key. The key below is create_before_destroy, which Terraform carries
# to the user, so a replaced user is created before the old one is deleted: a name_prefix gives it a new name.
resource "staticmedia_upload_user" "signer" {
  name_prefix = "${var.signer_name}-"
  bucket      = var.bucket
  key_prefix  = "incoming/"
}

resource "staticmedia_upload_access_key" "signer" {
  user = staticmedia_upload_user.signer.id

  lifecycle {
    create_before_destroy = true
  }
}

# Anyone may GET objects from the site's pages, or with no Referer.
resource "staticmedia_referer_policy" "site" {
  bucket          = staticmedia_bucket.media.id
  allowed_domains = var.site_domains
}
