# Reserve — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PORT ?= 5000
DEMO_PASSWORD ?= reserve-demo

.PHONY: run test install translations lint format bench clean

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
