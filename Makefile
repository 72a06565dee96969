# gridsupply — two commands: `make demo` and `make test`. Both set up .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench clean vendor-docs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/gridsupply demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy api supply catalogs optimizer

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_solve.py

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

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
