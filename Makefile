# The two commands: `make run` and `make test`. Both set up .venv themselves.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
REQS := requirements-dev.txt $(wildcard functions/*/requirements.txt)

.PHONY: run test bench clean openapi

$(VENV)/.installed: $(REQS)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.installed
	$(PY) -m devserver

# pytest exits 5 when it collected no test: that is a failure here, not a pass.
test: $(VENV)/.installed
	$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests ran"; exit 1; fi; exit $$rc

clean:
	rm -rf $(VENV) .aws-sam .pytest_cache test-output

openapi: $(VENV)/.installed
	$(PY) scripts/openapi.py
