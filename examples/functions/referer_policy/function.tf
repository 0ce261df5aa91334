# For people who manage the bucket policy with the AWS provider: the same document that
# staticmedia_referer_policy applies. The bucket's Block Public Access must allow public policies.
resource "aws_s3_bucket_public_access_block" "media" {
  bucket                  = aws_s3_bucket.media.id
  block_public_acls       = true
  ignore_public_acls      = true
  block_public_policy     = false
  restrict_public_buckets = false
}

resource "aws_s3_bucket_policy" "media" {
  bucket = aws_s3_bucket.media.id
  policy = provider::staticmedia::referer_policy(
    aws_s3_bucket.media.id,
    ["http://*.example.com/*", "http://example.com/*"],
    true,
  )

  depends_on = [aws_s3_bucket_public_access_block.media]
}
