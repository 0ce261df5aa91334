#!/usr/bin/env bash
# release-check.sh proves that .goreleaser.yml makes what `terraform init` / `tofu init` and the public registries
# expect, without signing or publishing anything:
#   1. goreleaser check (the configuration is valid for the pinned goreleaser);
#   2. a snapshot release of the same configuration narrowed to this machine's platform, into a scratch dist/;
#   3. the artifact names and contents: the zip, the binary in it, SHA256SUMS (verified), the manifest.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
[ -x .bin/goreleaser ] || bash .ci/engines.sh goreleaser
goreleaser=$root/.bin/goreleaser
name=terraform-provider-staticmedia

"$goreleaser" check --config .goreleaser.yml

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
os=$(go env GOOS)
arch=$(go env GOARCH)

# The same file, narrowed to one platform for speed: only the goos/goarch lists change, and the edit must hit
# every build, or the check would test a configuration nobody releases.
cfg="$work/goreleaser.yml"
sed -E -e "s/^( *goos: ).*/\1[$os]/" -e "s/^( *goarch: ).*/\1[$arch]/" .goreleaser.yml >"$cfg"
echo "dist: $work/dist" >>"$cfg"
builds=$(grep -c '^  - id: ' <(sed -n '/^builds:/,/^[a-z]/p' .goreleaser.yml))
[ "$(grep -c "goos: \[$os\]" "$cfg")" = "$builds" ] || { echo "release-check: could not narrow every build's goos" >&2; exit 1; }

# goreleaser wants a clean git tree; a scratch clone of HEAD is clean even when this work tree is not.
git clone -q --no-hardlinks "$root" "$work/src"
cp "$cfg" "$work/src/.goreleaser.yml"
(cd "$work/src" && git -c user.name=ci -c user.email=ci@localhost commit -qam "release-check: narrowed config" &&
  "$goreleaser" release --snapshot --clean --skip=sign,publish,validate --parallelism 2 >"$work/log" 2>&1) || {
  cat "$work/log" >&2
  echo "release-check: goreleaser release --snapshot failed" >&2
  exit 1
}

dist=$work/dist
version=$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$dist/metadata.json")
[ -n "$version" ] || { echo "release-check: no version in dist/metadata.json" >&2; exit 1; }
fail() { echo "release-check: $*" >&2; ls -l "$dist" >&2; exit 1; }

zip="${name}_${version}_${os}_${arch}.zip"
sums="${name}_${version}_SHA256SUMS"
manifest="${name}_${version}_manifest.json"
for f in "$zip" "$sums"; do
  [ -f "$dist/$f" ] || fail "missing $f"
done
# The manifest is uploaded from the repository under its release name (release.extra_files) and only its checksum is
# in dist/; put it where the release puts it, so SHA256SUMS is verified against the file users download.
cp terraform-registry-manifest.json "$dist/$manifest"
binary="${name}_v${version}"
[ "$os" = windows ] && binary="$binary.exe"
unzip -Z1 "$dist/$zip" | grep -qx "$binary" || fail "$zip does not hold $binary at its root"
grep -q " $zip\$" "$dist/$sums" || fail "$sums does not list $zip"
grep -q " $manifest\$" "$dist/$sums" || fail "$sums does not list $manifest"
(cd "$dist" && grep -E " (${name}_|uploader_)" "$sums" | sha256sum --quiet -c -) || fail "$sums does not verify"
grep -q '"protocol_versions": \["6.0"\]' "$dist/$manifest" || fail "$manifest does not declare protocol 6.0"
unzip -q -o "$dist/$zip" "$binary" -d "$work/unzipped"
# -trimpath leaves the ldflags out of the build info, so look for the version string -X put in the binary.
grep -q -a -F -- "$version" "$work/unzipped/$binary" || fail "$binary does not carry its version $version (main.version)"
echo "release-check: ok: $zip ($binary), $sums, $manifest for version $version"
