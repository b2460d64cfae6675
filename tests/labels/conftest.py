"""Labels to scan: a warehouse holding tents (a batch at a shelf) and generators (serial items),
another warehouse, labels printed for each kind, and the people who scan them."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from reserve.auth.actor import Actor
from reserve.auth.models import Role
from reserve.db import local_today
from reserve.labels import printing
from reserve.labels.codes import label_key, make_code
from reserve.stock.ledger import DocumentRef, post_movement
from reserve.stock.models import Batch, MovementKind, SerialItem
from reserve.warehouses.models import Location


@pytest.fixture
def key(app) -> bytes:
    return label_key(app.config["SECRET_KEY"])


@pytest.fixture
def world(db, key, make_warehouse, make_material, make_category, make_user, system_actor):
    def place(warehouse, code):
        return db.scalar(
            select(Location).where(Location.warehouse_id == warehouse.id, Location.code == code)
        )

    def receive(location, batch, qty, serial_nos=()):
        post_movement(
            db,
            kind=MovementKind.RECEIPT,
            location_id=location.id,
            batch_id=batch.id,
            qty=qty,
            document=DocumentRef("test", None, "TEST", local_today()),
            actor=system_actor,
            serial_nos=serial_nos,
        )

    home = make_warehouse(code="WH-L1", name="市级综合储备库")
    other = make_warehouse(code="WH-L2", name="区县储备库")
    shelf, other_shelf = place(home, "A-01-01"), place(other, "A-01-01")
    tent = make_material(
        "单帐篷", unit="顶", spec="3×4米", category=make_category("1010100", "帐篷")
    )
    generator = make_material(
        "柴油发电机", unit="台", tracking="serial", category=make_category("1020100", "发电")
    )
    tent_batch = Batch(
        material_id=tent.id,
        batch_no="T-2026-01",
        expiry_date=local_today() + timedelta(days=700),
        source="purchase",
    )
    gen_batch = Batch(material_id=generator.id, batch_no="G-2026-01", source="purchase")
    db.add_all([tent_batch, gen_batch])
    db.flush()
    receive(shelf, tent_batch, 40)
    receive(other_shelf, tent_batch, 5)
    receive(shelf, gen_batch, 2, serial_nos=["GEN-001", "GEN-002"])
    items = db.scalars(select(SerialItem).order_by(SerialItem.serial_no)).all()
    stock_label = printing.label_stock(
        db,
        requests=[printing.StockLabelRequest(shelf.id, tent_batch.id, 1, 40)],
        actor=system_actor,
    )[0]
    item_label = printing.label_items(db, serial_item_ids=[items[0].id], actor=system_actor)[0]
    location_label = printing.label_locations(db, location_ids=[shelf.id], actor=system_actor)[0]
    other_label = printing.label_stock(
        db,
        requests=[printing.StockLabelRequest(other_shelf.id, tent_batch.id)],
        actor=system_actor,
    )[0]
    keeper = make_user(Role.KEEPER, warehouses=[home])
    viewer = make_user(Role.VIEWER)
    return SimpleNamespace(
        home=home,
        other=other,
        shelf=shelf,
        other_shelf=other_shelf,
        tent=tent,
        generator=generator,
        tent_batch=tent_batch,
        gen_batch=gen_batch,
        items=items,
        stock_label=stock_label,
        item_label=item_label,
        location_label=location_label,
        other_label=other_label,
        code=lambda label: make_code(label.id, key=key),
        key=key,
        keeper=keeper,
        viewer=viewer,
        keeper_actor=Actor.for_user(keeper),
        viewer_actor=Actor.for_user(viewer),
        system=system_actor,
    )


def read_pdf(pdf: bytes, tmp_path) -> tuple[list[list[str]], str]:
    """Every page rendered at 200 dpi (pdftoppm) and its QR codes decoded with a real decoder
    (zxing-cpp): the texts per page, and the PDF's text (pdftotext)."""
    import subprocess

    import zxingcpp

    path = tmp_path / "labels.pdf"
    path.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "200", "-gray", str(path), str(tmp_path / "page")], check=True
    )
    pages = []
    for image in sorted(tmp_path.glob("page*.pgm")):
        magic, width, height, _maxval, pixels = image.read_bytes().split(maxsplit=4)
        assert magic == b"P5"
        view = memoryview(pixels).cast("B", (int(height), int(width)))
        found = zxingcpp.read_barcodes(view, formats=zxingcpp.BarcodeFormat.QRCode)
        pages.append([barcode.text for barcode in found])
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    return pages, text


@pytest.fixture
def posted_receipt(db, world):
    """A posted receipt into WH-L1: 24 tents at A-01-01 and two pumps (serial) at A-01-01."""
    from reserve.receipts.service import (
        ReceiptData,
        ReceiptLineData,
        create_receipt,
        post_receipt,
    )

    receipt = create_receipt(
        db,
        data=ReceiptData(
            warehouse_id=world.home.id,
            source="purchase",
            document_date=local_today(),
            lines=(
                ReceiptLineData(world.tent.id, "T-2026-09", 24, location_id=world.shelf.id),
                ReceiptLineData(
                    world.generator.id,
                    "G-2026-09",
                    2,
                    location_id=world.shelf.id,
                    serials=("GEN-901", "GEN-902"),
                ),
            ),
        ),
        actor=world.keeper_actor,
    )
    return post_receipt(db, receipt_id=receipt.id, actor=world.keeper_actor)
