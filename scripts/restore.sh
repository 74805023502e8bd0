#!/usr/bin/env bash
# Restore a dump made by scripts/backup.sh into an EMPTY PostgreSQL database.
# docs/drift.md, "Säkerhetskopiering och återställning".
#   scripts/restore.sh FILE TARGET_URL
# TARGET_URL names a database that exists and has no tables (`createdb NAME`); a database
# that already has tables is refused, so a restore never mixes two states. The restore runs
# in one transaction: it is either whole or not there at all. Afterwards run
# `make audit-verify` with DATABASE_URL=TARGET_URL to check every basis-record chain.
set -euo pipefail
if [[ $# -ne 2 ]]; then
  echo "usage: scripts/restore.sh FILE TARGET_URL   (TARGET_URL: an empty database, e.g. postgresql://karlstad@127.0.0.1:5432/karlstad_restored)" >&2
  exit 2
fi
file=$1 url=$2
case "$url" in
  postgresql://*|postgres://*) ;;
  postgresql+psycopg://*) url="postgresql://${url#postgresql+psycopg://}" ;;
  *) echo "restore: TARGET_URL must be a postgresql:// URL, not '${url%%://*}://...'" >&2; exit 2 ;;
esac
[[ -f "$file" ]] || { echo "restore: there is no file '$file'" >&2; exit 2; }
if ! pg_restore --list "$file" >/dev/null 2>&1; then
  echo "restore: '$file' is not a pg_dump custom-format archive (make one with scripts/backup.sh)" >&2
  exit 2
fi
if ! tables=$(psql "$url" -XAtq -v ON_ERROR_STOP=1 -c \
    "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')" 2>&1); then
  echo "restore: cannot connect to the target database: $tables" >&2
  echo "Create it first, e.g. \`createdb -h 127.0.0.1 -U postgres karlstad_restored\`." >&2
  exit 2
fi
if [[ "$tables" != "0" ]]; then
  echo "restore: the target database is not empty ($tables tables). Restore into a new, empty database," >&2
  echo "check it (make audit-verify), then point DATABASE_URL at it." >&2
  exit 3
fi
started=$(date +%s.%N)
pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --dbname="$url" "$file"
rows=$(psql "$url" -XAtq -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
safe=$(sed -E 's#(://[^:/@]+):[^@]*@#\1:***@#; s#\?.*##' <<<"$url")
seconds=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
echo "restore: $file -> $safe ($rows tables, ${seconds} s). Now: DATABASE_URL=... make audit-verify"
