# Import by bucket name. The rules are read back as they are stored; a configuration listing the same origins,
# methods, headers and maximum age plans empty after the import. Several rules written outside Terraform are
# merged (their origins, methods and headers together, the headers all of them expose), so the plan shows what
# the next apply, which writes one rule, takes away.
terraform import staticmedia_bucket_cors.media example-media-assets
