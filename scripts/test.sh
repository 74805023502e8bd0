#!/usr/bin/env bash
# Runs every test: the Rasa-side tests in the Rasa environment, then the gateway,
# translation, end-to-end and browser tests in the app environment.
#
# On a fresh clone the model has to be trained once (scripts/train.sh, 7-15 min on 2 cores).
# The training starts in the background as soon as the Rasa environment exists, and the tests
# that need no model (about two thirds of them) run meanwhile. The training gets one
# TensorFlow thread: with two threads competing with the tests for 2 cores, TensorFlow's thread
# pool spun and the training took 1,000 CPU seconds instead of ~450 (the model is the same
# data, config and seeds). Then the tests of the trained model run. A test that
# needs the model and runs early is still correct: its fixture calls scripts/train.sh, which
# waits for the running training (one lock) and returns the same model.
set -uo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=3
export KARLSTAD_MODEL="$(pwd)/var/models/current.tar.gz"
status=0
started=$(date +%s)
elapsed() { echo "$(( $(date +%s) - started )) s"; }

# What the browser, metrics and sign-on tests need from outside Python, installed in the
# background while the two environments are created (each step only when missing).
system_log=var/test-setup-system.log
mkdir -p var/models
(
  set -e
  browser=1 metrics=1
  { command -v chromium && command -v chromedriver; } >/dev/null 2>&1 || browser=0
  { command -v prometheus && command -v promtool; } >/dev/null 2>&1 || metrics=0
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  [ "$browser$metrics" = 11 ] || $sudo apt-get update -q
  if [ "$browser" = 0 ]; then
    echo "Installing Debian's chromium and chromium-driver for the browser tests..."
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver
  fi
  if [ "$metrics" = 0 ]; then
    echo "Installing Debian's prometheus for the metrics tests (a real Prometheus scrapes the gateway)..."
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus
  fi
  if [ ! -f tests/widget/node_modules/axe-core/axe.min.js ]; then
    echo "Installing axe-core for the accessibility tests (npm ci)..."
    (cd tests/widget && npm ci --silent --no-audit --no-fund)
  fi
  if [ ! -f tests/oidc/node_modules/oidc-provider/package.json ]; then
    echo "Installing oidc-provider for the single sign-on tests (npm ci)..."
    (cd tests/oidc && npm ci --silent --no-audit --no-fund)
  fi
) > "$system_log" 2>&1 &
system_pid=$!
make --no-print-directory .venv/.installed > var/test-setup-app.log 2>&1 &
app_pid=$!

make --no-print-directory .venv-rasa/.installed || exit 1
train_log=var/models/test-train.log
echo "== Training the model in the background if its inputs changed (log: ${train_log}) ($(elapsed)) =="
TF_INTER_OP_PARALLELISM_THREADS=1 TF_INTRA_OP_PARALLELISM_THREADS=1 OMP_NUM_THREADS=1 \
  bash scripts/train.sh > "$train_log" 2>&1 &
train_pid=$!
if ! wait "$app_pid"; then
  cat var/test-setup-app.log; echo "The app environment could not be created." >&2; exit 1
fi
grep -v "^$" var/test-setup-app.log || true

# Tests of the trained model (everything else runs while it trains).
MODEL_RASA_TESTS="tests/nlu/test_paraphrases.py tests/nlu/test_independent_dev.py"
MODEL_APP_TESTS="tests/gateway/test_transparency_live.py tests/e2e tests/widget"
# Live operational runs (each starts a stack or a cluster of its own, and the editors' live
# release, which really trains the staged content: 5-15 min) are `make test-ops`,
# which .ci/run runs after this: make test stays well under 30 minutes on a fresh clone.
# tests/nlu/test_finetune_fallback.py (a real training, ~3.5 min) is there too.
OPS_TESTS="tests/nlu/test_finetune_fallback.py tests/e2e/test_first_start.py tests/e2e/test_model_swap.py tests/e2e/test_editor_release.py tests/deploy/test_cluster.py tests/deploy/test_backup_restore.py"
ignore() { printf -- '--ignore=%s ' "$@"; }

echo "== Rasa environment: actions, bot components, NLU test data ($(elapsed)) =="
PYTHONPATH=. .venv-rasa/bin/python -m pytest -q -p no:cacheprovider tests/actions tests/bot tests/nlu \
  $(ignore $OPS_TESTS $MODEL_RASA_TESTS) || status=1
echo "== Type check (mypy --strict) ($(elapsed)) =="
.venv/bin/mypy --strict translation gateway || status=1
echo "== Lint (ruff, see [tool.ruff] in pyproject.toml) ($(elapsed)) =="
make --no-print-directory lint || status=1
if wait "$system_pid"; then
  grep "^Installing" "$system_log" || true
else
  status=1; echo "Installing the browser, Prometheus or the npm packages failed:" >&2; tail -n 30 "$system_log" >&2
fi
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
