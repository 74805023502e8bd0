#!/usr/bin/env bash
# Runs every test: the Rasa-side tests in the Rasa environment, then the gateway,
# translation, end-to-end and browser tests in the app environment.
#
# On a fresh clone the model has to be trained once (scripts/train.sh, 7-15 min on 2 cores).
# The training starts in the background as soon as the Rasa environment exists, and the tests
# that need no model (about two thirds of them) run meanwhile: the training uses about one core
# on average, the tests mostly the other. Then the tests of the trained model run. A test that
# needs the model and runs early is still correct: its fixture calls scripts/train.sh, which
# waits for the running training (one lock) and returns the same model.
set -uo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=3
export KARLSTAD_MODEL="$(pwd)/var/models/current.tar.gz"
status=0
started=$(date +%s)
elapsed() { echo "$(( $(date +%s) - started )) s"; }

make --no-print-directory .venv-rasa/.installed || exit 1
mkdir -p var/models
train_log=var/models/test-train.log
echo "== Training the model in the background if its inputs changed (log: ${train_log}) =="
bash scripts/train.sh > "$train_log" 2>&1 &
train_pid=$!

make --no-print-directory .venv/.installed || status=1
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  echo "Installing Debian's chromium and chromium-driver for the browser tests..."
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver) >/dev/null
  else
    sudo apt-get update -q && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >/dev/null
  fi
fi
if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
  echo "Installing Debian's prometheus for the metrics tests (a real Prometheus scrapes the gateway)..."
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus) >/dev/null
  else
    sudo apt-get update -q && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus >/dev/null
  fi
fi
if [ ! -f tests/widget/node_modules/axe-core/axe.min.js ]; then
  echo "Installing axe-core for the accessibility tests (npm ci)..."
  (cd tests/widget && npm ci --silent --no-audit --no-fund) || status=1
fi
if [ ! -f tests/oidc/node_modules/oidc-provider/package.json ]; then
  echo "Installing oidc-provider for the single sign-on tests (npm ci)..."
  (cd tests/oidc && npm ci --silent --no-audit --no-fund) || status=1
fi

# Tests of the trained model (everything else runs while it trains).
MODEL_RASA_TESTS="tests/nlu/test_paraphrases.py tests/nlu/test_independent_dev.py"
MODEL_APP_TESTS="tests/gateway/test_transparency_live.py tests/e2e tests/widget"
# Live operational runs (each starts a stack or a cluster of its own, and the editors' live
# release, which really trains the staged content: 5-15 min) are `make test-ops`,
# which .ci/run runs after this: make test stays well under 30 minutes on a fresh clone.
# tests/nlu/test_finetune_fallback.py (a real training, ~3.5 min) is there too.
OPS_TESTS="tests/nlu/test_finetune_fallback.py tests/e2e/test_model_swap.py tests/e2e/test_editor_release.py tests/deploy/test_cluster.py tests/deploy/test_backup_restore.py"
ignore() { printf -- '--ignore=%s ' "$@"; }

echo "== Rasa environment: actions, bot components, NLU test data ($(elapsed)) =="
PYTHONPATH=. .venv-rasa/bin/python -m pytest -q -p no:cacheprovider tests/actions tests/bot tests/nlu \
  $(ignore $OPS_TESTS $MODEL_RASA_TESTS) || status=1
echo "== Type check (mypy --strict) ($(elapsed)) =="
.venv/bin/mypy --strict translation gateway || status=1
echo "== Lint (ruff, see [tool.ruff] in pyproject.toml) ($(elapsed)) =="
make --no-print-directory lint || status=1
echo "== App environment: repository, translation, gateway, deployment files ($(elapsed)) =="
PYTHONPATH=. .venv/bin/python -m pytest -q -p no:cacheprovider tests/test_repository.py tests/test_rasa_sql_pool.py \
  tests/translation tests/gateway tests/deploy --durations=8 $(ignore $OPS_TESTS $MODEL_APP_TESTS) || status=1

if kill -0 "$train_pid" 2>/dev/null; then
  echo "== Waiting for the training to finish ($(elapsed); log: ${train_log}) =="
fi
if wait "$train_pid"; then
  grep -E "^(Trained in|Model is up to date)" "$train_log" || true
else
  echo "Training failed:" >&2; tail -n 30 "$train_log" >&2
  exit 1
fi
echo "== Rasa environment: the trained model on held-out paraphrases and the independent dev sets ($(elapsed)) =="
PYTHONPATH=. .venv-rasa/bin/python -m pytest -q -p no:cacheprovider $MODEL_RASA_TESTS || status=1
echo "== App environment: the live stack, end to end, browser ($(elapsed)) =="
PYTHONPATH=. .venv/bin/python -m pytest -q -p no:cacheprovider $MODEL_APP_TESTS \
  --durations=8 $(ignore $OPS_TESTS) || status=1
echo "== make test finished in $(elapsed) (exit ${status}) =="
exit $status
