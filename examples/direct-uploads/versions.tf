terraform {
  required_version = ">= 1.8"
  required_providers {
    staticmedia = {
      source = "staticmedia/staticmedia"
    }
  }
}
