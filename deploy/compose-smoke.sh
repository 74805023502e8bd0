#!/usr/bin/env bash
# Start deploy/compose.yml, wait until HAProxy on 127.0.0.1:8000 is ready, ask one question
# through it, check the staff console loads, print how long that took, and stop the stack again
# (docs/drift.md).
#   deploy/compose-smoke.sh          (after deploy/images/build.sh; KEEP=1 leaves it running:
#                                     that is `make compose`)
set -euo pipefail
cd "$(dirname "$0")"
[[ -f .env ]] || { umask 077; echo "RASA_CHANNEL_TOKEN=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')" > .env; }
compose=(docker-compose -p karlstad -f compose.yml)
started=$(date +%s)
"${compose[@]}" up -d >/dev/null
trap '[[ "${KEEP:-0}" == 1 ]] || "${compose[@]}" down >/dev/null 2>&1' EXIT
until curl -sf http://127.0.0.1:8000/readyz >/dev/null; do
  (( $(date +%s) - started < 600 )) || { echo "compose: not ready after 600 s" >&2; "${compose[@]}" ps >&2; exit 1; }
  sleep 2
done
ready=$(( $(date +%s) - started ))
created=$(curl -sf -X POST http://127.0.0.1:8000/api/conversations)
cid=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["conversation_id"])' "$created")
token=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["token"])' "$created")
answer=$(curl -sf -X POST "http://127.0.0.1:8000/api/conversations/$cid/messages" -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' -d '{"text": "Behöver jag bygglov för ett garage?"}')
python3 -c 'import json,sys; m=json.loads(sys.argv[1])["messages"][0]; assert m["basis_id"]; print("compose: answered through HAProxy:", m["text"][:70])' "$answer"
curl -sf -o /dev/null http://127.0.0.1:8000/staff/ || { echo "compose: the staff console did not load through HAProxy" >&2; exit 1; }
echo "compose: ready ${ready} s after 'up'"
if [[ "${KEEP:-0}" == 1 ]]; then
  echo "compose: demo page      http://127.0.0.1:8000/"
  echo "compose: staff console  http://127.0.0.1:8000/staff/  (accounts: make staff-user, run inside gateway-1: docker-compose -p karlstad -f deploy/compose.yml exec gateway-1 ...)"
  echo "compose: stop with      make compose-down"
fi
