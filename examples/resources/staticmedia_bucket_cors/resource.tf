resource "staticmedia_bucket" "media" {
  bucket = "example-media-assets"
}

# Pages on the site may post presigned upload forms to the bucket and read the answer, ETag included.
# Only exact origins: the scheme, the host and a port when it is not the default.
resource "staticmedia_bucket_cors" "media" {
  bucket          = staticmedia_bucket.media.id
  allowed_origins = ["https://www.example.com", "https://example.com"]

  # The defaults, written out: what a form posted with fetch or XMLHttpRequest needs.
  allowed_methods = ["POST"]
  allowed_headers = []
  expose_headers  = ["ETag"]
  max_age_seconds = 3000
}
