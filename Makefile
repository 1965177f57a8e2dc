# The two commands: `make run` and `make test`. Both set up .venv themselves.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
REQS := requirements-dev.txt $(wildcard functions/*/requirements.txt)

.PHONY: reindex run test bench clean openapi invoke countries crawlers operator-key

$(VENV)/.installed: $(REQS)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# axe-core for the accessibility check of the browser tests; DB-IP Lite for the country table.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# checkov lives in a virtualenv of its own: it pins an older boto3 than the functions use.
CHECKOV := .venv-checkov/bin/checkov
$(CHECKOV):
	$(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/pip install --quiet checkov==3.3.30

# The browser tests drive Debian's Chromium (Playwright's own browser download is not used).
CHROMIUM ?= /usr/bin/chromium
$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-zenhei

run: $(VENV)/.installed
	$(PY) -m devserver

# pytest exits 5 when it collected no test: that is a failure here, not a pass.
test: $(VENV)/.installed node_modules/.installed $(CHROMIUM) $(CHECKOV)
	$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests ran"; exit 1; fi; exit $$rc

clean:
	rm -rf $(VENV) .venv-checkov node_modules .aws-sam .pytest_cache test-output

bench: $(VENV)/.installed
	$(PY) benchmarks/bench.py

# sam local invoke without Docker: make invoke FUNCTION=RedirectFunction EVENT=events/redirect.json
# (EVENT=- reads standard input; ENV_VARS=env.json overrides variables as sam's --env-vars does).
invoke: $(VENV)/.installed
	@$(PY) -m devserver invoke $(FUNCTION) $(EVENT) $(if $(ENV_VARS),--env-vars $(ENV_VARS))

openapi: $(VENV)/.installed
	$(PY) scripts/openapi.py

# The first (or another) operator's API key on a deployed stack (docs/deploy.md, step 3).
operator-key: $(VENV)/.installed
	@$(PY) scripts/operator_key.py --stack $(STACK) --region $(REGION)

# Fill the search index from a stack's existing links, once, after updating a stack made before it.
reindex: $(VENV)/.installed
	@$(PY) scripts/reindex.py --stack $(STACK) --region $(REGION)

# StatsFunction's IP-to-country table from the DB-IP Lite package package.json pins (scripts/countries.py).
countries: $(VENV)/.installed node_modules/.installed
	$(PY) scripts/countries.py

# The redirect's crawler table from the crawler lists requirements-dev.txt pins (scripts/crawlers.py).
crawlers: $(VENV)/.installed
	$(PY) scripts/crawlers.py
