#!/usr/bin/env bash
# Build a Debian base image from Debian's own packages with debootstrap and `docker import`
# it. No image registry is used: the only sources are the Debian archive that this machine's
# apt is configured for and the packages named below.
#   deploy/images/build-base.sh [SUITE]     SUITE: bookworm (gateway, Python 3.11, default)
#                                                   or bullseye (Rasa 3.6, Python 3.9: Rasa
#                                                   needs a Python older than 3.11)
# Result: the image karlstad/base:SUITE. Needs root, debootstrap and a running Docker engine.
# MIRROR overrides the archive (default: the first URIs: line of the host's apt sources).
set -euo pipefail
suite=${1:-bookworm}
case "$suite" in bookworm|bullseye) ;; *) echo "build-base: SUITE must be bookworm or bullseye, not '$suite'" >&2; exit 2 ;; esac
command -v debootstrap >/dev/null || { echo "build-base: install debootstrap (apt-get install debootstrap)" >&2; exit 2; }
docker info >/dev/null 2>&1 || { echo "build-base: no Docker engine answers (see docs/drift.md, 'Containeravbildningar')" >&2; exit 2; }
mirror=${MIRROR:-}
if [[ -z "$mirror" ]]; then
  mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
fi
if [[ -z "$mirror" ]]; then
  mirror=$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
fi
[[ -n "$mirror" ]] || { echo "build-base: set MIRROR to a Debian archive URL" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/karlstad-base-${suite}.XXXXXX")
trap 'rm -rf "$work"' EXIT
started=$(date +%s)
# python3 + venv: the services run from a virtual environment made from the pinned
# requirements; tini reaps children and forwards signals (PID 1); ca-certificates for pip.
debootstrap --variant=minbase --include=ca-certificates,python3,python3-venv,tini \
  "$suite" "$work/rootfs" "$mirror" > "$work/debootstrap.log" 2>&1 \
  || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
# Nothing from the build machine's package cache goes into the image.
chroot "$work/rootfs" apt-get clean
rm -rf "$work/rootfs"/var/lib/apt/lists/* "$work/rootfs"/var/cache/apt/*.bin "$work/rootfs"/tmp/*
tar --numeric-owner -C "$work/rootfs" -c . | docker import \
  --change 'ENV LANG=C.UTF-8' --change 'CMD ["/bin/bash"]' - "karlstad/base:${suite}" >/dev/null
echo "build-base: karlstad/base:${suite} in $(( $(date +%s) - started )) s ($(docker image inspect -f '{{.Size}}' "karlstad/base:${suite}" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
