# Karlstad citizen assistant. `make run` and `make test` are all you need; see README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The first candidate that actually runs (a pyenv shim may exist without that version active).
find_python = $(shell for p in $$(command -v python$(1)) $$(ls -1 $(HOME)/.pyenv/versions/$(1).*/bin/python$(1) 2>/dev/null) /usr/bin/python$(1) /usr/local/bin/python$(1); do "$$p" -c "import sys; assert '%d.%d' % sys.version_info[:2] == '$(1)'" >/dev/null 2>&1 && { echo "$$p"; break; }; done)
PY310 ?= $(call find_python,3.10)
PY311 ?= $(call find_python,3.11)
RASA_VENV := .venv-rasa
APP_VENV  := .venv
export RASA_TELEMETRY_ENABLED := false
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help setup ready run first-model first-model-and-app test test-ops train validate eval eval-full gate bench models models-bundle models-import staff-user purge audit-verify backup restore cluster faults images compose compose-down compose-smoke typecheck lint clean print-pythons

help:
	@echo "make run    - set up (first time), train if data changed, start everything, print URLs"
	@echo "make test   - set up and run every test"
	@echo "Also: validate, eval, eval-full, gate, bench, models, models-bundle, models-import, staff-user, purge, audit-verify, typecheck, lint, clean"
	@echo "Also: test-ops, backup, restore, cluster, faults, images, compose, compose-down, compose-smoke"
	@echo "(operations and deployment: docs/drift.md)"

# ---- environments -------------------------------------------------------------------
$(RASA_VENV)/.installed: requirements/rasa.lock
	@if [ -z "$(PY310)" ]; then echo "Python 3.10 is needed for Rasa 3.6 but was not found. Install it (e.g. 'pyenv install 3.10.13') or set PY310=/path/to/python3.10." >&2; exit 1; fi
	@echo "Creating the Rasa environment ($(RASA_VENV), $$($(PY310) --version))..."
	@test -x $(RASA_VENV)/bin/python || $(PY310) -m venv $(RASA_VENV)
	@$(RASA_VENV)/bin/pip install -q --upgrade "pip==24.2" 2>&1 | grep -v "^WARNING: Location" || true
	@$(RASA_VENV)/bin/pip install -q -r requirements/rasa.lock 2>&1 | grep -v "^WARNING: Location" || true
	@$(RASA_VENV)/bin/python -c "import rasa, rasa_sdk, pytest" || { echo "Rasa environment is incomplete" >&2; exit 1; }
	@touch $@

$(APP_VENV)/.installed: requirements/app.txt
	@if [ -z "$(PY311)" ]; then echo "Python 3.11 is needed for the gateway but was not found. Install it or set PY311=/path/to/python3.11." >&2; exit 1; fi
	@echo "Creating the app environment ($(APP_VENV), $$($(PY311) --version))..."
	@test -x $(APP_VENV)/bin/python || $(PY311) -m venv $(APP_VENV)
	@$(APP_VENV)/bin/pip install -q "torch==2.13.0" 2>&1 | grep -v "^WARNING: Location" || true
	@$(APP_VENV)/bin/pip install -q -r requirements/app.txt 2>&1 | grep -v "^WARNING: Location" || true
	@$(APP_VENV)/bin/python -c "import torch, fastapi, transformers, ctranslate2, langdetect, sqlalchemy" || { echo "App environment is incomplete" >&2; exit 1; }
	@touch $@

setup: $(RASA_VENV)/.installed $(APP_VENV)/.installed
	@mkdir -p var

# ---- the two commands ---------------------------------------------------------------
# Training needs only the Rasa environment: on a fresh clone `make run` and `make test`
# train while the app environment is being installed (make -j2).
train: $(RASA_VENV)/.installed
	@mkdir -p var
	@scripts/train.sh >/dev/null

ready:
	@$(MAKE) --no-print-directory -j2 train $(APP_VENV)/.installed

# A fresh clone answers sooner: a short first training (scripts/train.sh --first-start) while
# the app environment installs; scripts/run.py then trains the full model in the background and
# makes it live without a restart. Once the full model of the inputs exists, it is served.
run: first-model-and-app
	@$(APP_VENV)/bin/python scripts/run.py

first-model-and-app:
	@$(MAKE) --no-print-directory -j2 first-model $(APP_VENV)/.installed

first-model: $(RASA_VENV)/.installed
	@mkdir -p var
	@scripts/train.sh --first-start >/dev/null

# scripts/test.sh sets up, starts the training in the background and runs the tests that need
# no model meanwhile, then the tests of the trained model.
test:
	@bash scripts/test.sh

# The live operational runs (.ci/run runs them after make test, ~40 min): the finetune fallback
# (a real training), a first start (short model served, full one trained in the background and
# swapped in), two model swaps under load, the editors' live release in Chromium (the staged
# content really trained and gated), the replicated cluster through HAProxy, the backup round
# trip, then the fault runs and the compose stack.
test-ops: ready
	@PYTHONPATH=. $(RASA_VENV)/bin/python -m pytest -q -p no:cacheprovider tests/nlu/test_finetune_fallback.py
	@PYTHONPATH=. $(APP_VENV)/bin/python -m pytest -q -p no:cacheprovider tests/e2e/test_first_start.py tests/e2e/test_model_swap.py \
		tests/e2e/test_editor_release.py tests/deploy/test_cluster.py tests/deploy/test_backup_restore.py
	@$(MAKE) --no-print-directory faults ARGS="--skip-throughput"
	@$(MAKE) --no-print-directory compose-smoke

