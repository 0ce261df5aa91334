# Import by bucket name. The inputs are read back from the policy in canonical form: a domain whose four
# patterns (http and https, the domain and *.domain) are all there goes to allowed_domains, the other
# patterns to allowed_referers, and allow_empty_referer is whether requests without a Referer are allowed.
# A configuration written that way plans empty after the import.
terraform import staticmedia_referer_policy.media example-media-assets
