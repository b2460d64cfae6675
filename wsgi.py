"""Entry point in a clone, for gunicorn and the flask CLI: ``gunicorn wsgi:app``."""

from reserve.wsgi import app

__all__ = ["app"]
