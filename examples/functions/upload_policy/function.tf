# For people who manage the IAM user with the AWS provider: the same upload-only policy that
# staticmedia_upload_user attaches (s3:PutObject under media/, plus s3:ListAllMyBuckets).
resource "aws_iam_user_policy" "uploader" {
  name   = "upload-only"
  user   = aws_iam_user.uploader.name
  policy = provider::staticmedia::upload_policy("example-media-assets", "media/")
}

# In China or GovCloud, name the partition as the last argument.
output "upload_policy_china" {
  value = provider::staticmedia::upload_policy("example-media-assets", "media/", "aws-cn")
}
