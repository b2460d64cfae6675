from flask import Blueprint

bp = Blueprint("callups", __name__)
