#!/usr/bin/env bash
# Train the Rasa model only when its inputs changed. Inputs: config.yml, bot/{components,domain,data} (domain,
# rules, components) and nlu_data/*.yml; their hash is scripts/data_hash.py (the same one
# scripts/evaluate.py writes into eval.json and /om-ai compares). The model is cached as
# var/models/model-<hash>.tar.gz and var/models/current.tar.gz points at it. Prints the model
# path as the last line. Trainings are serialised with a lock and written under a temporary
# name, so a reader never sees a half-written model.
#   scripts/train.sh          train if needed, print the model path
#   scripts/train.sh --hash   print the training-data hash only
#   scripts/train.sh --root DIR
#                             train from the config.yml, bot/ and nlu_data/ under DIR (the
#                             editors' staging copy, gateway/editor/) into the same cache;
#                             var/models/current.tar.gz is left alone (the release registry
#                             decides what is live)
set -euo pipefail
cd "$(dirname "$0")/.."
python=.venv-rasa/bin/python
[[ -x "$python" ]] || python=python3
src=.
if [[ "${1:-}" == "--root" ]]; then
  [[ -n "${2:-}" && -f "${2}/config.yml" ]] || { echo "--root needs a directory with config.yml, bot/ and nlu_data/" >&2; exit 2; }
  src=$(cd "$2" && pwd)
  shift 2
fi
if [[ "${1:-}" == "--hash" ]]; then exec "$python" scripts/data_hash.py --root "$src"; fi
mkdir -p var/models
exec 9>var/models/.train.lock
flock 9
hash=$("$python" scripts/data_hash.py --root "$src")
model="var/models/model-${hash}.tar.gz"
if [[ -f "$model" ]]; then
  echo "Model is up to date (inputs ${hash}); not training." >&2
else
  echo "Training the Rasa model (inputs ${hash}); this takes a few minutes..." >&2
  start=$(date +%s)
  tmp="var/models/tmp-${hash}-$$"
  PYTHONPATH=. RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=3 \
    .venv-rasa/bin/rasa train --config "$src/config.yml" --domain "$src/bot/domain" --data "$src/nlu_data" "$src/bot/data" \
      --out "$tmp" --fixed-model-name "model-${hash}" --quiet > var/models/train.log 2>&1 \
    || { tail -n 40 var/models/train.log >&2; rm -rf "$tmp"; echo "Training failed: see var/models/train.log" >&2; exit 1; }
  mv "$tmp/model-${hash}.tar.gz" "$model"
  rm -rf "$tmp"
  echo "Trained in $(( $(date +%s) - start ))s." >&2
fi
[[ "$src" == "." ]] && ln -sfn "model-${hash}.tar.gz" var/models/current.tar.gz
echo "$model"
