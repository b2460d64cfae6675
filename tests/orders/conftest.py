"""Orders' fixtures (defined in tests/orders/factories.py)."""

from tests.orders.factories import actors, floor  # noqa: F401
