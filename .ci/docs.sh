#!/usr/bin/env bash
# docs.sh renders docs/ from the provider schema, templates/ (when present) and examples/ with tfplugindocs.
#
#   bash .ci/docs.sh generate   rewrite docs/
#   bash .ci/docs.sh check      render into a temp dir and fail when docs/ differs ("docs/ is stale")
#
# tfplugindocs would build the provider and fetch its schema itself, but it downloads terraform when none is
# on PATH and it expects the provider directory to hold examples/ and docs/. So this script builds the
# provider, asks the terraform on PATH for the schema through a dev_overrides CLI configuration (no registry,
# no init), and hands tfplugindocs the schema file and a scratch copy of examples/ and templates/.
set -euo pipefail

# The generator is pinned in .ci/versions; bump it deliberately and regenerate.
# shellcheck source=/dev/null
source "$(dirname "$0")/versions"
TFPLUGINDOCS=$TFPLUGINDOCS_MODULE@$TFPLUGINDOCS_VERSION

mode=${1:-}
case "$mode" in
  generate | check) ;;
  *) echo "usage: $0 generate|check" >&2; exit 2 ;;
esac

cd "$(dirname "$0")/.."
root=$PWD

if ! command -v terraform >/dev/null 2>&1; then
  echo "docs: terraform is not on PATH; install terraform >= 1.11 (tfplugindocs must not download one)" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 1. The provider, built from this tree.
go build -o "$work/bin/terraform-provider-staticmedia" ./provider

# 2. Its schema, from the terraform on PATH. tfplugindocs looks the schema up under "staticmedia" or
# "registry.terraform.io/hashicorp/staticmedia", so this throwaway configuration uses the hashicorp/ address.
cat > "$work/terraformrc" <<RC
provider_installation {
  dev_overrides {
    "registry.terraform.io/hashicorp/staticmedia" = "$work/bin"
  }
  direct {}
}
RC
mkdir -p "$work/schema"
cat > "$work/schema/main.tf" <<'TF'
terraform {
  required_providers {
    staticmedia = {
      source = "hashicorp/staticmedia"
    }
  }
}
TF
(
  cd "$work/schema"
  TF_CLI_CONFIG_FILE="$work/terraformrc" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1 \
    terraform providers schema -json > "$work/schema.json" 2> "$work/schema.err" || {
    echo "docs: terraform providers schema failed:" >&2
    cat "$work/schema.err" >&2
    exit 1
  }
)

# 3. Render into a scratch site: tfplugindocs resolves examples/, templates/ and docs/ under --provider-dir.
site="$work/site"
mkdir -p "$site"
cp -r "$root/examples" "$site/examples"
if [ -d "$root/templates" ]; then
  cp -r "$root/templates" "$site/templates"
fi
go run "$TFPLUGINDOCS" generate \
  --provider-name staticmedia \
  --rendered-provider-name staticmedia \
  --providers-schema "$work/schema.json" \
  --provider-dir "$site" \
  --examples-dir examples \
  --website-source-dir templates \
  --rendered-website-dir docs > "$work/generate.log" 2>&1 || {
  cat "$work/generate.log" >&2
  echo "docs: tfplugindocs generate failed" >&2
  exit 1
}

case "$mode" in
  generate)
    rm -rf "$root/docs"
    cp -r "$site/docs" "$root/docs"
    echo "docs: wrote $(find "$root/docs" -type f | wc -l) files to docs/"
    ;;
  check)
    if ! diff -ruN "$root/docs" "$site/docs" > "$work/docs.diff"; then
      echo "docs: files that differ from a fresh rendering:"
      diff -rqN "$root/docs" "$site/docs" | sed 's/^/  /' || true
      head -n 300 "$work/docs.diff"
      echo "docs/ is stale: run make docs" >&2
      exit 1
    fi
    echo "docs: docs/ is current"
    ;;
esac
