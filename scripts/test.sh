#!/usr/bin/env bash
# Runs every test: the Rasa-side tests in the Rasa environment, then the gateway,
# translation, end-to-end and browser tests in the app environment.
set -uo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=3
export KARLSTAD_MODEL="$(pwd)/var/models/current.tar.gz"
status=0
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
echo "== Rasa environment: actions, bot components, NLU quality =="
# tests/nlu/test_finetune_fallback.py (a real training, ~3.5 min) is in `make test-ops`.
PYTHONPATH=. .venv-rasa/bin/python -m pytest -q -p no:cacheprovider tests/actions tests/bot tests/nlu \
  --ignore=tests/nlu/test_finetune_fallback.py || status=1
echo "== Type check (mypy --strict) =="
.venv/bin/mypy --strict translation gateway || status=1
echo "== Lint (ruff, see [tool.ruff] in pyproject.toml) =="
make --no-print-directory lint || status=1
echo "== App environment: repository, translation, gateway, end to end, browser =="
# Live operational runs (each starts a stack or a cluster of its own, and the editors' live
# release, which really trains the staged content: 5-15 min) are `make test-ops`,
# which .ci/run runs after this: make test stays well under 30 minutes on a fresh clone.
OPS_TESTS="tests/e2e/test_model_swap.py tests/e2e/test_editor_release.py tests/deploy/test_cluster.py tests/deploy/test_backup_restore.py"
PYTHONPATH=. .venv/bin/python -m pytest -q -p no:cacheprovider tests/test_repository.py tests/test_rasa_sql_pool.py tests/translation tests/gateway tests/e2e tests/deploy tests/widget \
  --durations=12 $(printf -- '--ignore=%s ' $OPS_TESTS) || status=1
exit $status
