#!/usr/bin/env bash
# Re-make requirements/rasa-py39.lock from requirements/rasa.lock for Python 3.9 (the
# python3 of Debian 11, the base of the Rasa image; Debian has no Python 3.10). Every pin of
# rasa.lock that has a release for 3.9 is kept; pip picks the newest release that fits for
# the others. Runs pip in a container of karlstad/base:bullseye (deploy/images/build-base.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp requirements/rasa.lock "$work/c.txt"
cut -d= -f1 requirements/rasa.lock | grep -v -e '^#' -e '^$' > "$work/names.txt"
cp "${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}" "$work/ca.crt"
cat > "$work/resolve.sh" <<'INNER'
set -u
export PIP_CERT=/w/ca.crt PIP_DISABLE_PIP_VERSION_CHECK=1
python3 -m venv /v && /v/bin/pip install -q pip==24.2
for i in $(seq 1 100); do
  if /v/bin/pip install -q --dry-run --ignore-installed --report /w/report.json -r /w/names.txt -c /w/c.txt 2> /w/err.txt; then exit 0; fi
  pkg=$(grep -oP "(satisfies the requirement |Cannot install )\K[A-Za-z0-9_.\-]+" /w/err.txt | head -1)
  [ -n "$pkg" ] || { grep -v "Ignored the following" /w/err.txt >&2; exit 1; }
  if grep -qi "^$pkg==" /w/c.txt; then echo "relaxed $pkg" >&2; sed -i "/^$pkg==/Id" /w/c.txt
  else echo "dropped $pkg (no release for Python 3.9)" >&2; sed -i "/^$pkg\$/Id" /w/names.txt; fi
done
exit 1
INNER
docker run --rm --network host -v "$work:/w" karlstad/base:bullseye bash /w/resolve.sh
{
  sed -n '1,4p' requirements/rasa-py39.lock
  python3 -c "import json,sys; r=json.load(open(sys.argv[1])); [print(f\"{n}=={v}\") for n,v in sorted((i['metadata']['name'], i['metadata']['version']) for i in r['install'])]" "$work/report.json"
} > "$work/lock" && mv "$work/lock" requirements/rasa-py39.lock
echo "requirements/rasa-py39.lock: $(grep -c '==' requirements/rasa-py39.lock) pins"
