# Import by USER/ACCESS_KEY_ID, or by the key ID alone (the user is looked up with
# iam:GetAccessKeyLastUsed). The secret cannot be imported: AWS returns it only when the key is
# created, so an imported key has no `secret`. Rotate it to get one managed by Terraform.
terraform import staticmedia_upload_access_key.uploader media-uploader/AKIAIOSFODNN7EXAMPLE
