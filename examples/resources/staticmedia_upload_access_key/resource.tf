# name_prefix, not name: the key is create_before_destroy, which Terraform carries to the user, so a replaced
# user is created before the old one is deleted, and one fixed name cannot exist twice.
resource "staticmedia_upload_user" "uploader" {
  name_prefix = "media-uploader-"
  bucket      = "example-media-assets"
}

# The key waits until it authenticates before apply returns, so a tool started right after
# `terraform apply` can use it. Change rotation_triggers to rotate: with create_before_destroy the
# new key exists before the old one is deleted.
resource "staticmedia_upload_access_key" "uploader" {
  user = staticmedia_upload_user.uploader.id

  rotation_triggers = {
    rotated = "2025-01"
  }

  lifecycle {
    create_before_destroy = true
  }
}

output "upload_access_key_id" {
  value = staticmedia_upload_access_key.uploader.id
}

output "upload_secret_access_key" {
  value     = staticmedia_upload_access_key.uploader.secret
  sensitive = true
}
