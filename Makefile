# Tandem: `make run` serves a seeded demo clinic; `make test` runs the whole suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install lint typecheck check-migrations check-deploy clean

$(STAMP): requirements.lock
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
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

# Production-like settings with dummy secrets (SECURITY.md HD-2).
check-deploy: install
	DEBUG=false SECRET_KEY=ci-only-$$(date +%s)-not-a-real-secret-key-0123456789abcdef \
	ALLOWED_HOSTS=tandem.example.org $(BIN)/python manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) staticfiles test-artifacts
