variable "region" {
  description = "AWS region of the bucket, for example eu-west-1."
  type        = string
  default     = "us-east-1"
}

variable "bucket" {
  description = "Name of the S3 bucket that will hold the media. Globally unique: 3-63 lower-case letters, digits, dots and hyphens."
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

variable "allow_empty_referer" {
  description = "Also serve requests that carry no Referer (direct visits, apps, browsers with strict referrer policies)."
  type        = bool
  default     = true
}

variable "uploader_name" {
  description = "Name of the IAM user the uploader runs as."
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

variable "key_rotation" {
  description = "Change this value (for example to a date) to rotate the uploader's access key on the next apply."
  type        = string
  default     = "1"
}
