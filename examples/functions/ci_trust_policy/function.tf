# For people who manage the IAM role with the AWS provider: the same trust policy that
# staticmedia_upload_role puts on its role. Only GitHub Actions jobs on the main branch of
# octo-org/site may assume the role; wildcard subjects that would admit other owners'
# repositories are refused.
resource "aws_iam_role" "uploader_ci" {
  name = "media-uploader-ci"
  assume_role_policy = provider::staticmedia::ci_trust_policy(
    aws_iam_openid_connect_provider.github.arn,
    ["repo:octo-org/site:ref:refs/heads/main"],
  )
}

# GitLab, with the audience its id_tokens declare (the optional third argument).
resource "aws_iam_role" "uploader_gitlab" {
  name = "media-uploader-gitlab"
  assume_role_policy = provider::staticmedia::ci_trust_policy(
    aws_iam_openid_connect_provider.gitlab.arn,
    ["project_path:media-team/site:ref_type:branch:ref:main"],
    "https://gitlab.com",
  )
}

# Its only permission: the upload-only policy.
resource "aws_iam_role_policy" "uploader_ci" {
  name   = "upload-only"
  role   = aws_iam_role.uploader_ci.name
  policy = provider::staticmedia::upload_policy("example-media-assets", "uploads/")
}
