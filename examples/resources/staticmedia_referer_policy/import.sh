# Import by bucket name. allowed_referers and allow_empty_referer are read back from the policy;
# allowed_domains cannot be told apart from the patterns it expands to, so after import the
# expanded patterns appear in allowed_referers.
terraform import staticmedia_referer_policy.media example-media-assets
