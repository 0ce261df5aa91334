# The uploader reads this output: `terraform output -json | uploader migrate --tf-output - ...`.
output "uploader" {
  description = "Everything the uploader needs, in the shape it reads."
  sensitive   = true
  value = merge(
    {
      bucket          = staticmedia_bucket.media.bucket
      region          = staticmedia_bucket.media.region
      endpoint        = staticmedia_bucket.media.endpoint
      public_base_url = staticmedia_bucket.media.public_base_url
      key_prefix      = var.key_prefix
      # uploader verify derives its default --referer from the first pattern.
      allowed_referers = staticmedia_referer_policy.site.referer_patterns
    },
    # The access key in key mode; in role mode the role's ARN, which the uploader assumes with the CI's token file.
    var.uploader_identity == "key" ? tomap({
      access_key_id     = one(staticmedia_upload_access_key.uploader[*].id)
      secret_access_key = one(staticmedia_upload_access_key.uploader[*].secret)
      }) : tomap({
      role_arn = one(staticmedia_upload_role.uploader[*].arn)
    }),
  )
}

output "public_base_url" {
  description = "Where the web site links the migrated images: this URL followed by the object key."
  value       = staticmedia_bucket.media.public_base_url
}
