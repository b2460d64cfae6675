# Reserve — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
comma := ,
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PORT ?= 5000
DEMO_PASSWORD ?= reserve-demo

.PHONY: run run-https test install translations lint format bench clean

$(BIN)/activate: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(BIN)/activate

install: $(BIN)/activate translations

translations: $(BIN)/activate
	$(BIN)/pybabel compile --use-fuzzy -d reserve/translations -f >/dev/null

run: install
	$(FLASK) db upgrade
	$(FLASK) demo --if-empty --password "$(DEMO_PASSWORD)"
	@echo "Reserve is serving on http://127.0.0.1:$(PORT)  (Ctrl-C to stop)"
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

# The camera of the scan page needs a secure context: HTTPS (or this machine itself). For trying
# it from a phone on the LAN: `make run-https HOST=0.0.0.0 HTTPS_NAMES="IP:192.168.1.20"`; the
# certificate is self-signed (the phone warns once). A bureau serves its own certificate: README.
HOST ?= 127.0.0.1
HTTPS_NAMES ?=
CERT := instance/https-cert.pem
CERT_KEY := instance/https-key.pem

$(CERT):
	mkdir -p instance
	openssl req -x509 -newkey rsa:2048 -sha256 -days 30 -nodes -subj "/CN=Reserve (self-signed, for trying)" \
		-addext "subjectAltName=DNS:localhost,IP:127.0.0.1$(if $(HTTPS_NAMES),$(comma)$(HTTPS_NAMES))" \
		-keyout $(CERT_KEY) -out $(CERT) 2>/dev/null
	chmod 600 $(CERT_KEY)
	@echo "Made a self-signed certificate for localhost, 127.0.0.1 $(HTTPS_NAMES): $(CERT) (30 days)"

run-https: install $(CERT)
	$(FLASK) db upgrade
	$(FLASK) demo --if-empty --password "$(DEMO_PASSWORD)"
	@echo "Reserve is serving on https://$(HOST):$(PORT)  (self-signed certificate; Ctrl-C to stop)"
	$(FLASK) run --host $(HOST) --port $(PORT) --cert $(CERT) --key $(CERT_KEY)

test: install
	$(BIN)/pytest -n auto -q

lint: $(BIN)/activate
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(BIN)/activate
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Extract the English msgids and merge them into both catalogues.
messages: $(BIN)/activate
	$(BIN)/pybabel extract -F babel.cfg -k _l -o reserve/translations/messages.pot --no-location --sort-output --omit-header .
	$(BIN)/pybabel update -i reserve/translations/messages.pot -d reserve/translations --no-fuzzy-matching --omit-header
	$(BIN)/python -c "from reserve.i18n import fill_english_catalogue as f; f()"

bench: install
	$(BIN)/python bench/run.py --scale city

clean:
	rm -rf $(VENV) instance *.egg-info .pytest_cache .ruff_cache
