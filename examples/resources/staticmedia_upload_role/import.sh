# Import by role name. bucket, key_prefix and extra_actions are read back from the role's inline
# policy "upload-only"; oidc_provider_arn, audience and subjects from its trust policy.
terraform import staticmedia_upload_role.ci media-uploader-ci
