# Tandem: `make run` serves a seeded demo clinic; `make test` runs the whole suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install lint typecheck check-migrations check-deploy lock clean bench

# Development installs the dev lock (production's pins + test and lint tools); the image
# installs requirements.lock alone. Both are hash-pinned: `make lock` writes them.
$(STAMP): requirements-dev.lock
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver 127.0.0.1:8000

# -n 2: both cores. Browser tests share a live server per worker.
test: install
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy .

check-migrations: install
	$(BIN)/python manage.py makemigrations --check --dry-run

# The benchmark harness (issue 14; benchmarks/harness/README.md): its own PostgreSQL databases
# (tandem_bench_1k, tandem_bench_100k), seeded once by COPY and reused; prints a table and writes
# test-artifacts/bench.json. BENCH_ARGS="--with-1m", "--app-dir /path/to/other/checkout", "--help".
bench: install
	PYTHONPATH=benchmarks $(BIN)/python -m harness $(BENCH_ARGS)

# Production-like settings with dummy secrets (SECURITY.md HD-2).
check-deploy: install
	DEBUG=false SECRET_KEY=ci-only-$$(date +%s)-not-a-real-secret-key-0123456789abcdef \
	AUDIT_HMAC_KEY=ci-only-$$(date +%s)-not-a-real-audit-key-0123456789 \
	NOTE_ENCRYPTION_KEYS=$$($(BIN)/python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())") \
	ALLOWED_HOSTS=tandem.example.org $(BIN)/python manage.py check --deploy --fail-level WARNING

# The one way the locks are made, from pyproject.toml: rerun after changing its dependencies.
# Existing pins are kept unless LOCK_ARGS=--upgrade (or --upgrade-package NAME) says otherwise.
# pip-tools runs from a venv of its own, so the project's .venv never holds it.
LOCK_VENV := .venv-lock
PIP_TOOLS := pip-tools==7.6.2
PIP_COMPILE = $(LOCK_VENV)/bin/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe \
	--no-emit-index-url --no-emit-find-links $(LOCK_ARGS)
lock:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(LOCK_VENV)/bin/pip-compile || { $(PYTHON) -m venv $(LOCK_VENV) && $(LOCK_VENV)/bin/pip install --quiet $(PIP_TOOLS); }
	$(PIP_COMPILE) --output-file=requirements.lock pyproject.toml
	$(PIP_COMPILE) --extra=dev --constraint=requirements.lock --output-file=requirements-dev.lock pyproject.toml

clean:
	rm -rf $(VENV) $(LOCK_VENV) staticfiles test-artifacts
