# The uploader reads this output: `terraform output -json | uploader migrate --tf-output - ...`. Same shape as the
# quickstart's.
output "uploader" {
  description = "Everything the uploader needs, in the shape it reads."
  sensitive   = true
  value = {
    bucket            = aws_s3_bucket.media.bucket
    region            = var.region
    access_key_id     = aws_iam_access_key.uploader.id
    secret_access_key = aws_iam_access_key.uploader.secret
    endpoint          = "" # AWS's own S3 endpoint
    public_base_url   = "https://${aws_s3_bucket.media.bucket_regional_domain_name}/"
    key_prefix        = var.key_prefix
  }
}

output "public_base_url" {
  description = "Where the web site links the migrated images: this URL followed by the object key."
  value       = "https://${aws_s3_bucket.media.bucket_regional_domain_name}/"
}
