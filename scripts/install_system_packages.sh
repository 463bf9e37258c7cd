#!/usr/bin/env bash
# The Debian packages some tests need besides Python ones, installed once: idempotent, and only as root on a
# machine with apt (elsewhere it says what is missing and the tests that need it skip with that reason).
#
# One line per package: "<command or file it provides> <Debian package>  # which tests need it".
set -euo pipefail

PACKAGES=(
    "/usr/bin/chromium chromium"  # tests/e2e/test_ui_browser.py: the live view in a real headless browser
    "prometheus-elasticsearch-exporter prometheus-elasticsearch-exporter"  # tests/e2e/test_prometheus_exporter.py
    "ip iproute2"  # tests/e2e/test_hosts.py: `simcluster up --hosts`, a network namespace per node
    "nft nftables"  # tests/e2e/test_hosts.py: kernel-level faults
)

missing=()
for entry in "${PACKAGES[@]}"; do
    read -r provides package <<<"$entry"
    if [[ "$provides" == /* ]]; then
        [[ -e "$provides" ]] || missing+=("$package")
    else
        command -v "$provides" >/dev/null 2>&1 || missing+=("$package")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi
if [[ "$(id -u)" -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "not installing ${missing[*]} (needs root and apt-get); the tests that need them will skip" >&2
    exit 0
fi
echo "installing ${missing[*]}" >&2
# Another apt run (unattended upgrades, a parallel job) may hold the lock for a while: wait for it.
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=300 update -qq
apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}"
