#!/usr/bin/env bash
# Builds the .deb with CPack, unpacks it into a scratch root with dpkg -x and
# checks that every file is where the unit expects it, that the unit files
# pass `systemd-analyze verify` without a word, and that their exposure
# rating from `systemd-analyze security` is 1.5 or lower.
#
# Usage: check_package.sh BUILD_DIR. Exits 77 (skipped) when dpkg-deb or
# systemd-analyze is missing.
set -euo pipefail

build_dir=$1
max_exposure=1.5

for tool in cpack dpkg-deb systemd-analyze; do
  if ! command -v "$tool" >/dev/null; then
    echo "check_package: $tool not found; skipping the package checks"
    exit 77
  fi
done

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

fail() {
  echo "check_package: FAILED: $*" >&2
  exit 1
}

# Build the package into the scratch directory.
(cd "$build_dir" && cpack -G DEB -B "$scratch/out" >"$scratch/cpack.log" 2>&1) ||
  { cat "$scratch/cpack.log"; fail "cpack -G DEB failed"; }
deb=$(ls "$scratch"/out/*.deb)
echo "check_package: built $(basename "$deb")"

# Every file where systemd and Debian expect it.
root="$scratch/root"
dpkg -x "$deb" "$root"
for file in usr/bin/terra-syncd usr/bin/terra-syncctl \
            lib/systemd/system/terra-syncd.service \
            lib/systemd/system/terra-syncd.socket \
            etc/terra-syncd/terra-syncd.conf; do
  [[ -f "$root/$file" ]] || fail "$file is missing from the package"
done
grep -q '^ExecStart=/usr/bin/terra-syncd ' "$root/lib/systemd/system/terra-syncd.service" ||
  fail "the unit does not start /usr/bin/terra-syncd"

# Runtime dependencies come from the binaries, and installing must not start
# or enable anything: no maintainer script may call systemctl.
control="$scratch/control"
dpkg-deb -e "$deb" "$control"
for library in librocksdb libboost-json libssl3 libsystemd0; do
  grep -q "^Depends:.*$library" "$control/control" ||
    fail "Depends lacks $library: $(grep ^Depends: "$control/control")"
done
grep -qx '/etc/terra-syncd/terra-syncd.conf' "$control/conffiles" ||
  fail "the configuration is not a conffile"
if grep -rqs 'systemctl\|deb-systemd-invoke' "$control"/post* "$control"/pre* 2>/dev/null; then
  fail "a maintainer script starts or enables the service"
fi

# The packaged binary runs against the system's libraries.
"$root/usr/bin/terra-syncd" --version | grep -q '^terra-syncd ' ||
  fail "the packaged terra-syncd does not run"

# systemd-analyze verify checks that ExecStart exists, so the copy under test
# points at the unpacked binary; every other line is the packaged one.
units="$scratch/units"
mkdir "$units"
sed "s|^ExecStart=/usr/bin/terra-syncd|ExecStart=$root/usr/bin/terra-syncd|" \
  "$root/lib/systemd/system/terra-syncd.service" >"$units/terra-syncd.service"
cp "$root/lib/systemd/system/terra-syncd.socket" "$units/"
verify_output=$(cd "$units" && systemd-analyze verify terra-syncd.service terra-syncd.socket 2>&1)
[[ -z "$verify_output" ]] || fail "systemd-analyze verify printed: $verify_output"

exposure=$(cd "$units" && systemd-analyze security --offline=true ./terra-syncd.service 2>&1 |
  sed -n 's/.*Overall exposure level for terra-syncd.service: \([0-9.]*\).*/\1/p')
[[ -n "$exposure" ]] || fail "systemd-analyze security printed no exposure level"
awk -v e="$exposure" -v max="$max_exposure" 'BEGIN { exit !(e <= max) }' ||
  fail "exposure $exposure is above $max_exposure"

echo "check_package: files in place, verify silent, exposure $exposure"
echo "1 passed, 0 failed"
