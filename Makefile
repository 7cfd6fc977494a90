# The two commands from the README:
#   make run   install into .venv, create the demo workspace if there is none, start frontdesk
#   make test  install test dependencies (Debian packages included) and run the whole suite
# CI (.ci/run) calls `make test`.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install install-dev system-deps services lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-dev: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"

# OCR (scanned PDFs, photos) needs tesseract and poppler from Debian; best effort here.
system-deps:
	@if ! command -v tesseract >/dev/null || ! command -v pdftoppm >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tesseract-ocr poppler-utils >/dev/null; \
	  else echo "note: install tesseract-ocr and poppler-utils to read scanned PDFs and images"; fi; \
	fi

run: system-deps install
	DO_NOT_TRACK=1 $(BIN)/frontdesk demo --if-empty
	DO_NOT_TRACK=1 $(BIN)/frontdesk up --host $(HOST) --port $(PORT)

services:
	bash tests/services.sh

test: install-dev services
	DO_NOT_TRACK=1 $(BIN)/python -m pytest

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: install
	$(BIN)/python benchmarks/service.py
	$(BIN)/python benchmarks/conversation_list.py
	$(BIN)/python benchmarks/turn.py
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/retrieval.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
