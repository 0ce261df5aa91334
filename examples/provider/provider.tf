terraform {
  required_providers {
    staticmedia = {
      source = "staticmedia/staticmedia"
    }
  }
}

# On AWS the provider finds credentials the way the AWS CLI does: environment variables, a shared
# profile, or an instance or task role. Only the region is needed here.
provider "staticmedia" {
  region = "eu-west-1"

  # Added to every bucket and IAM user this provider creates; a resource's own tags win.
  default_tags {
    tags = {
      project = "media"
    }
  }
}

# Against a local engine instead (moto serves S3, IAM and STS on one port; MinIO has S3 only and
# needs skip_credentials_validation = true, and skip_unsupported_bucket_apis = true because it lacks
# Object Ownership, Block Public Access, SSE-S3 without a KMS and abort-only lifecycle rules):
#
# provider "staticmedia" {
#   region     = "us-east-1"
#   access_key = "testing"
#   secret_key = "testing"
#
#   endpoints {
#     s3  = "http://127.0.0.1:5000"
#     iam = "http://127.0.0.1:5000"
#     sts = "http://127.0.0.1:5000"
#   }
# }
