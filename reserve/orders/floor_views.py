from flask import Blueprint

bp = Blueprint("orders_floor", __name__)
