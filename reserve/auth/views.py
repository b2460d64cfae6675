"""Sign-in and out, one's own password and API tokens; user administration for admins."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from reserve.agreements.queries import enterprise_choices
from reserve.auth import queries, service
from reserve.auth.forms import (
    LoginForm,
    PasswordChangeForm,
    PasswordResetForm,
    TokenForm,
    UserCreateForm,
    UserForm,
)
from reserve.auth.permissions import current_actor
from reserve.auth.redirects import safe_next as _safe_next
from reserve.auth.sessions import begin_session, keep_session
from reserve.db import transaction, utcnow
from reserve.errors import run_and_redirect, run_form
from reserve.extensions import db, limiter
from reserve.forms import BLANK_LABEL, select_choices
from reserve.warehouses.queries import warehouse_choices

bp = Blueprint("auth", __name__)


def _limit(name: str):
    """A Flask-Limiter limit read from the config at each request (RATELIMIT_LOGIN …)."""
    return limiter.limit(lambda: current_app.config[name], methods=["POST"])


@bp.route("/login", methods=["GET", "POST"])
@_limit("RATELIMIT_LOGIN")
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit() and (
        done := run_form(
            form,
            lambda session: service.authenticate(
                session,
                username=form.username.data,
                password=form.password.data,
                ip=request.remote_addr,
            ),
            success=None,
            to=_signed_in,
            on_error=lambda refused: _count_failure(refused, form.username.data),
        )
    ):
        return done
    return render_template("auth/login.html", form=form), 200


def _signed_in(user) -> str:
    begin_session(user)
    return _safe_next(request.args.get("next"))


def _count_failure(refused, username: str):
    """A refused sign-in is counted in its own transaction (the refused one rolled back)."""
    if not isinstance(refused, service.LoginRefused):
        return refused
    with transaction() as session:  # counted while locked too, but only a checked one locks
        return service.record_failed_login(
            session, username=username, ip=request.remote_addr, checked=not refused.locked_minutes
        )


@bp.post("/logout")
def logout():
    with transaction() as session:  # the copied cookie dies too: its version is gone
        service.sign_out(session, user_id=current_user.id, actor=current_actor())
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/account/sessions/end")
def sign_out_everywhere():
    with transaction() as session:
        service.sign_out(session, user_id=current_user.id, actor=current_actor(), everywhere=True)
    logout_user()
    flash(_("You have been signed out on every device."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
def password_change():
    form = PasswordChangeForm()
    if form.validate_on_submit() and (
        done := run_form(
            form,
            lambda session: service.change_password(
                session,
                user_id=current_user.id,
                current=form.current.data,
                new=form.new.data,
                actor=current_actor(),
            ),
            success=_("Your password has been changed."),
            to=_password_changed,
        )
    ):
        return done
    return render_template("auth/password_change.html", form=form)


def _password_changed(_user) -> str:
    keep_session(current_user)  # other devices are signed out, this one stays
    return url_for("main.index")


@bp.get("/account/tokens")
def token_list():
    user_id = _token_owner_id()
    return render_template(
        "auth/token_list.html",
        form=TokenForm(),
        owner_id=user_id,
        tokens=service.tokens_of(db.session, user_id),
    )


@bp.post("/account/tokens")
@_limit("RATELIMIT_TOKENS")
def token_create():
    user_id = _token_owner_id()
    form = TokenForm()
    if form.validate_on_submit() and (
        done := run_form(
            form,
            lambda session: service.create_api_token(
                session, user_id=user_id, name=form.name.data, actor=current_actor()
            ),
            success=_("Token created. Copy it now: it will not be shown again."),
            # the secret is shown on this page once, never put in a URL
            to=lambda created: make_response(_token_page(form, user_id, secret=created[1])),
        )
    ):
        return done
    return _token_page(form, user_id)


def _token_page(form: TokenForm, user_id: int, secret: str | None = None) -> str:
    return render_template(
        "auth/token_list.html",
        form=form,
        owner_id=user_id,
        secret=secret,
        tokens=service.tokens_of(db.session, user_id),
    )


@bp.post("/account/tokens/<int:token_id>/revoke")
@_limit("RATELIMIT_TOKENS")
def token_revoke(token_id: int):
    return run_and_redirect(
        lambda session: service.revoke_api_token(session, token_id=token_id, actor=current_actor()),
        success=_("Token revoked."),
        to=lambda token: url_for(
            "auth.token_list", user_id=token.user_id if token.user_id != current_user.id else None
        ),
        back=url_for("auth.token_list"),
    )


def _token_owner_id() -> int:
    """Admins may manage another user's tokens with ``?user_id=``; others only their own."""
    requested = request.args.get("user_id", type=int)
    if requested is None or requested == current_user.id:
        return current_user.id
    if not current_actor().has_role(service.Role.ADMIN):
        abort(403)
    return service.get_user(db.session, requested).id