# ---- editors ------------------------------------------------------------------------
validate: setup
	@set -o pipefail; PYTHONPATH=. $(RASA_VENV)/bin/rasa data validate --config config.yml --domain bot/domain --data nlu_data bot/data 2>&1 \
	  | grep -v -i "deprecat\|declare_namespace\|pkg_resources\|xla_computation\|^  \|^$$" ; \
	  status=$${PIPESTATUS[0]}; if [ $$status -ne 0 ]; then echo "Rasa-valideringen misslyckades (se ovan)." >&2; exit $$status; fi
	@PYTHONPATH=. $(RASA_VENV)/bin/python scripts/validate_data.py

eval: setup
	@PYTHONPATH=. $(RASA_VENV)/bin/python scripts/evaluate.py

# Every fold of the 3-fold cross-validation (three trainings; docs/nlu-eval.md).
eval-full: setup
	@PYTHONPATH=. $(RASA_VENV)/bin/python scripts/evaluate.py --only-folds all $(ARGS)

# Release gate: held-out paraphrases and acute recall of the current model (< 1 minute);
# acute messages count as reaching a person when the model or the safety lexicon catches them.
# ARGS="--baseline OLD.tar.gz --extra questions.yml"
gate: train
	@$(APP_VENV)/bin/python -m gateway.safety_net tests/nlu/paraphrases.yml --out var/reports/safety_net.yml
	@PYTHONPATH=. $(RASA_VENV)/bin/python scripts/gate.py --safety-net var/reports/safety_net.yml $(ARGS)

# ---- operations ---------------------------------------------------------------------
bench: ready
	@$(APP_VENV)/bin/python bench/run.py

# Translation models, pinned in translation/models.lock (docs/translation.md). ARGS=--update-lock pins.
models: setup
	@$(APP_VENV)/bin/python scripts/download_models.py $(ARGS)

models-bundle: setup
	@$(APP_VENV)/bin/python scripts/download_models.py --bundle "$(or $(BUNDLE),var/models-bundle.tar)" $(ARGS)

models-import: setup
	@test -n "$(BUNDLE)" || { echo "Name the archive: make models-import BUNDLE=path/to/models-bundle.tar" >&2; exit 2; }
	@$(APP_VENV)/bin/python scripts/download_models.py --import-bundle "$(BUNDLE)" $(ARGS)

staff-user: setup
	@$(APP_VENV)/bin/python -m gateway.cli staff-user

purge: setup
	@$(APP_VENV)/bin/python -m gateway.cli purge

audit-verify: setup
	@$(APP_VENV)/bin/python -m gateway.cli audit-verify

# PostgreSQL backup and restore (docs/drift.md). DATABASE_URL names the database.
backup:
	@scripts/backup.sh $(FILE)

restore:
	@test -n "$(FILE)" -a -n "$(TARGET)" || { echo "Name the dump and an empty database: make restore FILE=var/backups/x.dump TARGET=postgresql://..." >&2; exit 2; }
	@scripts/restore.sh "$(FILE)" "$(TARGET)"

# ---- deployment (docs/drift.md) -----------------------------------------------------------
# The replicated stack on 127.0.0.1: 2 gateways behind HAProxy, 2 Rasa, 2 action servers,
# its own PostgreSQL and Redis under var/cluster/.
cluster: ready
	@$(APP_VENV)/bin/python scripts/cluster.py $(ARGS)

# Throughput with 1 vs 2 Rasa replicas and the fault runs, on a throwaway cluster (~10 min).
faults: ready
	@nice -n 10 $(APP_VENV)/bin/python scripts/faults.py $(ARGS)

# Container images from Debian packages (debootstrap) and the pinned requirements.
images:
	@deploy/engine.sh && deploy/images/build.sh

# The replicated stack in containers on 127.0.0.1 (docs/drift.md): a Docker engine (installed
# and started when missing), the images, a trained model, then compose up; it keeps running.
compose: ready images
	@KEEP=1 deploy/compose-smoke.sh

compose-down:
	@docker-compose -p karlstad -f deploy/compose.yml down

# The same from nothing to an answer through HAProxy, then down again (make test-ops runs it).
compose-smoke: ready images
	@deploy/compose-smoke.sh

typecheck: setup
	@$(APP_VENV)/bin/mypy --strict translation gateway

# ruff, configured in pyproject.toml ([tool.ruff]); `make test` runs it too.
lint: $(APP_VENV)/.installed
	@$(APP_VENV)/bin/ruff check .

clean:
	rm -rf var/logs var/reports tests/artifacts

print-pythons:
	@echo "PY310=$(PY310)"; echo "PY311=$(PY311)"
