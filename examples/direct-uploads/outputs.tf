# What `uploader sign-post` and `uploader serve-signer` read:
#   terraform output -json | uploader sign-post --tf-output - --tf-output-name signer --content-type image/jpeg
# `uploader verify` reads the same shape, with the Referer patterns it checks the public copy with.
output "signer" {
  description = "The bucket, the incoming/ prefix and the signer's key, in the shape the uploader reads."
  sensitive   = true
  value = {
    bucket            = staticmedia_bucket.media.bucket
    region            = staticmedia_bucket.media.region
    endpoint          = staticmedia_bucket.media.endpoint
    public_base_url   = staticmedia_bucket.media.public_base_url
    key_prefix        = staticmedia_upload_user.signer.key_prefix
    allowed_referers  = staticmedia_referer_policy.site.referer_patterns
    access_key_id     = staticmedia_upload_access_key.signer.id
    secret_access_key = staticmedia_upload_access_key.signer.secret
  }
}
