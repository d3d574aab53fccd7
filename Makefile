# Two commands for a newcomer: `make demo` and `make test`. Both set up .venv first.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.iotstream-installed
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: setup demo test lint typecheck unit bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/setup.sh
	VENV=$(VENV) bash scripts/setup.sh
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/iotstream demo --state-dir .localcore

# lint-imports checks the import contracts of pyproject.toml ([tool.importlinter]), e.g. no import cycles.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

TYPED_DIRS := iot_policies iot_rules localcore clients lambdas bench cdk
typecheck: $(STAMP)
	$(VENV)/bin/mypy $(foreach d,$(TYPED_DIRS),$(if $(shell find $(d) -name '*.py' 2>/dev/null | head -1),$(d)))

unit: $(STAMP)
	$(VENV)/bin/pytest -q

test: lint typecheck unit

bench: $(STAMP)
	$(PY) -m bench.broker

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .import_linter_cache
