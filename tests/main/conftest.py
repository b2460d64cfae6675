"""Documents in each waiting state, made as plain rows (the landing page counts states; the
features' own tests cover how documents get there), and stock through the ledger."""

from __future__ import annotations

from itertools import count

import pytest

from reserve.disposals.models import Rotation, Scrap
from reserve.receipts.models import Receipt
from reserve.stocktakes.models import Stocktake
from tests.disposals.conftest import days, put_stock  # noqa: F401  (fixture)

NUMBERS = count(1)


@pytest.fixture
def make_document(db):
    """make_document("receipt" | "rotation" | "scrap" | "stocktake", warehouse, status)."""

    def make(kind: str, warehouse, status: str, *, by: str = "zhao", by_id=None):
        no = f"T{kind[:2].upper()}{next(NUMBERS):05d}"
        common = dict(no=no, warehouse_id=warehouse.id, status=status)
        if kind == "receipt":
            doc = Receipt(**common, source="purchase", document_date=days(0), created_by_name=by)
        elif kind == "rotation":
            doc = Rotation(**common, disposition="sold", document_date=days(0), created_by_name=by)
        elif kind == "scrap":
            doc = Scrap(
                **common,
                reason="damaged",
                document_date=days(0),
                requested_by_name=by,
                requested_by_id=by_id,
            )
        else:
            doc = Stocktake(**common, created_by_name=by)
        db.add(doc)
        db.flush()
        return doc

    return make
