#!/usr/bin/env bash
# Train the Rasa model only when its inputs changed. Inputs: config.yml, bot/ (domain,
# rules, components) and nlu_data/*.yml. The model is cached as var/models/model-<hash>.tar.gz
# and var/models/current.tar.gz points at it. Prints the model path as the last line.
# Trainings are serialised with a lock and written under a temporary name, so a reader
# never sees a half-written model.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var/models
exec 9>var/models/.train.lock
flock 9
hash=$(find config.yml bot nlu_data -type f \( -name '*.yml' -o -name '*.py' \) -not -path '*/__pycache__/*' \
        | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)
model="var/models/model-${hash}.tar.gz"
if [[ -f "$model" ]]; then
  echo "Model is up to date (inputs ${hash}); not training." >&2
else
  echo "Training the Rasa model (inputs ${hash}); this takes a few minutes..." >&2
  start=$(date +%s)
  tmp="var/models/tmp-${hash}-$$"
  PYTHONPATH=. RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=3 \
    .venv-rasa/bin/rasa train --config config.yml --domain bot/domain --data nlu_data bot/data \
      --out "$tmp" --fixed-model-name "model-${hash}" --quiet > var/models/train.log 2>&1 \
    || { tail -n 40 var/models/train.log >&2; rm -rf "$tmp"; echo "Training failed: see var/models/train.log" >&2; exit 1; }
  mv "$tmp/model-${hash}.tar.gz" "$model"
  rm -rf "$tmp"
  echo "Trained in $(( $(date +%s) - start ))s." >&2
fi
ln -sfn "model-${hash}.tar.gz" var/models/current.tar.gz
echo "$model"
