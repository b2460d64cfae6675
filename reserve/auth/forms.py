"""Sign-in, password and user-administration forms. Lengths come from the model columns."""

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectChoice, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from reserve.auth.models import ApiToken, Role, User
from reserve.forms import BoundedForm, optional_int, phone_number


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LoginForm(BoundedForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=80)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])


class PasswordChangeForm(BoundedForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=128)])
    confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("new", message=_l("The two passwords differ."))],
    )


def _role_choices():
    return [SelectChoice(r.value, r.label) for r in Role]


class UserForm(BoundedForm):
    full_name = StringField(
        _l("Full name"),
        validators=[DataRequired(), Length(max=User.full_name.type.length)],
    )
    phone = StringField(
        _l("Phone"), validators=[Optional(), Length(max=User.phone.type.length), phone_number]
    )
    roles = MultiCheckboxField(
        _l("Roles"),
        choices=_role_choices,
        validators=[DataRequired(_l("Give the user at least one role."))],
    )
    warehouse_ids = MultiCheckboxField(_l("Warehouses kept (keepers)"), coerce=int, choices=[])
    enterprise_id = SelectField(
        _l("Enterprise (enterprise users)"),
        coerce=optional_int,
        choices=[],
    )


class UserCreateForm(UserForm):
    username = StringField(
        _l("User name"), validators=[DataRequired(), Length(min=3, max=User.username.type.length)]
    )
    password = PasswordField(_l("Temporary password"), validators=[DataRequired(), Length(max=128)])


class PasswordResetForm(BoundedForm):
    password = PasswordField(_l("Temporary password"), validators=[DataRequired(), Length(max=128)])


class TokenForm(BoundedForm):
    name = StringField(
        _l("Token name"), validators=[DataRequired(), Length(max=ApiToken.name.type.length)]
    )
