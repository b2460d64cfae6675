"""Entry point of an installed Reserve: ``gunicorn reserve.wsgi:app``."""

from reserve import create_app

app = create_app()
