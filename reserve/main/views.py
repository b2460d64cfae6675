"""The home page, the health check and the language switch."""

from urllib.parse import urlsplit

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, session
from flask_login import current_user
from sqlalchemy import text

from reserve.auth.permissions import current_actor
from reserve.auth.redirects import safe_next
from reserve.extensions import db
from reserve.main.queries import home_summary

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    return render_template(
        "main/index.html", summary=home_summary(db.session, current_actor()), user=current_user
    )


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # the load balancer needs an answer, not a traceback
        current_app.logger.exception("health check: database unreachable")
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


@bp.get("/lang/<code>")
def set_language(code: str):
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    return redirect(
        safe_next(request.args.get("next") or request.referrer and urlsplit(request.referrer).path)
    )
