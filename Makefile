# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench clean

# Chromaprint (audio fingerprints) is a C library with no PyPI wheel: Debian/Ubuntu's libchromaprint1.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(STAMP): pyproject.toml
	@ldconfig -p 2>/dev/null | grep -q libchromaprint || { \
	  echo "installing libchromaprint1 (audio fingerprints) with apt-get"; \
	  $(SUDO) apt-get install -y -q libchromaprint1 >/dev/null 2>&1 || \
	  { $(SUDO) apt-get update -q >/dev/null && $(SUDO) apt-get install -y -q libchromaprint1 >/dev/null; } || \
	  { echo "error: libchromaprint1 is missing; install it with your OS package manager (apt-get install libchromaprint1, brew install chromaprint)"; exit 2; }; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/reelrights demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/log_append.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .hypothesis
