"""Entry point for gunicorn and the flask CLI: ``gunicorn wsgi:app``."""

from reserve import create_app

app = create_app()
