#!/usr/bin/env bash
# Train the Rasa model only when its inputs changed. Inputs: config.yml, bot/components,
# bot/domain, bot/data and nlu_data/*.yml; their hash is scripts/data_hash.py (the same one
# scripts/evaluate.py writes into eval.json and /om-ai compares). The model is cached as
# var/models/model-<hash>.tar.gz and var/models/current.tar.gz points at it. Prints the model
# path as the last line. Trainings are serialised with a lock and written under a temporary
# name, so a reader never sees a half-written model. While it trains it says how long it has
# been going and about how long the last training took.
#   scripts/train.sh          train if needed, print the model path
#   scripts/train.sh --hash   print the training-data hash only
#   scripts/train.sh --root DIR
#                             train from the config.yml, bot/ and nlu_data/ under DIR (the
#                             editors' staging copy, gateway/editor/) into the same cache;
#                             var/models/current.tar.gz is left alone (the release registry
#                             decides what is live)
#   scripts/train.sh --finetune [--base MODEL]
#                             fast path after an edit of examples of existing topics: continue
#                             training MODEL (default var/models/current.tar.gz; rasa train
#                             --finetune, a fifth of the epochs) into
#                             var/models/model-<hash>.finetuned.tar.gz. When Rasa refuses (a new
#                             or removed topic or intent, a changed answer or config) it trains
#                             fully instead. A later run without --finetune still trains the
#                             authoritative model-<hash>.tar.gz.
#   scripts/train.sh --first-start
#                             a newcomer's first `make run`: when the full model of these
#                             inputs is not there yet, train a short one (DIET and the
#                             ResponseSelector with a quarter of their epochs) into
#                             var/models/model-<hash>.first.tar.gz and print its path;
#                             scripts/run.py serves it, trains the full model in the background
#                             and makes it live without a restart. With the full model there it
#                             behaves as without the option.
set -euo pipefail
cd "$(dirname "$0")/.."
python=.venv-rasa/bin/python
[[ -x "$python" ]] || python=python3
src=. finetune=0 base="" hash_only=0 first_start=0
FIRST_START_EPOCH_FRACTION=${FIRST_START_EPOCH_FRACTION:-0.25}
while [[ $# -gt 0 ]]; do
  case "$1" in
    --root)
      [[ -n "${2:-}" && -f "${2}/config.yml" ]] || { echo "--root needs a directory with config.yml, bot/ and nlu_data/" >&2; exit 2; }
      src=$(cd "$2" && pwd); shift 2 ;;
    --finetune) finetune=1; shift ;;
    --base)
      [[ -n "${2:-}" && -f "${2}" ]] || { echo "--base needs a trained model file" >&2; exit 2; }
      base=$(readlink -f "$2"); shift 2 ;;
    --hash) hash_only=1; shift ;;
    --first-start) first_start=1; shift ;;
    *) echo "unknown option '$1' (see the top of scripts/train.sh)" >&2; exit 2 ;;
  esac
done
if [[ "$hash_only" == 1 ]]; then exec "$python" scripts/data_hash.py --root "$src"; fi
mkdir -p var/models
exec 9>var/models/.train.lock
flock 9
hash=$("$python" scripts/data_hash.py --root "$src")
model="var/models/model-${hash}.tar.gz"
finetuned="var/models/model-${hash}.finetuned.tar.gz"
name="model-${hash}.tar.gz"
first="var/models/model-${hash}.first.tar.gz"
config="$src/config.yml"

# One rasa invocation in the background, with a line of progress every 30 s; extra
# arguments (e.g. --finetune MODEL) are passed on.
rasa_train() {  # rasa_train OUT_DIR NAME WHAT LAST [args...]
  local out=$1 name=$2 what=$3 last=$4; shift 4
  local started pid ticks=0
  started=$(date +%s)
  PYTHONPATH=. RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=3 \
    .venv-rasa/bin/rasa train --config "$config" --domain "$src/bot/domain" \
      --data "$src/nlu_data" "$src/bot/data" \
      --out "$out" --fixed-model-name "$name" --quiet "$@" > var/models/train.log 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 2
    ticks=$(( ticks + 1 ))
    if (( ticks % 15 == 0 )); then
      echo "  ... ${what} training: $(( $(date +%s) - started )) s so far (the last one took ${last} s)" >&2
    fi
  done
  wait "$pid"
}

