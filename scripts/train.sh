#!/usr/bin/env bash
# Train the Rasa model only when its inputs changed. Inputs: config.yml, bot/ (domain,
# rules, components) and nlu_data/*.yml; their hash is scripts/data_hash.py (the same one
# scripts/evaluate.py writes into eval.json and /om-ai compares). The model is cached as
# var/models/model-<hash>.tar.gz and var/models/current.tar.gz points at it. Prints the model
# path as the last line. Trainings are serialised with a lock and written under a temporary
# name, so a reader never sees a half-written model.
#   scripts/train.sh          train if needed, print the model path
#   scripts/train.sh --hash   print the training-data hash only
#   scripts/train.sh --finetune
#                             fast path after an edit of examples of existing topics: continue
#                             training the current model (rasa train --finetune, a fifth of the
#                             epochs) into var/models/model-<hash>.finetuned.tar.gz. When Rasa
#                             refuses (a new or removed topic or intent, a changed config) it
#                             trains fully instead. A later run without --finetune still trains
#                             the authoritative model-<hash>.tar.gz.
set -euo pipefail
cd "$(dirname "$0")/.."
python=.venv-rasa/bin/python
[[ -x "$python" ]] || python=python3
if [[ "${1:-}" == "--hash" ]]; then exec "$python" scripts/data_hash.py; fi
finetune=0
if [[ "${1:-}" == "--finetune" ]]; then finetune=1; fi
mkdir -p var/models
exec 9>var/models/.train.lock
flock 9
hash=$("$python" scripts/data_hash.py)
model="var/models/model-${hash}.tar.gz"
# One rasa invocation; extra arguments (e.g. --finetune MODEL) are passed on.
rasa_train() {  # rasa_train OUT_DIR NAME [args...]
  local out=$1 name=$2; shift 2
  PYTHONPATH=. RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=3 \
    .venv-rasa/bin/rasa train --config config.yml --domain bot/domain --data nlu_data bot/data \
      --out "$out" --fixed-model-name "$name" --quiet "$@" > var/models/train.log 2>&1
}
finetuned="var/models/model-${hash}.finetuned.tar.gz"
name="model-${hash}.tar.gz"
if [[ -f "$model" ]]; then
  echo "Model is up to date (inputs ${hash}); not training." >&2
elif [[ "$finetune" == 1 && -f "$finetuned" ]]; then
  echo "Finetuned model is up to date (inputs ${hash}); not training." >&2
  model="$finetuned" name="model-${hash}.finetuned.tar.gz"
else
  start=$(date +%s)
  tmp="var/models/tmp-${hash}-$$"
  trained=0
  base=$(readlink -f var/models/current.tar.gz 2>/dev/null || true)
  if [[ "$finetune" == 1 && -n "$base" && -f "$base" ]]; then
    echo "Finetuning $(basename "$base") on the changed examples (inputs ${hash})..." >&2
    if rasa_train "$tmp" "model-${hash}" --finetune "$base" --epoch-fraction 0.2 \
        && [[ -f "$tmp/model-${hash}.tar.gz" ]]; then
      mv "$tmp/model-${hash}.tar.gz" "$finetuned"
      model="$finetuned" name="model-${hash}.finetuned.tar.gz" trained=1
      echo "Finetuned in $(( $(date +%s) - start ))s." >&2
    else
      reason=$(grep -o "Cannot finetune[^.]*" var/models/train.log | head -n 1 || true)
      echo "Rasa did not finetune (${reason:-see var/models/train.log}); training fully instead." >&2
      cp var/models/train.log var/models/finetune-refused.log
    fi
    rm -rf "$tmp"
  fi
  if [[ "$trained" == 0 ]]; then
    echo "Training the Rasa model (inputs ${hash}); this takes a few minutes..." >&2
    rasa_train "$tmp" "model-${hash}" \
      || { tail -n 40 var/models/train.log >&2; rm -rf "$tmp"; echo "Training failed: see var/models/train.log" >&2; exit 1; }
    mv "$tmp/model-${hash}.tar.gz" "$model"
    rm -rf "$tmp"
    echo "Trained in $(( $(date +%s) - start ))s." >&2
  fi
fi
ln -sfn "$name" var/models/current.tar.gz
echo "$model"
