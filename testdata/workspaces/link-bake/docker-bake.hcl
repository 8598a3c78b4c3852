variable "REGISTRY" {
  default = "ghcr.io/acme"
}

variable "TAG" {
  default = "v${MAJOR}"
}

variable "MAJOR" {
  default = 2
}

group "default" {
  targets = ["worker"]
}

target "_common" {
  context = "worker"
}

target "worker" {
  inherits = ["_common"]
  target   = "prod"
  tags     = ["${REGISTRY}/worker:${TAG}", "worker:local"]
}

target "lowered" {
  context = "worker"
  tags    = [lower("${REGISTRY}/LOWERED")]
}
