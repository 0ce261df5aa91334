variable "region" {
  description = "AWS region of the bucket, for example eu-west-1."
  type        = string
  default     = "us-east-1"
}

variable "bucket" {
  description = "Name of the S3 bucket that will hold the media. Globally unique on AWS: 3-63 lower-case letters, digits, dots and hyphens."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket))
    error_message = "The bucket name must be 3-63 characters of lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit."
  }
}

variable "site_domains" {
  description = "Domains whose pages may embed the images (the HTTP Referer check). \"example.com\" allows http and https on example.com and its subdomains."
  type        = list(string)

  validation {
    condition     = length(var.site_domains) > 0 && alltrue([for d in var.site_domains : can(regex("^[a-z0-9.-]+$", d))])
    error_message = "List at least one domain, as a bare host name such as example.com (no scheme, no path)."
  }
}

variable "uploader_name" {
  description = "Name of the IAM role the uploader runs as (role mode); in key mode the IAM user's name starts with it, then a dash and a unique suffix."
  type        = string
  default     = "media-uploader"
}

variable "key_prefix" {
  description = "Prefix for every object key, for example \"media/\". Empty uploads at the bucket root."
  type        = string
  default     = ""

  validation {
    condition     = !startswith(var.key_prefix, "/")
    error_message = "The key prefix must not start with a slash."
  }
}

variable "uploader_identity" {
  description = "How the uploader authenticates: \"key\" (an IAM user and its access key, kept in the state) or \"role\" (a role CI jobs assume with their OIDC token; set oidc_provider_arn and ci_subjects)."
  type        = string
  default     = "key"

  validation {
    condition     = contains(["key", "role"], var.uploader_identity)
    error_message = "uploader_identity must be \"key\" or \"role\"."
  }
}

variable "oidc_provider_arn" {
  description = "Role mode: ARN of the IAM OIDC provider of the CI's token issuer (examples/keyless-ci creates one)."
  type        = string
  default     = ""
}

variable "ci_subjects" {
  description = "Role mode: the sub claims allowed to assume the role, for example [\"repo:OWNER/NAME:ref:refs/heads/main\"] (GitHub) or [\"project_path:GROUP/PROJECT:ref_type:branch:ref:main\"] (GitLab)."
  type        = list(string)
  default     = []
}

variable "ci_audience" {
  description = "Role mode: the aud claim the CI's token carries (sts.amazonaws.com, what both jobs in examples/ci ask for; any value works if both sides agree)."
  type        = string
  default     = "sts.amazonaws.com"
}

variable "key_rotation" {
  description = "Change this value (for example to a date) to rotate the uploader's access key on the next apply."
  type        = string
  default     = "1"
}

variable "s3_endpoint" {
  description = "S3-compatible endpoint for local engines (the demo sets it). Leave empty on AWS."
  type        = string
  default     = ""
}

variable "iam_endpoint" {
  description = "IAM endpoint for local engines (the demo sets it). Leave empty on AWS."
  type        = string
  default     = ""
}
