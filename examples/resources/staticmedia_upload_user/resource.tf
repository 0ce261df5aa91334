resource "staticmedia_bucket" "media" {
  bucket = "example-media-assets"
}

# An IAM user that can only upload into the bucket, below uploads/. Its inline policy allows
# s3:PutObject there and s3:ListAllMyBuckets (which upload tools call first); it cannot read,
# list or delete objects.
resource "staticmedia_upload_user" "uploader" {
  name       = "media-uploader"
  bucket     = staticmedia_bucket.media.bucket
  key_prefix = "uploads/"

  # Opt in to more S3 actions on the same resources only when the uploader needs them.
  extra_actions = ["s3:PutObjectTagging"]

  tags = {
    purpose = "static media uploads"
  }
}

output "upload_policy" {
  value = staticmedia_upload_user.uploader.policy_json
}
