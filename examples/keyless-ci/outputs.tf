# The uploader reads this output: it carries role_arn instead of an access key, and the uploader
# assumes the role with the token file the CI job names in AWS_WEB_IDENTITY_TOKEN_FILE.
output "uploader" {
  description = "Everything the uploader needs, in the shape it reads."
  value = {
    bucket          = staticmedia_bucket.media.bucket
    region          = staticmedia_bucket.media.region
    role_arn        = staticmedia_upload_role.ci.arn
    public_base_url = staticmedia_bucket.media.public_base_url
    key_prefix      = var.key_prefix
  }
}

output "role_arn" {
  description = "What the CI job sets as AWS_ROLE_ARN."
  value       = staticmedia_upload_role.ci.arn
}
