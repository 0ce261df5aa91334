variable "region" {
  description = "AWS region of the bucket, for example eu-west-1."
  type        = string
  default     = "us-east-1"
}

variable "bucket" {
  description = "Name of the S3 bucket that holds the media."
  type        = string
}

variable "site_origins" {
  description = "Origins of the pages that upload, exactly as browsers send them: https://www.example.com (scheme, host, and a port only when it is not the default)."
  type        = list(string)
}

variable "site_domains" {
  description = "Domains whose pages may show the images (the Referer policy), such as example.com."
  type        = list(string)
}

variable "unconfirmed_days" {
  description = "Days after which an upload still below incoming/ (never confirmed and promoted) is deleted; 0 keeps them."
  type        = number
  default     = 2
}

variable "signer_name" {
  description = "Start of the name of the IAM user whose key signs the upload forms (a dash and a unique suffix follow)."
  type        = string
  default     = "media-upload-signer"
}

variable "s3_endpoint" {
  description = "S3 endpoint for a local engine (moto, MinIO); empty on AWS."
  type        = string
  default     = ""
}

variable "iam_endpoint" {
  description = "IAM and STS endpoint for a local engine (moto); empty on AWS."
  type        = string
  default     = ""
}
