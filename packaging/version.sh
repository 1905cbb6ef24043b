#!/bin/sh
# Prints this checkout's version, semver without the "v": the tag vX.Y.Z
# at HEAD as X.Y.Z; else the next version after the latest tag (patch + 1)
# or the VERSION file's, whichever is higher, as a pre-release counting
# the commits since that tag (or since the first commit) and naming HEAD:
# 0.1.0-dev.228.g17d50b5; "+dirty" when tracked files have changes.
# Packages sort the same way: 0.1.0~dev.228… < 0.1.0~dev.229… < 0.1.0.
set -eu
cd "$(dirname "$0")/.."
base=$(cat VERSION)
if ! git rev-parse --verify -q HEAD >/dev/null 2>&1; then
	echo "$base-dev" # not a git checkout: a source archive
	exit 0
fi
dirty=
git diff --quiet HEAD -- 2>/dev/null || dirty=+dirty
if tag=$(git describe --tags --exact-match --match 'v[0-9]*' 2>/dev/null); then
	echo "${tag#v}$dirty"
	exit 0
fi
range=HEAD
if tag=$(git describe --tags --abbrev=0 --match 'v[0-9]*' 2>/dev/null); then
	range="$tag..HEAD"
	next=$(echo "${tag#v}" | awk -F. '{ printf "%d.%d.%d", $1, $2, $3 + 1 }')
	base=$(printf '%s\n%s\n' "$base" "$next" | sort -V | tail -n 1)
fi
echo "$base-dev.$(git rev-list --count "$range").g$(git rev-parse --short=7 HEAD)$dirty"
