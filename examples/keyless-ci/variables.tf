variable "region" {
  description = "AWS region of the bucket, for example eu-west-1."
  type        = string
  default     = "us-east-1"
}

variable "bucket" {
  description = "Name of the S3 bucket that will hold the media."
  type        = string
}

variable "ci" {
  description = "The CI that uploads: \"github\" (GitHub Actions) or \"gitlab\" (GitLab CI/CD on gitlab.com)."
  type        = string
  default     = "github"

  validation {
    condition     = contains(["github", "gitlab"], var.ci)
    error_message = "ci must be \"github\" or \"gitlab\"."
  }
}

variable "repository" {
  description = "The repository whose jobs may upload: OWNER/NAME on GitHub, GROUP/PROJECT (with subgroups) on GitLab."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+$", var.repository))
    error_message = "Give the repository as OWNER/NAME (GitHub) or GROUP/PROJECT (GitLab), without wildcards."
  }
}

variable "branch" {
  description = "The branch whose jobs may upload."
  type        = string
  default     = "main"
}

variable "oidc_provider_arn" {
  description = "ARN of an IAM OIDC provider the account already has for this CI (IAM allows one per issuer URL). Empty: create it."
  type        = string
  default     = ""
}

variable "key_prefix" {
  description = "Prefix for every object key, for example \"media/\". Empty uploads at the bucket root."
  type        = string
  default     = ""
}
