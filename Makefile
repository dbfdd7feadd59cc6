# Shiftflow developer commands. Every target creates the pinned virtual environment first when it is missing.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
ENV ?= default
ENGINE ?= duckdb
# No telemetry and no update checks: this must work without network beyond the package registries.
export SAM_CLI_TELEMETRY := 0
export SAM_CLI_POLL_DELAY := 0

.PHONY: setup demo test lint build deploy clean lock

setup: $(VENV)/.installed

$(VENV)/.installed: requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	# The project's bytecode: a fresh clone's first command (and its local cloud) does not compile every module.
	$(BIN)/python -m compileall -q shiftflow functions
	# The local cloud's caches (parsed state machines, botocore's data) for this project: a fresh clone's first
	# command does not fill them while the user waits. Keyed by what they are made from (a changed ASL file is
	# parsed again when deployed); a failure here only costs that first command its time.
	$(BIN)/python -m shiftflow.local.warm_caches || echo "shiftflow: caches not warmed (the first command fills them)"
	touch $@

demo: setup
	$(BIN)/shiftflow demo --engine $(ENGINE)

# Both cores of the machine (pytest-xdist). A test file stays on one worker, so that its module fixtures (a local
# runtime, a PostgreSQL server, the quick benchmark run) are made once.
PYTEST_WORKERS ?= 2
test: setup
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist loadfile

lint: setup
	$(BIN)/cfn-lint template.yaml
	$(BIN)/sam validate --lint

build: setup
	$(BIN)/sam build

# What samconfig.toml says for $(ENV): $(call samconfig,KEY), the deploy parameters over the global ones.
samconfig = $(shell $(BIN)/python -c 'import sys, tomllib; env = tomllib.load(open("samconfig.toml", "rb")).get(sys.argv[1], {}); print({**env.get("global", {}).get("parameters", {}), **env.get("deploy", {}).get("parameters", {})}.get(sys.argv[2], ""))' $(ENV) $(1))
DEPLOY_REGION = $(call samconfig,region)

# The scripts are staged right after the stack: a deployed stack never runs scripts older than the repository's.
deploy: build
	$(BIN)/sam deploy --config-env $(ENV)
	$(if $(DEPLOY_REGION),AWS_REGION=$(DEPLOY_REGION) AWS_DEFAULT_REGION=$(DEPLOY_REGION)) $(BIN)/shiftflow scripts sync --stack $(call samconfig,stack_name)

lock: setup
	$(BIN)/pip freeze --exclude-editable | sed '1i # Full pinned lock of the development environment (make setup installs exactly this).\n# Direct requirements live in requirements-dev.in; regenerate with: make lock' > requirements-dev.txt

clean:
	rm -rf .aws-sam .pytest_cache .shiftflow
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

# SQL_CORPUS: a folder of real-world Redshift SQL gathered beforehand (benchmarks/sql_corpus.py says its layout);
# measured only where it exists, as the corpus stays out of the repository.
SQL_CORPUS ?= ../corpus
.PHONY: bench
bench: setup
	$(BIN)/python benchmarks/run_all.py
	if [ -d "$(SQL_CORPUS)" ]; then $(BIN)/python benchmarks/sql_corpus.py "$(SQL_CORPUS)" --engine $(ENGINE); fi
