#!/usr/bin/env bash
# Make sure a Docker engine answers (docs/drift.md, "Med containrar"). On a machine without one
# (as root): install Debian's docker.io, docker-compose and debootstrap, then start dockerd
# without a bridge, forwarding or firewall rules: the stack uses the host's network on
# 127.0.0.1 only. Its log goes to var/log/dockerd.log.
set -euo pipefail
cd "$(dirname "$0")/.."
if docker info >/dev/null 2>&1; then exit 0; fi
if ! command -v dockerd >/dev/null || ! command -v docker-compose >/dev/null || ! command -v debootstrap >/dev/null; then
  [[ $(id -u) == 0 ]] || { echo "engine: install docker.io docker-compose debootstrap (as root)" >&2; exit 2; }
  echo "engine: installing docker.io, docker-compose and debootstrap from Debian" >&2
  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io docker-compose debootstrap >/dev/null
fi
if ! docker info >/dev/null 2>&1; then
  [[ $(id -u) == 0 ]] || { echo "engine: no Docker engine answers; start dockerd (as root)" >&2; exit 2; }
  mkdir -p var/log
  echo "engine: starting dockerd (no bridge, no iptables; log var/log/dockerd.log)" >&2
  nohup dockerd --iptables=false --ip-forward=false --ip-masq=false --bridge=none >var/log/dockerd.log 2>&1 &
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && exit 0; sleep 1; done
  echo "engine: dockerd did not answer within 60 s; see var/log/dockerd.log" >&2; exit 1
fi
