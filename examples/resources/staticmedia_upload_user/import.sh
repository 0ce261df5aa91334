# Import by user name. bucket, key_prefix and extra_actions are read back from the user's inline
# policy (named "upload-only", or the user's only inline policy when it has another name).
# A user created with name_prefix is imported by its full name; name_prefix is recovered from it.
terraform import staticmedia_upload_user.uploader media-uploader
