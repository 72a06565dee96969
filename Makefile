# gridsupply — two commands: `make demo` and `make test`. Both set up .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench clean vendor-docs vendor-web browser pg-client systemd-analyze

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/gridsupply demo

test: $(STAMP) browser pg-client systemd-analyze
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy api supply catalogs optimizer

# The web pages' browser tests drive Debian's chromium (tests/web); Chinese needs fonts-noto-cjk.
# Installed with apt-get where that can be done (root); otherwise say what to install: the tests
# are then skipped, except in CI (GRIDSUPPLY_TEST_REQUIRE_BROWSER=1), where they fail.
CHROMIUM ?= /usr/bin/chromium
browser:
	@if [ -x $(CHROMIUM) ] && fc-list ':lang=zh' 2>/dev/null | grep -q .; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "installing chromium and fonts-noto-cjk for the browser tests (apt-get)"; \
	  { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -q chromium fonts-noto-cjk >/dev/null; } \
	  || { echo "apt-get could not install chromium and fonts-noto-cjk"; \
	       [ -z "$$GRIDSUPPLY_TEST_REQUIRE_BROWSER" ] || exit 1; }; \
	else \
	  echo "the browser tests need $(CHROMIUM) and Chinese fonts: as root, apt-get install chromium fonts-noto-cjk (they are skipped until then)"; \
	fi

# The backup tests on PostgreSQL run pg_dump and pg_restore of the test server's major version
# (tests/backups.py prints that version when they are missing or older). Installed with apt-get
# where that can be done (Debian: postgresql-client-<version>); otherwise say what to install:
# those tests are then skipped, except in CI (GRIDSUPPLY_TEST_REQUIRE_POSTGRES=1): they fail.
pg-client: $(STAMP)
	@need=$$($(BIN)/python -m tests.backups 2>/dev/null); \
	if [ -z "$$need" ]; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "installing postgresql-client-$$need for the backup tests (apt-get)"; \
	  { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -q postgresql-client-$$need >/dev/null; } \
	  || { echo "apt-get could not install postgresql-client-$$need"; \
	       [ -z "$$GRIDSUPPLY_TEST_REQUIRE_POSTGRES" ] || exit 1; }; \
	else \
	  echo "the backup tests on PostgreSQL need pg_dump and pg_restore $$need: as root, apt-get install postgresql-client-$$need (they are skipped until then)"; \
	fi

# The systemd units (deploy/systemd) are checked by `systemd-analyze verify` (tests/e2e/test_deploy.py):
# Debian's systemd, installed with apt-get where that can be done; else skipped, except in CI
# (GRIDSUPPLY_TEST_REQUIRE_SYSTEMD=1), where the test fails.
systemd-analyze:
	@if command -v systemd-analyze >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "installing systemd for systemd-analyze (apt-get)"; \
	  { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -q --no-install-recommends systemd >/dev/null; } \
	  || { echo "apt-get could not install systemd"; \
	       [ -z "$$GRIDSUPPLY_TEST_REQUIRE_SYSTEMD" ] || exit 1; }; \
	else \
	  echo "the systemd unit test needs systemd-analyze: as root, apt-get install systemd (it is skipped until then)"; \
	fi

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_solve.py
	$(BIN)/python benchmarks/bench_pages.py
	$(BIN)/python benchmarks/bench_province.py

# Swagger UI and ReDoc for /docs and /redoc, served from the package (offline networks).
SWAGGER_UI ?= swagger-ui-dist@5
REDOC      ?= redoc@2
VENDOR     := api/static/vendor
vendor-docs:
	rm -rf .vendor-docs && mkdir .vendor-docs
	cd .vendor-docs && npm pack --silent $(SWAGGER_UI) $(REDOC) >/dev/null
	cd .vendor-docs && for f in *.tgz; do mkdir -p "$${f%.tgz}" && tar xzf "$$f" -C "$${f%.tgz}"; done
	cp .vendor-docs/swagger-ui-dist-*/package/swagger-ui-bundle.js \
	   .vendor-docs/swagger-ui-dist-*/package/swagger-ui-bundle.js.LICENSE.txt \
	   .vendor-docs/swagger-ui-dist-*/package/swagger-ui.css \
	   .vendor-docs/swagger-ui-dist-*/package/favicon-32x32.png \
	   .vendor-docs/swagger-ui-dist-*/package/LICENSE \
	   .vendor-docs/swagger-ui-dist-*/package/NOTICE $(VENDOR)/swagger_ui/
	cp .vendor-docs/redoc-*/package/bundles/redoc.standalone.js \
	   .vendor-docs/redoc-*/package/bundles/redoc.standalone.js.LICENSE.txt \
	   .vendor-docs/redoc-*/package/LICENSE $(VENDOR)/redoc/
	ls .vendor-docs/*.tgz && rm -rf .vendor-docs

# htmx and ECharts for the web pages, served from the package (api/web/static/vendor/README.md).
HTMX    ?= htmx.org@2.0.11
ECHARTS ?= echarts@6.1.0
WEB_VENDOR := api/web/static/vendor
vendor-web:
	rm -rf .vendor-web && mkdir .vendor-web
	cd .vendor-web && npm pack --silent $(HTMX) $(ECHARTS) >/dev/null
	cd .vendor-web && for f in *.tgz; do mkdir -p "$${f%.tgz}" && tar xzf "$$f" -C "$${f%.tgz}"; done
	mkdir -p $(WEB_VENDOR)/htmx $(WEB_VENDOR)/echarts
	cp .vendor-web/htmx.org-*/package/dist/htmx.min.js .vendor-web/htmx.org-*/package/LICENSE \
	   $(WEB_VENDOR)/htmx/
	cp .vendor-web/echarts-*/package/dist/echarts.min.js .vendor-web/echarts-*/package/LICENSE \
	   .vendor-web/echarts-*/package/NOTICE $(WEB_VENDOR)/echarts/
	cp .vendor-web/echarts-*/package/licenses/LICENSE-d3 $(WEB_VENDOR)/echarts/
	ls .vendor-web/*.tgz && rm -rf .vendor-web

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
