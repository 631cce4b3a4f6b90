# One entry point for people and CI. `make run` and `make test` bootstrap what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
SAM_STAMP := $(SAM_VENV)/.installed
SAM_CLI_VERSION := 1.170.0
# `sam build` needs the Lambda runtime's interpreter (python3.13) on PATH.
PY313_BIN := $(shell (pyenv root 2>/dev/null || echo $$HOME/.pyenv))/versions/3.13.0/bin
export PATH := $(CURDIR)/$(BIN):$(PY313_BIN):$(PATH)
export SAM_CLI_TELEMETRY := 0
# pip is configured here with file:// extra indexes that may be absent; their warnings are noise.
PIP_QUIET := 2>&1 | { grep -v "^WARNING: Location 'file:" || true; }

.PHONY: help install lock run test test-fast lint format build bench deploy chromium ffmpeg review-kit clean

help:
	@echo "make run     - start the local stack (moto server, TikTok emulator, gateway on :3000)"
	@echo "make test    - the whole suite: unit, integration, e2e, browser, sam validate/build"
	@echo "make lint    - ruff (lint + format check), mypy and the import-linter contracts"
	@echo "make build   - sam build (Python 3.13 from pyenv)"
	@echo "make bench   - cold start, memory and throughput benchmarks"
	@echo "make deploy  - sam deploy --guided"
	@echo "make lock    - re-resolve uv.lock after a pyproject change; export the layer's and the venv's pins"
	@echo "make review-kit - record TikTok's app-review pack (video, screenshots, checklist) into review-kit/"

# The virtualenv installs exact versions with their hashes from the lock (requirements/dev.txt, exported from
# uv.lock), then the project itself without resolving anything again.
$(STAMP): pyproject.toml requirements/dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip $(PIP_QUIET)
	$(BIN)/python -m pip install -q --require-hashes -r requirements/dev.txt $(PIP_QUIET)
	$(BIN)/python -m pip install -q --no-deps -e . $(PIP_QUIET)
	touch $@

install: $(STAMP)

# After changing a dependency range in pyproject.toml: resolve uv.lock again and export what the virtualenv and
# the Lambda layer install (make test checks both exports match the lock).
UV_EXPORT := $(BIN)/uv export --frozen --no-emit-project --format requirements-txt --quiet
lock: $(STAMP)
	$(BIN)/uv lock
	$(UV_EXPORT) --no-dev -o layers/shared/requirements.txt
	$(UV_EXPORT) --all-extras -o requirements/dev.txt

# SAM CLI lives in its own venv: its pins must not steer the project's dependencies.
$(SAM_STAMP):
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install -q aws-sam-cli==$(SAM_CLI_VERSION) $(PIP_QUIET)
	touch $@

# Browser tests drive Debian's chromium (never a downloaded browser).
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The review kit's video is encoded by Debian's ffmpeg (Playwright's own recorder would download one).
ffmpeg:
	@command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null; }

run: $(STAMP)
	$(BIN)/python -m local_stack $(ARGS)

# The import-linter contracts (pyproject.toml) are part of the suite: a wrong-way import fails `make test`.
test: $(STAMP) $(SAM_STAMP) chromium ffmpeg
	$(BIN)/lint-imports
	SAM_CLI=$(CURDIR)/$(SAM) $(BIN)/pytest -n 2 --dist loadgroup

test-fast: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/pytest -n 2 --dist loadgroup -m "not slow and not browser"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	# Every handler is a module named app: check them one by one so their names don't collide.
	for f in functions/*/app.py; do $(BIN)/mypy $$f || exit 1; done

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

build: $(SAM_STAMP)
	$(SAM) build --template template.yaml

review-kit: $(STAMP) chromium ffmpeg
	$(BIN)/python -m review_kit --out review-kit $(ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench

deploy: build
	$(SAM) deploy --guided

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .local-stack review-kit
