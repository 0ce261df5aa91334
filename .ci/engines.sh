#!/usr/bin/env bash
# engines.sh installs the engines and tools the machine image lacks and checks the rest. Under CI=true a missing
# engine is an error; locally it is a warning (the tests then skip loudly).
#
# What it builds (MinIO, OpenTofu, golangci-lint, goreleaser) goes into a cache outside the clone,
# $STATICMEDIA_CACHE (default ~/.cache/staticmedia), one file per pinned version (.ci/versions), so a second run
# on the same machine, or another clone, builds nothing. .bin/ in the clone holds symlinks to the cached files.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=/dev/null
source .ci/versions
bin="$PWD/.bin"
cache="${STATICMEDIA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/staticmedia}"
mkdir -p "$bin" "$cache/bin"

# link NAME FILE points .bin/NAME at the cached FILE.
link() { ln -sfn "$2" "$bin/$1"; }

# go_install NAME MODULE VERSION installs MODULE@VERSION as $cache/bin/NAME-VERSION, from a throwaway
# directory so its dependencies stay out of this module.
go_install() {
  local name=$1 module=$2 version=$3 target="$cache/bin/$1-$3"
  if [ ! -x "$target" ]; then
    echo "engines: building $name $version into $cache/bin (go install)"
    local tmp
    tmp=$(mktemp -d)
    (cd "$tmp" && GOBIN="$tmp/bin" GOFLAGS=-mod=mod go install "$module@$version")
    local base
    base=$(basename "$module")
    case "$base" in v[0-9]*) base=$(basename "$(dirname "$module")") ;; esac # .../goreleaser/v2 installs goreleaser
    mv "$tmp/bin/$base" "$target"
    rm -rf "$tmp"
  fi
  link "$name" "$target"
}

# OpenTofu needs a module of its own: its go.mod replaces hashicorp/hcl, and go install ignores replaces. Release
# builds set version.dev=no; without it tofu reports "1.12.6-dev".
build_tofu() {
  local target="$cache/bin/tofu-$TOFU_VERSION"
  if [ ! -x "$target" ]; then
    echo "engines: building OpenTofu $TOFU_VERSION into $cache/bin (about 7 minutes on 2 cores, once)"
    local mod="$cache/build/tofu-$TOFU_VERSION"
    mkdir -p "$mod"
    cat >"$mod/go.mod" <<EOF
module staticmedia.local/tofu-build

go 1.26

require $TOFU_MODULE $TOFU_VERSION

replace github.com/hashicorp/hcl/v2 => $TOFU_HCL_FORK $TOFU_HCL_FORK_VERSION
EOF
    printf '//go:build tools\n\npackage tools\n\nimport _ "%s/cmd/tofu"\n' "$TOFU_MODULE" >"$mod/tools.go"
    (cd "$mod" && GOFLAGS=-mod=mod go mod tidy && GOFLAGS=-mod=mod go build -trimpath \
      -ldflags "-s -w -X $TOFU_MODULE/version.dev=no" -o "$target.tmp" "$TOFU_MODULE/cmd/tofu")
    mv "$target.tmp" "$target"
  fi
  link tofu "$target"
}

# One tool alone: `engines.sh golangci-lint` or `engines.sh goreleaser` (what make lint and make release-check use).
case "${1:-}" in
  golangci-lint) go_install golangci-lint "$GOLANGCI_LINT_MODULE" "$GOLANGCI_LINT_VERSION"; exit 0 ;;
  goreleaser) go_install goreleaser "$GORELEASER_MODULE" "$GORELEASER_VERSION"; exit 0 ;;
  "") ;;
  *) echo "usage: $0 [golangci-lint|goreleaser]" >&2; exit 2 ;;
esac

go_install minio "$MINIO_MODULE" "$MINIO_VERSION"
build_tofu

# Debian packages: MariaDB for the MySQL catalog tests. Installed where we may (root under CI).
if ! PATH="$PATH:/usr/sbin" command -v mariadbd >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && [ "${CI:-}" = "true" ]; then
  echo "engines: installing mariadb-server (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends mariadb-server >/dev/null
fi

# Debian's chromium for the browser tests: chromedp talks to it directly, so no driver is needed.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && [ "${CI:-}" = "true" ]; then
  echo "engines: installing chromium (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

# Lint and release tools, pinned, like the engines. Locally they are built on demand by the make targets.
if [ "${CI:-}" = "true" ] || [ "${STATICMEDIA_TOOLS:-}" = 1 ]; then
  go_install golangci-lint "$GOLANGCI_LINT_MODULE" "$GOLANGCI_LINT_VERSION"
  go_install goreleaser "$GORELEASER_MODULE" "$GORELEASER_VERSION"
fi

missing=0
need() {
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "engines: $1 not found: $2" >&2
    missing=1
  fi
}
need terraform "install terraform >= 1.11"
need moto_server "pip install 'moto[server]'"
need initdb "apt-get install postgresql-$POSTGRES_MAJOR and put /usr/lib/postgresql/$POSTGRES_MAJOR/bin on PATH"
need postgres "apt-get install postgresql-$POSTGRES_MAJOR and put /usr/lib/postgresql/$POSTGRES_MAJOR/bin on PATH"
PATH="$PATH:/usr/sbin" need mariadbd "apt-get install mariadb-server"
need chromium "apt-get install chromium"
if [ "$missing" = 1 ] && [ "${CI:-}" = "true" ]; then
  echo "engines: missing engines; CI cannot run the tests" >&2
  exit 1
fi
echo "engines: minio=$(readlink "$bin/minio") tofu=$(readlink "$bin/tofu") terraform=$(command -v terraform || echo none)" \
  "moto_server=$(command -v moto_server || echo none) postgres=$(command -v postgres || echo none)" \
  "chromium=$(command -v chromium || echo none)"
