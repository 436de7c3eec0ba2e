#!/usr/bin/env bash
# Checks that vendor/sqlx-core is exactly the published sqlx-core 0.9.0 with
# vendor/sqlx-core.patch applied (every file, nothing more, nothing less), and
# that Cargo.lock still resolves sqlx-core to that vendored 0.9.0: once a newer
# sqlx-core is locked, the vendored copy is no longer what the build uses and
# should be removed (see vendor/README.md).
#
#   vendor/check.sh                 check; exit 1 on any difference
#   vendor/check.sh --write-patch   rewrite vendor/sqlx-core.patch from the
#                                   vendored tree, then check
#
# The published crate comes from Cargo's download cache when it is there,
# else from static.crates.io; either way its sha256 must be the one the
# crates.io index lists for sqlx-core 0.9.0.
set -euo pipefail
cd "$(dirname "$0")/.."

name=sqlx-core
version=0.9.0
# `checksum` of sqlx-core 0.9.0 in the crates.io index (and in any
# Cargo.lock that takes it from crates.io).
sha256=05b44e85bf579a8eeb4ceaa77a3a523baf2bf0e9bac7e40f405d537b5d2d5ccb
vendored=vendor/$name
patch_file=vendor/$name.patch

fail() {
  printf 'vendor/check.sh: %s\n' "$*" >&2
  exit 1
}

write_patch=false
case "${1:-}" in
  '') ;;
  --write-patch) write_patch=true ;;
  *) fail "unknown argument ${1}: expected no argument or --write-patch" ;;
esac

# 1. Cargo.lock: one sqlx-core, the vendored 0.9.0 (a path package has no
# `source` line; a registry one does).
locked=$(awk -v name="$name" '
  /^\[\[package\]\]/ { if (found) print version, (source == "" ? "path" : source); found = 0; source = ""; version = "" }
  $0 == "name = \"" name "\"" { found = 1 }
  /^version = / { version = $3; gsub(/"/, "", version) }
  /^source = / { source = $3; gsub(/"/, "", source) }
  END { if (found) print version, (source == "" ? "path" : source) }
' Cargo.lock)
[ -n "$locked" ] || fail "Cargo.lock has no $name: is the workspace still on sqlx?"
while read -r locked_version locked_source; do
  if [ "$locked_version" != "$version" ]; then
    newest=$(printf '%s\n%s\n' "$version" "$locked_version" | sort -V | tail -n 1)
    if [ "$newest" = "$locked_version" ]; then
      fail "Cargo.lock has $name $locked_version, newer than the vendored $version: if it" \
        "disables Nagle's algorithm (transact-rs/sqlx#4336), remove $vendored, $patch_file," \
        "this check and the [patch.crates-io] entry; else vendor $locked_version instead" \
        "(vendor/README.md)"
    fi
    fail "Cargo.lock has $name $locked_version, not the vendored $version"
  fi
  [ "$locked_source" = path ] ||
    fail "Cargo.lock takes $name $version from $locked_source, not from $vendored:" \
      "the [patch.crates-io] entry in Cargo.toml is not in use"
done <<<"$locked"

# 2. The published crate, checked against the index's sha256.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/kvshvl_vendor_check_XXXXXX")
trap 'rm -rf "$scratch"' EXIT
crate_file=
for cached in "${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/"$name-$version.crate"; do
  [ -f "$cached" ] && crate_file=$cached && break
done
if [ -z "$crate_file" ]; then
  crate_file=$scratch/$name-$version.crate
  url=https://static.crates.io/crates/$name/$name-$version.crate
  curl -sSfL --retry 3 -o "$crate_file" "$url" || fail "cannot download $url"
fi
actual=$(sha256sum "$crate_file" | cut -d ' ' -f 1)
[ "$actual" = "$sha256" ] ||
  fail "$crate_file has sha256 $actual, not $sha256 as crates.io lists for $name $version"
mkdir "$scratch/published"
tar -xzf "$crate_file" -C "$scratch/published" --strip-components=1

# 3. Published plus the patch must be the vendored tree, file for file.
if $write_patch; then
  # Paths a/… (published) and b/… (vendored), without timestamps, so that
  # `git apply` and `patch -p1` both take it and it regenerates identically.
  ln -s "$scratch/published" "$scratch/a"
  ln -s "$PWD/$vendored" "$scratch/b"
  status=0
  (cd "$scratch" && LC_ALL=C diff -ruN a b) >"$scratch/new.patch" || status=$?
  # diff exits 1 when the trees differ, 2 on trouble.
  [ "$status" -le 1 ] || fail "diff failed"
  sed -E 's/^((---|\+\+\+) [^\t]*)\t.*$/\1/' "$scratch/new.patch" >"$patch_file"
  printf 'vendor/check.sh: wrote %s\n' "$patch_file" >&2
fi
[ -f "$patch_file" ] || fail "$patch_file is missing (vendor/check.sh --write-patch writes it)"
cp -R "$scratch/published" "$scratch/patched"
GIT_CEILING_DIRECTORIES=$scratch git -C "$scratch/patched" apply --whitespace=nowarn \
  "$PWD/$patch_file" 2>"$scratch/apply.err" ||
  fail "$patch_file does not apply to the published $name $version: $(cat "$scratch/apply.err")"
if ! LC_ALL=C diff -r "$scratch/patched" "$vendored" >"$scratch/differences" 2>&1; then
  sed -e "s|$scratch/patched|published+patch|g" "$scratch/differences" | head -n 40 >&2
  fail "$vendored is not the published $name $version plus $patch_file (differences above;" \
    "put an intended change into the patch with vendor/check.sh --write-patch)"
fi
printf 'vendor/check.sh: %s is the published %s %s plus %s; Cargo.lock uses it\n' \
  "$vendored" "$name" "$version" "$patch_file"
