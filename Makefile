# The two commands: `make demo` runs the gateway end to end; `make test` runs every test.
# Both set up the virtualenv on first use. Prerequisites (see README): Python 3.11+ with
# venv, Java 17+ and Maven (they fetch and run the real Kafka broker).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.a6gw-installed
PYTEST_ARGS ?=
BENCH_ARGS ?=
BENCH_E2E_ARGS ?=
# Hashed lock files (make lock): the runtime set for the image, runtime + dev for make setup/CI,
# and the build backend ([build-system] requires) the image builds the wheel with.
LOCK     := requirements.lock
DEV_LOCK := requirements-dev.lock
BUILD_LOCK := requirements-build.lock
BUILD_VENV := .venv-build
LOCK_ARGS ?=
AUDIT_ARGS ?=
UV_COMPILE = $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 \
	--generate-hashes --custom-compile-command "make lock" --quiet $(LOCK_ARGS)

.PHONY: setup demo test unit integration lint schemas bench faults kafka-start kafka-stop clean help
.PHONY: lock audit-deps dist

help:
	@echo "make demo         set up, then replay the bundled JCM scenario on a local Kafka broker"
	@echo "make test         set up, then run lint, unit tests and integration tests (real broker)"
	@echo "                  and the browser tests of the auditors' page (tests/browser, Chromium)"
	@echo "make unit         unit tests only (no broker)"
	@echo "make integration  integration tests only (starts a broker for the session)"
	@echo "make lint         ruff, ruff format --check, mypy (tests too), schema freshness, import layers,"
	@echo "                  the page's digests in the README"
	@echo "make schemas      regenerate schemas/json and schemas/openapi from the models"
	@echo "make faults       kill -9 the worker 10x and restart the broker during 50,000 inputs;"
	@echo "                  3 workers, one lost and one joining mid-run, during 5,000;"
	@echo "                  then 10,000 hostile inputs against the running gateway"
	@echo "make bench        the check path, the audit log, reconciliation, reports (~20 min);"
	@echo "                  then the gateway end to end on its own broker beside a bare pipe"
	@echo "                  (BENCH_E2E_ARGS, e.g. '--inputs 5000 --runs 1'; see --help)"
	@echo "make lock         re-resolve requirements{,-dev,-build}.lock (with hashes)"
	@echo "                  from pyproject.toml; LOCK_ARGS='--upgrade' takes newer releases"
	@echo "make audit-deps   pip-audit the lock files against known vulnerabilities"
	@echo "make dist         wheel, sdist and a CycloneDX SBOM of the runtime lock into dist/"

# Every dependency comes from the hashed dev lock; the editable install then adds only what a
# lock behind pyproject.toml lacks (tests/unit/test_dependencies.py fails until 'make lock').
$(STAMP): pyproject.toml $(DEV_LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/a6gw demo $(DEMO_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy gateway schemas connectors tests
	$(BIN)/python -m schemas.gen --check
	$(BIN)/python -m gateway.api.gen --check
	$(BIN)/python -m schemas.vectors --check
	$(BIN)/python -m gateway.transport.asyncapi --check
	$(BIN)/python -m gateway.ui.digests --check
	$(BIN)/lint-imports

unit: setup
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

integration: setup
	$(BIN)/pytest tests/integration $(PYTEST_ARGS)

test: lint
	$(BIN)/pytest tests $(PYTEST_ARGS)

schemas: setup
	$(BIN)/python -m schemas.gen
	$(BIN)/python -m gateway.api.gen

faults: setup
	$(BIN)/python -m tests.faults.faults --events 50000 --kills 10 --broker-restart $(FAULTS_ARGS)
	$(BIN)/python -m tests.faults.faults --events 5000 --kills 4 --workers 3 --join --port 19494
	$(BIN)/python -m tests.faults.faults --recovery-blocks 100000
	$(BIN)/python -m tests.adversarial.adversary --inputs 10000 --seed 14 $(ADVERSARIAL_ARGS)

bench: setup
	$(BIN)/python -m tests.bench.bench_checks $(BENCH_ARGS)
	$(BIN)/python -m tests.bench.bench_audit $(BENCH_AUDIT_ARGS)
	$(BIN)/python -m tests.bench.bench_reconcile $(BENCH_RECONCILE_ARGS)
	$(BIN)/python -m tests.bench.bench_reporting $(BENCH_REPORTING_ARGS)
	$(BIN)/python -m tests.bench.bench_e2e $(BENCH_E2E_ARGS)

lock: setup
	$(UV_COMPILE) -o $(LOCK)
	$(UV_COMPILE) --extra dev -o $(DEV_LOCK)
	{ $(BIN)/python -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"], sep="\n")'; \
	  echo "build>=1.2"; } \
		| $(subst pyproject.toml,-,$(UV_COMPILE)) -o $(BUILD_LOCK)

# tools/audit_deps.py: exit 1 on a known vulnerability; 3 when pins could not be audited (the
# vulnerability service unreachable), 0 with the warning under AUDIT_ARGS=--allow-unaudited.
audit-deps: setup
	$(BIN)/python -m tools.audit_deps $(LOCK) $(DEV_LOCK) $(BUILD_LOCK) $(AUDIT_ARGS)

# The build frontend and backend come from the hashed build lock, in a virtualenv of their own.
$(BUILD_VENV)/.installed: $(BUILD_LOCK)
	$(PYTHON) -m venv $(BUILD_VENV)
	$(BUILD_VENV)/bin/python -m pip install --quiet --require-hashes -r $(BUILD_LOCK)
	touch $@

# The sdist, the wheel built from it, and an SBOM of what the wheel installs (the runtime
# lock, with the project as its root component).
dist: setup $(BUILD_VENV)/.installed
	rm -rf dist
	$(BUILD_VENV)/bin/python -m build --no-isolation --outdir dist .
	wheel=$$(ls dist/*.whl) && $(BIN)/cyclonedx-py requirements --pyproject pyproject.toml \
		--of JSON --output-reproducible -o "$${wheel%.whl}.cdx.json" $(LOCK)
	ls -l dist

kafka-start: setup
	$(BIN)/a6gw kafka start

kafka-stop: setup
	$(BIN)/a6gw kafka stop

clean:
	-$(BIN)/a6gw kafka stop
	rm -rf .a6gw .pytest_cache .mypy_cache .ruff_cache $(BUILD_VENV) dist
