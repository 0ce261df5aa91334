terraform {
  # Provider-defined functions (provider::staticmedia::...) need Terraform 1.8 or later.
  required_version = ">= 1.8"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
    # Only its functions are used: they need no provider block, no credentials and make no API call.
    staticmedia = {
      source = "staticmedia/staticmedia"
    }
  }
}
