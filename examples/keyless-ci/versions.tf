terraform {
  required_version = ">= 1.8"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.81 made thumbprint_list optional: AWS checks GitHub's and GitLab's certificates against its own CAs.
      version = ">= 5.81"
    }
    staticmedia = {
      source = "staticmedia/staticmedia"
    }
  }
}
