#!/usr/bin/env bash
# Build the two images from Debian packages and the pinned requirements, and say how long
# each step took (docs/drift.md, "Containeravbildningar"):
#   deploy/images/build.sh        -> karlstad/gateway:<commit>, karlstad/rasa:<commit> (+ :latest)
# Needs root, debootstrap and a running Docker engine (Debian's docker.io).
set -euo pipefail
cd "$(dirname "$0")/../.."
tag=$(git describe --always --dirty 2>/dev/null || echo dev)  # -dirty: built from uncommitted changes
export DOCKER_BUILDKIT=0   # the classic builder: no buildx plugin, no registry look-ups
step() { local name=$1 t0; shift; t0=$(date +%s); "$@"; echo "build: ${name} $(( $(date +%s) - t0 )) s" >&2; }
mkdir -p var/images/wheels
for suite in bookworm bullseye; do
  docker image inspect "karlstad/base:${suite}" >/dev/null 2>&1 || step "base ${suite}" deploy/images/build-base.sh "$suite"
done
# The build machine's certificate authorities, for pip inside the build (PIP_CERT or Debian's bundle).
cp "${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}" var/images/ca-certificates.crt
# The CPU build of torch 2.13.0 for the gateway image, from pip's local wheel folder.
if ! ls var/images/wheels/torch-2.13.0*.whl >/dev/null 2>&1; then
  links=${PIP_FIND_LINKS:-$(pip config get global.find-links 2>/dev/null || true)}
  wheel=$(ls "${links:-/opt/wheels}"/torch-2.13.0*cp311*.whl 2>/dev/null | head -1 || true)
  [[ -n "$wheel" ]] || { echo "build: put the CPU wheel torch-2.13.0+cpu-cp311-...whl in var/images/wheels/ (pip download)" >&2; exit 2; }
  cp "$wheel" var/images/wheels/
fi
step "gateway image" docker build --network host -q -f deploy/images/gateway.Dockerfile \
  -t "karlstad/gateway:${tag}" -t karlstad/gateway:latest . >/dev/null
step "rasa image" docker build --network host -q -f deploy/images/rasa.Dockerfile \
  -t "karlstad/rasa:${tag}" -t karlstad/rasa:latest . >/dev/null
step "services image" docker build --network host -q -f deploy/images/services.Dockerfile \
  -t "karlstad/services:${tag}" -t karlstad/services:latest . >/dev/null
docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep '^karlstad/' | sort
