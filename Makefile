# Two commands: `make demo` and `make test`. Each builds .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_DEMO := $(VENV)/.stamp-demo
STAMP_TEST := $(VENV)/.stamp-test
# pytest workers (pytest-xdist): CI has 2 cores; `make test WORKERS=0` runs in one process
WORKERS ?= 2

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP_DEMO): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[plot]"
	touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[dev,plot,bench,deep,dask]"
	$(BIN)/python -m pip install -q -e ".[service]" "playwright>=1.40"
	touch $@ $(STAMP_DEMO)

demo: $(STAMP_DEMO)
	$(BIN)/normalcy demo --out demo-output

test: $(STAMP_TEST)
	bash tests/service/system_packages.sh
	$(BIN)/ruff check src tests
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -n $(WORKERS) --dist worksteal

SKAB ?= ../shared/data/skab
DOCS := docs/benchmarks.md

# Every benchmark of docs/benchmarks.md, each regenerating its own section (long: ~1-2 h on 2 cores).
bench: $(STAMP_TEST)
	$(BIN)/normalcy bench speed
	$(BIN)/normalcy bench paper --out bench-results --docs $(DOCS) --jobs 2
	$(BIN)/normalcy bench skab --data $(SKAB) --out bench-results --docs $(DOCS) --jobs 2
	$(BIN)/normalcy bench feedback --out bench-results --docs $(DOCS)
	$(BIN)/normalcy bench transfer --out bench-results --docs $(DOCS)
	$(BIN)/normalcy bench plants --out bench-results --docs $(DOCS)

clean:
	rm -rf $(VENV) demo-output .pytest_cache .mypy_cache .ruff_cache
