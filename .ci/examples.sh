#!/usr/bin/env bash
# examples.sh checks that every example is formatted, and that every example directory passes `terraform validate`
# against the freshly built provider (dev_overrides: no registry needed). Modules that also need a registry provider
# (hashicorp/aws) are validated where the registry is reachable and only format-checked where it is not.
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
  copy="$work/mod/$rel"
  mkdir -p "$copy" && cp -r "$dir"/. "$copy"/
  # A module that needs another provider (hashicorp/aws) is initialised from the registry; where the registry
  # cannot be reached (as on the CI machines, which have no internet) it is format-checked only, and says so.
  # Any other init failure fails the check.
  if grep -qsE 'source *= *"hashicorp/|^(resource|data) "aws_' "$dir"/*.tf; then
    if ! out=$(cd "$copy" && timeout 300 terraform init -backend=false -input=false -no-color 2>&1); then
      if grep -qiE 'no such host|dial tcp|i/o timeout|connection refused|could not connect|network is unreachable' <<<"$out"; then
        echo "examples: $rel: needs a registry provider and the registry is unreachable; fmt-checked only"
        continue
      fi
      echo "examples: $rel: terraform init FAILED"; echo "$out"; status=1
      continue
    fi
  fi
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
