#!/bin/sh
# System packages some tests use, installed from Debian's archive when missing (`make test` runs this first):
# the Prometheus exporter, and iproute2 and nftables for `simcluster up --hosts` (network namespaces, kernel faults).
#
# One line per package: the command the tests look for, then the Debian package that provides it. Nothing is
# installed when every command is already there, or when this is not a root shell on a system with apt-get (the
# tests that need a missing command skip and say why).
set -eu

PACKAGES='
prometheus-elasticsearch-exporter prometheus-elasticsearch-exporter
ip iproute2
nft nftables
'

missing=''
for pair in $(printf '%s' "$PACKAGES" | tr ' ' ':'); do
    command_name=${pair%%:*}
    package=${pair#*:}
    if ! command -v "$command_name" >/dev/null 2>&1; then
        missing="$missing $package"
    fi
done

if [ -z "$missing" ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "not installing$missing: needs root and apt-get; the tests that use them will skip" >&2
    exit 0
fi
echo "installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086  # one word per package
apt-get install -y -qq --no-install-recommends $missing
