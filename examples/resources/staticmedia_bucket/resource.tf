# Ownership enforced (ACLs off), SSE-S3 encryption and Block Public Access are always on: they are
# not options. Everything below except the name is optional.
resource "staticmedia_bucket" "media" {
  bucket = "example-media-uploads"

  # Keep every version of overwritten or deleted images. Defaults to false.
  versioning = true

  # The upload-only key cannot abort multipart uploads; a lifecycle rule deletes abandoned parts
  # after this many days. Defaults to 7.
  abort_incomplete_multipart_days = 7

  # Browser uploads land below incoming/; a second lifecycle rule deletes every object there after this many
  # days, confirmed or not. Set it only when the application copies each confirmed upload out of incoming/
  # (and links the copy) before then; omit it to keep them.
  expire_incoming = {
    prefix = "incoming/"
    days   = 2
  }

  # Delete every object version with the bucket on destroy. Defaults to false, which makes destroying
  # a non-empty bucket fail.
  force_destroy = false

  tags = {
    app = "gallery"
  }
}

# Append an object key to get its URL, for example "${staticmedia_bucket.media.public_base_url}cat.jpg".
output "media_base_url" {
  value = staticmedia_bucket.media.public_base_url
}
