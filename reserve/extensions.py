"""The Flask extensions, created once here and initialised in ``create_app``."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from reserve.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate(compare_type=True, render_as_batch=True)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# In memory per process unless RESERVE_RATELIMIT_STORAGE_URI names a shared store
# (e.g. redis://…); the limits themselves are the RATELIMIT_* settings in config.py.
limiter = Limiter(key_func=get_remote_address)
