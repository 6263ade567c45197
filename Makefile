# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-full check docs bench clean wrk serve ffmpeg chromium axe screenshots

# Chromaprint (audio fingerprints) is a C library with no PyPI wheel: Debian/Ubuntu's libchromaprint1.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# The C fast paths of the verifiers (src/reelrights/core/_native.c, built by setup.py) include
# OpenSSL's headers: Debian/Ubuntu's libssl-dev. Without them reelrights runs its pure-Python paths.
$(STAMP): pyproject.toml setup.py src/reelrights/core/_native.c
	@[ -f /usr/include/openssl/sha.h ] || { \
	  echo "installing libssl-dev (OpenSSL headers for the verifiers' C fast paths) with apt-get"; \
	  $(SUDO) apt-get install -y -q libssl-dev >/dev/null 2>&1 || \
	  { $(SUDO) apt-get update -q >/dev/null && $(SUDO) apt-get install -y -q libssl-dev >/dev/null; } || \
	  echo "warning: libssl-dev is missing: the verifiers run their pure-Python paths (slower)"; }
	@ldconfig -p 2>/dev/null | grep -q libchromaprint || { \
	  echo "installing libchromaprint1 (audio fingerprints) with apt-get"; \
	  $(SUDO) apt-get install -y -q libchromaprint1 >/dev/null 2>&1 || \
	  { $(SUDO) apt-get update -q >/dev/null && $(SUDO) apt-get install -y -q libchromaprint1 >/dev/null; } || \
	  { echo "error: libchromaprint1 is missing; install it with your OS package manager (apt-get install libchromaprint1, brew install chromaprint)"; exit 2; }; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

# The story, then (only when standard input and output are terminals and CI is unset) its web
# app on http://127.0.0.1:$(PORT) until Ctrl-C; otherwise it exits 0 after the story.
demo: $(STAMP)
	$(BIN)/reelrights demo $$( [ -t 0 ] && [ -t 1 ] && [ -z "$$CI" ] && echo --serve --port $(PORT) )

# The service on the embedded SQLite default home (~/.reelrights, or REELRIGHTS_HOME), created
# if missing; PostgreSQL with REELRIGHTS_DATABASE_URL. Ctrl-C stops it. HOST/PORT/WORKERS override.
# The Containerfile installs the same package and runs the same entry point
# (tests/operate/test_containerfile.py); production: docs/deploy.md.
HOST ?= 127.0.0.1
PORT ?= 8080
WORKERS ?= 1
serve: $(STAMP)
	@$(BIN)/reelrights init >/dev/null
	$(BIN)/reelrights serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

# The web app's tests drive Debian's Chromium with Playwright (by its path: Playwright's own
# browser download is not used) and check every page with axe-core (npm, pinned, into build/axe).
chromium:
	@command -v chromium >/dev/null || { echo "installing chromium (the web app's browser tests) with apt-get"; \
	  $(SUDO) apt-get install -y -q chromium >/dev/null 2>&1 || \
	  { $(SUDO) apt-get update -q >/dev/null && $(SUDO) apt-get install -y -q chromium >/dev/null; } || \
	  { echo "error: chromium is missing; install it with your OS package manager"; exit 2; }; }

AXE_VERSION := 4.14.1
axe:
	@[ -f build/axe/node_modules/axe-core/axe.min.js ] || { echo "installing axe-core $(AXE_VERSION) with npm"; \
	  mkdir -p build/axe && npm install --silent --no-audit --no-fund --prefix build/axe axe-core@$(AXE_VERSION); }

# Two processes by default (pytest-xdist; TEST_WORKERS=0 runs in one, e.g. to debug).
TEST_WORKERS ?= 2
test: $(STAMP) chromium axe
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS)

# Everything, both backends required (a missing PostgreSQL fails instead of skipping), with every
# Hypothesis example (the ci profile): the remote-mode story, the service faults and the attacks on SQLite and
# PostgreSQL. (`make test` runs the same tests; CI keeps them because the suite stays well under
# its 45 minutes on this machine: about 27 minutes in two processes.)
test-full: $(STAMP) chromium axe
	CI=true REELRIGHTS_TEST_POSTGRES_URL="$${REELRIGHTS_TEST_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}" \
	  $(BIN)/python -m pytest -q -n $(TEST_WORKERS)

# What keeps the code as it is, in seconds: lint and import order (ruff), types (mypy: strict on
# core, log and the verifiers), and the fast structural tests (the public API, the CLI reference,
# the architecture rules). It reformats nothing.
CHECK_TESTS := tests/test_public_api.py tests/test_cli_reference.py \
	tests/test_architecture.py tests/test_cli_startup.py

check: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -p no:cacheprovider $(CHECK_TESTS)

# docs/cli.md and docs/openapi.json, generated from the command and endpoint definitions themselves
# (a test fails when either is stale).
docs: $(STAMP)
	$(BIN)/python -m reelrights.cli.reference --output docs/cli.md
	$(BIN)/python -m reelrights.api.openapi --output docs/openapi.json

# Every benchmark, one after the other (about 15 minutes on 2 cores, plus up to 60 for
# scan_robustness, which needs the ffmpeg CLI for its transformations, and about 6 for web_pages
# to build its 100,000-entry home the first time: it keeps it in $TMPDIR/reelrights-bench-web);
# each prints its figures beside its baseline. Run one alone with e.g. `make bench-log_append`.
BENCHMARKS := log_append policy_check run_commit pdq_scan fingerprint scan_files scan_robustness recovery_robustness landmark_index provenance_sign fund_allocate cli_startup api_append api_reads sizing web_pages

# The HTTP load benchmarks drive the service with wrk (Debian's package), so the driver costs
# little of the 2 cores.
wrk:
	@command -v wrk >/dev/null || { echo "installing wrk (HTTP load driver) with apt-get"; \
	  $(SUDO) apt-get install -y -q wrk >/dev/null 2>&1 || \
	  { $(SUDO) apt-get update -q >/dev/null && $(SUDO) apt-get install -y -q wrk >/dev/null; }; }

# benchmarks/scan_robustness.py transforms copies with the ffmpeg CLI (Debian's package).
ffmpeg:
	@command -v ffmpeg >/dev/null || { echo "installing ffmpeg (copy transformations) with apt-get"; \
	  $(SUDO) apt-get install -y -q ffmpeg >/dev/null 2>&1 || \
	  { $(SUDO) apt-get update -q >/dev/null && $(SUDO) apt-get install -y -q ffmpeg >/dev/null; }; }

bench: $(STAMP) wrk ffmpeg
	@for b in $(BENCHMARKS); do echo "== benchmarks/$$b.py"; full=; [ $$b = api_append ] && full=--full; \
	  $(BIN)/python benchmarks/$$b.py $$full || exit 1; done

bench-%: $(STAMP) wrk ffmpeg
	$(BIN)/python benchmarks/$*.py

# docs/screenshots/*.png (the README's picture), made again from the demo story: served on port 0,
# signed in with the party's key, captured with Playwright driving Debian's Chromium.
screenshots: $(STAMP) chromium
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) build src/*.egg-info src/reelrights/core/_native*.so .pytest_cache .hypothesis .mypy_cache .ruff_cache
