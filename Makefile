# Two commands for a newcomer: `make demo` and `make test`. Both set up .venv first.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.iotstream-installed
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: setup demo test lint typecheck unit bench clean web

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/setup.sh
	VENV=$(VENV) bash scripts/setup.sh
	touch $(STAMP)

# The browser pages (clients/web): esbuild output in clients/web/static, rebuilt when a source changes.
WEB := clients/web
WEB_BUNDLE := $(WEB)/static/assets/chat.js
WEB_MODULES := $(WEB)/node_modules/.package-lock.json
WEB_SOURCES := $(wildcard $(WEB)/src/*.ts $(WEB)/pages/*) $(WEB)/build.mjs $(WEB)/tsconfig.json

web: $(WEB_BUNDLE)

$(WEB_MODULES): $(WEB)/package-lock.json
	npm --prefix $(WEB) ci --no-audit --no-fund

$(WEB_BUNDLE): $(WEB_MODULES) $(WEB_SOURCES)
	npm --prefix $(WEB) run build

demo: $(STAMP) $(WEB_BUNDLE)
	$(VENV)/bin/iotstream demo --state-dir .localcore

# lint-imports checks the import contracts of pyproject.toml ([tool.importlinter]), e.g. no import cycles.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

TYPED_DIRS := iot_policies iot_rules localcore clients lambdas bench cdk
typecheck: $(STAMP) $(WEB_MODULES)
	npm --prefix $(WEB) run --silent typecheck
	$(VENV)/bin/mypy $(foreach d,$(TYPED_DIRS),$(if $(shell find $(d) -name '*.py' 2>/dev/null | head -1),$(d)))

unit: $(STAMP) $(WEB_BUNDLE)
	$(VENV)/bin/pytest -q

test: lint typecheck unit

# Every benchmark, then docs/benchmarks.md from what they printed (about 25 minutes; BENCH_ARGS=--quick for a
# CI-sized run written to bench/results/).
bench: $(STAMP)
	$(PY) -m bench.report $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .import_linter_cache $(WEB)/node_modules $(WEB)/static test-artifacts
