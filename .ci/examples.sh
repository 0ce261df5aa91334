#!/usr/bin/env bash
# examples.sh checks that every example is formatted, and that every example directory that only needs this
# provider passes `terraform validate` against the freshly built provider (dev_overrides: no registry needed).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

terraform fmt -check -recursive -diff examples

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/bin/terraform-provider-staticmedia" ./provider
cat > "$work/terraformrc" <<RC
provider_installation {
  dev_overrides {
    "registry.terraform.io/staticmedia/staticmedia" = "$work/bin"
  }
  direct {}
}
RC
export TF_CLI_CONFIG_FILE="$work/terraformrc" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1

status=0
while IFS= read -r dir; do
  rel=${dir#"$root"/}
  # A module that needs another provider (hashicorp/aws) cannot be initialised without the registry; it is
  # format-checked above and validated where the registry is reachable.
  if grep -qsE 'source *= *"hashicorp/|^(resource|data) "aws_' "$dir"/*.tf; then
    echo "examples: $rel: needs a registry provider; fmt-checked only"
    continue
  fi
  copy="$work/mod/$rel"
  mkdir -p "$copy" && cp -r "$dir"/. "$copy"/
  # Resource and function snippets leave out required_providers, as the registry's docs do; give the copy one
  # so terraform resolves staticmedia/staticmedia rather than hashicorp/staticmedia.
  if ! grep -qs 'required_providers' "$copy"/*.tf; then
    printf 'terraform {\n  required_providers {\n    staticmedia = { source = "staticmedia/staticmedia" }\n  }\n}\n' >"$copy/zz_required_providers.tf"
  fi
  if out=$(cd "$copy" && terraform validate -no-color 2>&1); then
    echo "examples: $rel: valid"
  else
    echo "examples: $rel: INVALID"; echo "$out"; status=1
  fi
done < <(find "$root/examples" -name '*.tf' -printf '%h\n' | sort -u)
exit $status
