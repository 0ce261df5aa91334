# Import by bucket name. force_destroy is not stored in S3 and starts as false; set it in the
# configuration and apply if the bucket should be deletable with its objects.
terraform import staticmedia_bucket.media example-media-uploads
