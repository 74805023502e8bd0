#!/usr/bin/env bash
# Back up the PostgreSQL database (the gateway's tables and Rasa's tracker store) with
# pg_dump's custom format. docs/drift.md, "Säkerhetskopiering och återställning".
#   scripts/backup.sh [FILE]        FILE defaults to var/backups/karlstad-<UTC time>.dump
# The database is DATABASE_URL (or GATEWAY_DATABASE_URL). The dump is written under a
# temporary name, checked with `pg_restore --list` and only then renamed, so a FILE that
# exists is always a whole dump. It holds citizens' (masked) messages: mode 0600.
set -euo pipefail
cd "$(dirname "$0")/.."
url="${GATEWAY_DATABASE_URL:-${DATABASE_URL:-}}"
if [[ -z "$url" ]]; then
  echo "backup: set DATABASE_URL to the PostgreSQL database to back up, e.g." >&2
  echo "  DATABASE_URL=postgresql://karlstad@127.0.0.1:5432/karlstad scripts/backup.sh" >&2
  echo "(without DATABASE_URL the gateway uses var/gateway.db, SQLite: copy that file while the gateway is stopped)" >&2
  exit 2
fi
case "$url" in
  postgresql://*|postgres://*) ;;
  postgresql+psycopg://*) url="postgresql://${url#postgresql+psycopg://}" ;;
  *) echo "backup: DATABASE_URL must be a postgresql:// URL, not '${url%%://*}://...'" >&2; exit 2 ;;
esac
for tool in pg_dump pg_restore; do
  command -v "$tool" >/dev/null || { echo "backup: $tool is missing; install Debian's postgresql-client" >&2; exit 2; }
done
out="${1:-var/backups/karlstad-$(date -u +%Y%m%dT%H%M%SZ).dump}"
umask 077
mkdir -p "$(dirname "$out")"
tmp="$(dirname "$out")/.$(basename "$out").partial-$$"
trap 'rm -f "$tmp"' EXIT
started=$(date +%s.%N)
# --no-owner/--no-privileges: the dump restores into a database owned by another role.
pg_dump --format=custom --compress=6 --no-owner --no-privileges --file="$tmp" "$url"
tables=$(pg_restore --list "$tmp" | grep -c " TABLE DATA " || true)
mv "$tmp" "$out"
trap - EXIT
seconds=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
echo "backup: $out ($(du -h "$out" | cut -f1), $tables tables, ${seconds} s)"