# A full or first-start training into TARGET (written under a temporary name, so a reader
# never sees half a model); its time is kept in SECONDS_FILE for the next progress lines.
train_model() {  # train_model WHAT TARGET SECONDS_FILE
  local what=$1 target=$2 seconds=$3 start tmp
  start=$(date +%s)
  tmp="var/models/tmp-${hash}-${what}-$$"
  rasa_train "$tmp" "model-${hash}" "$what" "$(cat "$seconds" 2>/dev/null || echo 'about 300')" \
    || { tail -n 40 var/models/train.log >&2; rm -rf "$tmp"; echo "Training failed: see var/models/train.log" >&2; exit 1; }
  mv "$tmp/model-${hash}.tar.gz" "$target"
  rm -rf "$tmp"
  echo "$(( $(date +%s) - start ))" > "$seconds"
  echo "Trained in $(( $(date +%s) - start ))s." >&2
}

if [[ -f "$model" ]]; then
  echo "Model is up to date (inputs ${hash}); not training." >&2
elif [[ "$first_start" == 1 && -f "$first" ]]; then
  echo "A first-start model of these inputs is there (${first}); the full one trains in the background." >&2
  echo "$first"; exit 0
elif [[ "$first_start" == 1 ]]; then
  config="var/models/first-start-config.yml"
  "$python" - "$src/config.yml" "$config" "$FIRST_START_EPOCH_FRACTION" <<'PY'
import sys
import yaml
source, target, fraction = sys.argv[1], sys.argv[2], float(sys.argv[3])
with open(source, encoding="utf-8") as f:
    config = yaml.safe_load(f)
for component in config["pipeline"]:
    if "epochs" in component:
        component["epochs"] = max(1, round(component["epochs"] * fraction))
with open(target, "w", encoding="utf-8") as f:
    f.write(f"# Written by scripts/train.sh --first-start from {source}: epochs x {fraction}.\n")
    yaml.safe_dump(config, f, allow_unicode=True, sort_keys=False)
PY
  echo "First start: training a short first model (${FIRST_START_EPOCH_FRACTION} of the epochs, about $(cat var/models/.last-first-seconds 2>/dev/null || echo 150) s); the full model follows in the background once the assistant runs..." >&2
  train_model first "$first" var/models/.last-first-seconds
  echo "$first"; exit 0
elif [[ "$finetune" == 1 && -f "$finetuned" ]]; then
  echo "Finetuned model is up to date (inputs ${hash}); not training." >&2
  model="$finetuned" name="model-${hash}.finetuned.tar.gz"
else
  start=$(date +%s)
  tmp="var/models/tmp-${hash}-$$"
  trained=0
  [[ -n "$base" ]] || base=$(readlink -f var/models/current.tar.gz 2>/dev/null || true)
  if [[ "$finetune" == 1 && -n "$base" && -f "$base" ]]; then
    echo "Finetuning $(basename "$base") on the changed examples (inputs ${hash})..." >&2
    if rasa_train "$tmp" "model-${hash}" finetune "$(cat var/models/.last-finetune-seconds 2>/dev/null || echo 'about 160')" \
        --finetune "$base" --epoch-fraction 0.2 \
        && [[ -f "$tmp/model-${hash}.tar.gz" ]]; then
      mv "$tmp/model-${hash}.tar.gz" "$finetuned"
      model="$finetuned" name="model-${hash}.finetuned.tar.gz" trained=1
      echo "$(( $(date +%s) - start ))" > var/models/.last-finetune-seconds
      echo "Finetuned in $(( $(date +%s) - start ))s." >&2
    else
      reason=$(grep -o "Cannot finetune[^.]*" var/models/train.log | head -n 1 || true)
      echo "Rasa did not finetune (${reason:-see var/models/train.log}); training fully instead." >&2
      cp var/models/train.log var/models/finetune-refused.log
    fi
    rm -rf "$tmp"
  fi
  if [[ "$trained" == 0 ]]; then
    echo "Training the Rasa model (inputs ${hash}); the last training took $(cat var/models/.last-train-seconds 2>/dev/null || echo 'a few minutes: about 300') s..." >&2
    train_model full "$model" var/models/.last-train-seconds
  fi
fi
[[ "$src" == "." ]] && ln -sfn "$name" var/models/current.tar.gz
echo "$model"
