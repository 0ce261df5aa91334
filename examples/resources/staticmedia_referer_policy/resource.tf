resource "staticmedia_bucket" "media" {
  bucket = "example-media-assets"
}

# Browsers may load images from the bucket when they are shown on example.com (http or https, any
# subdomain) or on the explicitly listed page prefix, and when they send no Referer at all.
resource "staticmedia_referer_policy" "media" {
  bucket           = staticmedia_bucket.media.id
  allowed_domains  = ["example.com"]
  allowed_referers = ["https://partner.example.net/gallery/*"]

  # Defaults to true. Set to false to also refuse requests without a Referer (direct visits,
  # apps, browsers with a strict referrer policy).
  allow_empty_referer = true
}

output "media_bucket_policy" {
  value = staticmedia_referer_policy.media.policy_json
}