@bp.get("/admin/users")
def user_list():
    page = queries.user_page(
        db.session,
        q=request.args.get("q", ""),
        role=request.args.get("role") or None,
        after=request.args.get("after"),
    )
    return render_template(
        "auth/user_list.html",
        page=page,
        q=request.args.get("q", ""),
        role=request.args.get("role", ""),
        roles=service.Role,
    )


def _fill_choices(form: UserForm) -> None:
    form.warehouse_ids.choices = select_choices(warehouse_choices(db.session))
    form.enterprise_id.choices = select_choices(enterprise_choices(db.session), blank=BLANK_LABEL)


@bp.route("/admin/users/new", methods=["GET", "POST"])
def user_create():
    form = UserCreateForm()
    _fill_choices(form)
    if form.validate_on_submit() and (
        done := run_form(
            form,
            lambda session: service.create_user(
                session,
                username=form.username.data,
                full_name=form.full_name.data,
                password=form.password.data,
                roles=form.roles.data,
                warehouse_ids=form.warehouse_ids.data,
                enterprise_id=form.enterprise_id.data,
                phone=form.phone.data,
                actor=current_actor(),
            ),
            success=lambda user: _("User %(name)s created.", name=user.username),
            to=lambda user: url_for("auth.user_edit", user_id=user.id),
        )
    ):
        return done
    return render_template("auth/user_form.html", form=form, user=None)


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
def user_edit(user_id: int):
    user = service.get_user(db.session, user_id)
    form = UserForm(obj=user)
    _fill_choices(form)
    if request.method == "GET":
        form.roles.data = sorted(user.roles)
        form.warehouse_ids.data = sorted(user.warehouse_ids)
    if form.validate_on_submit() and (
        done := run_form(
            form,
            lambda session: service.update_user(
                session,
                user_id=user_id,
                full_name=form.full_name.data,
                roles=form.roles.data,
                warehouse_ids=form.warehouse_ids.data,
                enterprise_id=form.enterprise_id.data,
                phone=form.phone.data,
                actor=current_actor(),
            ),
            success=_("User %(name)s saved.", name=user.username),
            to=url_for("auth.user_edit", user_id=user_id),
        )
    ):
        return done
    return render_template(
        "auth/user_form.html",
        form=form,
        user=user,
        reset_form=PasswordResetForm(),
        tokens=service.tokens_of(db.session, user_id),
        failed_logins=service.failed_logins_of(db.session, user_id=user_id),
        now=utcnow(),
    )


@bp.post("/admin/users/<int:user_id>/unlock")
def user_unlock(user_id: int):
    def unlock(session):
        user = service.get_user(session, user_id)
        service.unlock_user(session, user_id=user_id, actor=current_actor())
        return user

    return run_and_redirect(
        unlock,
        success=lambda user: _("Failed sign-ins of %(name)s cleared.", name=user.username),
        to=url_for("auth.user_edit", user_id=user_id),
    )


@bp.post("/admin/users/<int:user_id>/password")
def user_password_reset(user_id: int):
    form = PasswordResetForm()
    if not form.validate_on_submit():
        flash(_("Enter a temporary password."), "danger")
        return redirect(url_for("auth.user_edit", user_id=user_id))
    return run_and_redirect(
        lambda session: service.reset_password(
            session, user_id=user_id, new_password=form.password.data, actor=current_actor()
        ),
        success=lambda user: _(
            "Password of %(name)s reset; they must change it at next sign-in.", name=user.username
        ),
        to=url_for("auth.user_edit", user_id=user_id),
    )


@bp.post("/admin/users/<int:user_id>/toggle")
def user_toggle(user_id: int):
    def toggle(session):
        user = service.get_user(session, user_id)
        return service.set_user_enabled(
            session, user_id=user_id, enabled=not user.is_enabled, actor=current_actor()
        )

    return run_and_redirect(
        toggle,
        success=lambda user: (
            _("User %(name)s enabled.", name=user.username)
            if user.is_enabled
            else _("User %(name)s disabled.", name=user.username)
        ),
        to=url_for("auth.user_edit", user_id=user_id),
    )
