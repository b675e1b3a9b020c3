# The two commands of the README's quickstart, and the setup both run first.
.PHONY: setup run test lint bench

HOST ?= 127.0.0.1
PORT ?= 8000

setup:
	@./scripts/setup

run: setup
	.venv/bin/pokin serve --host $(HOST) --port $(PORT) --load seed

test:
	@./scripts/setup --with-browser
	.venv/bin/python -m pytest

lint: setup
	.venv/bin/ruff check service seed viz tests
	.venv/bin/python -m service.cypher_lint

# Not a test: the figures of docs/benchmarks.md; its national half is slow (see there).
bench: setup
	.venv/bin/python -m bench.run --scale both
