#!/usr/bin/env bash
# engines.sh installs the test engines the machine image lacks and checks the rest. Under CI=true a missing
# engine is an error; locally it is a warning (the tests then skip loudly).
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/.bin"
minio_mod="github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c"
mkdir -p "$bin"

if [ ! -x "$bin/minio" ]; then
  echo "engines: installing MinIO into .bin/ (go install, about 2 minutes)"
  # A throwaway directory keeps MinIO's dependencies out of this module.
  (cd "$(mktemp -d)" && GOBIN="$bin" GOFLAGS=-mod=mod go install "$minio_mod")
fi

# MariaDB (the MySQL catalog tests) is a Debian package; install it where we may (root, CI).
if ! command -v mariadbd >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && [ "${CI:-}" = "true" ]; then
  echo "engines: installing mariadb-server (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends mariadb-server >/dev/null
fi

# golangci-lint for make lint, pinned, into .bin/ like MinIO.
if [ ! -x "$bin/golangci-lint" ] && [ "${CI:-}" = "true" ]; then
  echo "engines: installing golangci-lint into .bin/"
  (cd "$(mktemp -d)" && GOBIN="$bin" GOFLAGS=-mod=mod go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0)
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
need initdb "apt-get install postgresql-15 and put /usr/lib/postgresql/15/bin on PATH"
need postgres "apt-get install postgresql-15 and put /usr/lib/postgresql/15/bin on PATH"
PATH="$PATH:/usr/sbin" need mariadbd "apt-get install mariadb-server"
if [ "$missing" = 1 ] && [ "${CI:-}" = "true" ]; then
  echo "engines: missing engines; CI cannot run the tests" >&2
  exit 1
fi
echo "engines: minio=$bin/minio terraform=$(command -v terraform || echo none) moto_server=$(command -v moto_server || echo none) postgres=$(command -v postgres || echo none)"
