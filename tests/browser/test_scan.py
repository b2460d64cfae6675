"""扫码 in the browser: a keeper's handheld scanner (a burst of keystrokes ending in Enter)
moves a batch and counts it; the camera reads a rendered label through Chromium's fake camera;
the offline queue sends each operation once however often it is replayed, and shows the one
that no longer fits; bad scans say why and change nothing (the movements counted)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from reserve import normalise_database_url
from reserve.labels.codes import grouped, label_key, label_url, make_code
from tests.browser.conftest import CHROMIUM, sign_in

pytestmark = pytest.mark.browser

SECRET = "browser-tests"  # the live servers' SECRET_KEY (tests/browser/conftest.py)
BASE = "http://127.0.0.1:5000"  # PUBLIC_BASE_URL: what the printed QR holds


@dataclass
class Scene:
    url: str
    warehouse_id: int
    location_id: int
    location_code: str
    batch_id: int
    material_name: str
    qty: int
    stock_code: str
    target_code: str  # a location label
    target_location_id: int
    other_target: str  # a location code, typed
    far_code: str  # stock of a warehouse the keeper does not keep
    revoked_code: str

    def engine(self):
        return sa.create_engine(normalise_database_url(self.url))

    def scalar(self, sql: str, **params):
        engine = self.engine()
        with engine.connect() as conn:
            value = conn.execute(sa.text(sql), params).scalar()
        engine.dispose()
        return value

    def movements(self) -> int:
        return self.scalar("SELECT count(*) FROM stock_movements")

    def on_hand(self, location_id: int) -> int:
        return (
            self.scalar(
                "SELECT qty FROM stock_balances WHERE location_id = :l AND batch_id = :b",
                l=location_id,
                b=self.batch_id,
            )
            or 0
        )


def _label(conn, kind: str, warehouse_id: int, location_id: int, batch_id=None, **revoked):
    if kind == "location":  # one live label per location: the demo may have printed it
        found = conn.execute(
            sa.text(
                "SELECT id FROM labels WHERE kind = 'location' AND location_id = :l"
                " AND revoked_at IS NULL"
            ),
            {"l": location_id},
        ).scalar()
        if found:
            return found
    from reserve.labels.models import Label

    return conn.execute(
        sa.insert(Label.__table__)
        .values(
            kind=kind,
            warehouse_id=warehouse_id,
            location_id=location_id,
            batch_id=batch_id,
            first_printed_by_name="keeper",
            **revoked,
        )
        .returning(Label.__table__.c.id)
    ).scalar()


@pytest.fixture
def scene(demo_copy) -> Scene:
    """Labels for a batch the keeper holds at a shelf, two places to move it to, another
    warehouse's stock, and a revoked label, in this test's copy of the demo city."""
    key = label_key(SECRET)
    engine = sa.create_engine(normalise_database_url(demo_copy))
    with engine.begin() as conn:
        warehouse_id = conn.execute(
            sa.text(
                "SELECT uw.warehouse_id FROM user_warehouses uw JOIN users u ON u.id = uw.user_id"
                " WHERE u.username = 'keeper'"
            )
        ).scalar()
        stock = conn.execute(
            sa.text(
                "SELECT b.location_id, l.code, b.batch_id, b.qty, m.name FROM stock_balances b"
                " JOIN locations l ON l.id = b.location_id JOIN batches t ON t.id = b.batch_id"
                " JOIN materials m ON m.id = t.material_id WHERE l.warehouse_id = :w"
                " AND NOT l.is_receiving AND l.is_active AND b.qty >= 20 AND b.reserved = 0"
                " AND m.tracking = 'batch' AND (t.expiry_date IS NULL OR t.expiry_date > :d)"
                # not a material the demo's allocation orders pick here (the scan offers the pick)
                " AND NOT EXISTS (SELECT 1 FROM order_sources s"
                " JOIN batches sb ON sb.id = s.batch_id"
                " WHERE s.warehouse_id = :w AND sb.material_id = m.id)"
                " ORDER BY b.location_id, b.batch_id LIMIT 1"
            ),
            {"w": warehouse_id, "d": date.today()},
        ).one()
        targets = conn.execute(
            sa.text(
                "SELECT id, code FROM locations WHERE warehouse_id = :w AND id != :l"
                " AND NOT is_receiving AND is_active ORDER BY code LIMIT 2"
            ),
            {"w": warehouse_id, "l": stock.location_id},
        ).all()
        far = conn.execute(
            sa.text(
                "SELECT l.warehouse_id, b.location_id, b.batch_id FROM stock_balances b"
                " JOIN locations l ON l.id = b.location_id WHERE l.warehouse_id != :w"
                " AND b.qty > 0 ORDER BY b.location_id LIMIT 1"
            ),
            {"w": warehouse_id},
        ).one()
        code = lambda label_id: make_code(label_id, key=key)  # noqa: E731
        scene = Scene(
            url=demo_copy,
            warehouse_id=warehouse_id,
            location_id=stock.location_id,
            location_code=stock.code,
            batch_id=stock.batch_id,
            material_name=stock.name,
            qty=stock.qty,
            stock_code=code(_label(conn, "stock", warehouse_id, stock.location_id, stock.batch_id)),
            target_code=code(_label(conn, "location", warehouse_id, targets[0].id)),
            target_location_id=targets[0].id,
            other_target=targets[1].code,
            far_code=code(_label(conn, "stock", far.warehouse_id, far.location_id, far.batch_id)),
            revoked_code=code(
                _label(
                    conn,
                    "stock",
                    warehouse_id,
                    stock.location_id,
                    stock.batch_id,
                    revoked_at=sa.func.now(),
                    revoked_by_name="keeper",
                    revoke_reason="损坏",
                )
            ),
        )
    engine.dispose()
    return scene


def _as_keeper(work):
    """Run ``work(session, actor)`` in the app, as the demo keeper, in one transaction."""

    def run(url: str):
        from reserve.auth.actor import Actor
        from reserve.auth.models import User
        from reserve.db import transaction
        from reserve.extensions import db
        from tests.conftest import test_app

        app = test_app(url)
        with app.app_context():
            with transaction() as session:
                keeper = session.scalar(sa.select(User).where(User.username == "keeper"))
                result = work(session, Actor.for_user(keeper))
            db.engine.dispose()
        return result

    return run


def _wedge(page, text: str) -> None:
    """A keyboard-wedge scanner: the code typed as a fast burst, then Enter."""
    page.keyboard.type(text, delay=5)
    page.keyboard.press("Enter")


def _open_scan(page) -> None:
    sign_in(page, "keeper")
    page.goto("/scan")
    expect(page.locator("#scan-input")).to_be_focused()


def test_a_keeper_moves_a_batch_and_counts_it_with_a_handheld_scanner(page, scene):
    _open_scan(page)
    before = scene.movements()
    page.locator("h1").click()  # focus elsewhere: the scan still lands in the input
    _wedge(page, label_url(BASE, scene.stock_code))
    expect(page.locator("#result-title")).to_contain_text(scene.material_name)
    expect(page.locator("#result-facts")).to_contain_text(scene.location_code)
    expect(page.locator("#recent-list li").first).to_contain_text("(")
    page.click("#action-move")
    expect(page.locator("#move-to")).to_be_focused()
    _wedge(page, grouped(scene.target_code))  # the location's label; Enter goes on to the qty
    expect(page.locator("#move-qty")).to_be_focused()
    page.keyboard.type("2")
    page.click("#move-confirm")
    expect(page.locator("#scan-message")).to_contain_text("2")
    expect(page.locator("#scan-message")).to_have_class("alert mt-3 alert-success")
    expect(page.locator("#queue-count")).to_have_text("0")
    assert scene.movements() == before + 2
    assert scene.on_hand(scene.target_location_id) == 2
    expect(page.locator("#result-facts")).to_contain_text(str(scene.qty - 2))

    # a stocktake of that shelf opens; the same label now offers "count"
    _as_keeper(
        lambda session, actor: __import__(
            "reserve.stocktakes.service", fromlist=["open_stocktake"]
        ).open_stocktake(
            session,
            warehouse_id=scene.warehouse_id,
            actor=actor,
            location_ids=[scene.location_id],
        )
    )(scene.url)
    page.fill("#scan-input", "")
    _wedge(page, scene.stock_code.lower())
    page.click("#action-count")
    expect(page.locator("#count-qty")).to_be_focused()
    page.keyboard.type(str(scene.qty - 3))
    page.keyboard.press("Enter")
    expect(page.locator("#scan-message")).to_have_class("alert mt-3 alert-success")
    counted = scene.scalar(
        "SELECT counted_qty FROM stocktake_lines s JOIN stocktakes t ON t.id = s.stocktake_id"
        " WHERE t.status = 'counting' AND location_id = :l AND batch_id = :b",
        l=scene.location_id,
        b=scene.batch_id,
    )
    assert counted == scene.qty - 3
    assert scene.movements() == before + 2  # a count posts nothing until it is approved


def _y4m(png: Path, out: Path, frames: int = 10) -> Path:
    """A still video of the label for Chromium's fake camera (YUV 4:2:0, written by Pillow)."""
    from PIL import Image

    width, height = 640, 480
    canvas = Image.new("RGB", (width, height), "white")
    label = Image.open(png).convert("RGB")
    label.thumbnail((400, 400))
    canvas.paste(label, ((width - label.width) // 2, (height - label.height) // 2))
    y, cb, cr = canvas.convert("YCbCr").split()
    half = (width // 2, height // 2)
    frame = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    with out.open("wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            f.write(b"FRAME\n" + frame)
    return out


def _label_png(code: str, out: Path) -> Path:
    """The label's QR as an image: what a phone camera sees of a printed label."""
    import qrcode

    image = qrcode.make(label_url(BASE, code), error_correction=qrcode.constants.ERROR_CORRECT_M)
    image.save(out)
    return out


def test_the_camera_reads_a_label(browser, live_server, scene, tmp_path):
    video = _y4m(_label_png(scene.stock_code, tmp_path / "label.png"), tmp_path / "label.y4m")
    camera_browser = browser.browser_type.launch(
        executable_path=CHROMIUM,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    try:
        context = camera_browser.new_context(
            base_url=live_server, viewport={"width": 360, "height": 740}
        )
        page = context.new_page()
        page.set_default_timeout(30_000)
        _open_scan(page)
        expect(page.locator("#camera-start")).to_be_enabled()
        page.click("#camera-start")
        expect(page.locator("#result-title")).to_contain_text(scene.material_name)
        expect(page.locator("#recent-list li").first).to_contain_text(scene.material_name)
        assert page.locator("#camera-video").evaluate("v => v.srcObject === null")  # stopped
        context.close()
    finally:
        camera_browser.close()


def test_on_plain_http_the_page_says_why_the_camera_is_unavailable(browser, live_server):
    """An intranet name over plain HTTP is not a secure context: no camera, and the page says
    so; typing and the handheld scanner still work."""
    port = live_server.rsplit(":", 1)[1]
    plain = browser.browser_type.launch(
        executable_path=CHROMIUM,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--host-resolver-rules=MAP reserve.intranet 127.0.0.1",
        ],
    )
    try:
        page = plain.new_context(base_url=f"http://reserve.intranet:{port}").new_page()
        _open_scan(page)
        assert not page.evaluate("window.isSecureContext")
        expect(page.locator("#camera-status")).to_contain_text("HTTPS")
        expect(page.locator("#camera-start")).to_be_disabled()
        _wedge(page, "A")  # typing still answers
        expect(page.locator("#scan-message")).to_contain_text("不是标签码")
    finally:
        plain.close()


def _queue_move(page, code: str, to: str, qty: int) -> None:
    page.fill("#scan-input", "")
    _wedge(page, code)
    page.click("#action-move")
    page.fill("#move-to", to)
    page.fill("#move-qty", str(qty))
    page.click("#move-confirm")


def test_offline_moves_are_queued_and_sent_once_each_however_often_replayed(
    browser, live_server, scene
):
    context = browser.new_context(base_url=live_server, viewport={"width": 360, "height": 740})
    page, twin = context.new_page(), context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    _open_scan(page)
    twin.goto("/scan")  # a second tab of the same keeper: it replays the same queue
    sent = []
    context.on(
        "request",
        lambda request: request.url.endswith("/scan/moves.json") and sent.append(request),
    )
    before = scene.movements()

    context.set_offline(True)
    expect(page.locator("#scan-offline")).to_be_visible()
    for n in range(3):
        _queue_move(page, scene.stock_code, scene.other_target, 1)
        expect(page.locator("#queue-count")).to_have_text(str(n + 1))
    # while the phone is offline, someone moves stock away: the fourth no longer fits
    _queue_move(page, scene.stock_code, scene.other_target, scene.qty - 3)
    expect(page.locator("#queue-count")).to_have_text("4")
    expect(page.locator("#queue-list li[data-state=pending]")).to_have_count(4)
    assert sent == [] and scene.movements() == before
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the scan page overflows a 360 px screen by {overflow}px"

    def move_one_away(session, actor):
        from reserve.stock.service import move_stock

        move_stock(
            session,
            warehouse_id=scene.warehouse_id,
            from_location_id=scene.location_id,
            to_location_id=scene.target_location_id,
            batch_id=scene.batch_id,
            qty=1,
            actor=actor,
        )

    _as_keeper(move_one_away)(scene.url)
    context.set_offline(False)  # both tabs replay on "online"
    conflict = page.locator("#queue-list li[data-state=conflict]")
    expect(conflict).to_have_count(1)
    expect(conflict).to_contain_text("现在只有")
    expect(page.locator("#queue-list li[data-state=pending]")).to_have_count(0)
    expect(twin.locator("#queue-list li[data-state=pending]")).to_have_count(0)

    # exactly three moves (two movements each) besides the one made meanwhile, once each
    assert scene.movements() == before + 2 + 3 * 2
    assert scene.scalar("SELECT count(*) FROM scan_operations WHERE kind = 'move'") == 3
    # the replay sent twice: every request sent again, as a lost answer would be
    for request in [r for r in sent if r.response() and r.response().ok]:
        again = context.request.post(
            request.url,
            data=request.post_data_buffer,
            headers={"Content-Type": request.headers["content-type"], "Accept": "application/json"},
        )
        assert again.ok and again.json()["replayed"] is True
    assert scene.movements() == before + 2 + 3 * 2

    # the keeper resolves the conflict: discards it
    conflict.locator(".queue-discard").click()
    expect(page.locator("#queue-count")).to_have_text("0")
    context.close()


def test_bad_scans_say_why_and_change_nothing(page, scene):
    _open_scan(page)
    before = scene.movements()
    message = page.locator("#scan-message")
    changed = scene.stock_code[:-1] + ("2" if scene.stock_code[-1] != "2" else "3")
    cases = [
        (changed, "标签码无效"),  # the pages speak Chinese first
        (scene.revoked_code, "已作废"),
        (scene.far_code, "您不保管"),
    ]
    for code, words in cases:
        page.fill("#scan-input", "")
        _wedge(page, code)
        expect(message).to_contain_text(words)
        expect(message).to_have_class("alert mt-3 alert-danger")
    page.fill("#scan-input", "")
    page.keyboard.press("Enter")  # an empty scan
    expect(message).to_contain_text("没有扫到内容")
    page.fill("#scan-input", "7" * 10_240)  # a 10 kB paste
    page.keyboard.press("Enter")
    expect(message).to_contain_text("不是标签")
    # a label scanned while the quantity has focus is a new scan, not a quantity
    page.fill("#scan-input", "")
    _wedge(page, scene.stock_code)
    page.click("#action-move")
    page.fill("#move-to", scene.other_target)
    page.focus("#move-qty")
    _wedge(page, scene.stock_code)
    expect(page.locator("#move-form")).to_be_hidden()
    expect(page.locator("#scan-input")).to_have_value(scene.stock_code)
    expect(page.locator("#result-title")).to_contain_text(scene.material_name)
    # more than is there: refused at once, the form back with what was typed
    page.fill("#scan-input", "")
    _wedge(page, scene.stock_code)
    page.click("#action-move")
    page.fill("#move-to", grouped(scene.target_code))
    page.fill("#move-qty", str(scene.qty + 1))
    page.click("#move-confirm")
    expect(message).to_contain_text("现在只有批次")
    expect(message).to_contain_text(str(scene.qty))
    expect(page.locator("#move-qty")).to_have_value(str(scene.qty + 1))
    expect(page.locator("#queue-count")).to_have_text("0")
    assert scene.movements() == before


def test_a_viewer_looks_a_label_up_and_opens_it_but_cannot_move_it(page, scene):
    sign_in(page, "viewer")
    page.goto("/scan")
    _wedge(page, scene.stock_code)
    expect(page.locator("#result-title")).to_contain_text(scene.material_name)
    expect(page.locator("#action-view")).to_be_visible()
    expect(page.locator("#action-move")).to_have_count(0)
    expect(page.locator("#action-count")).to_have_count(0)
    expect(page.locator("#result-actions")).to_contain_text("您只能查看")
    expect(page.locator("#action-view")).to_have_text("查看")
    page.click("#action-view")  # the label's own page: the batch among its material's stock
    expect(page).to_have_url(re.compile(rf"/stock/materials/\d+\?.*batch={scene.batch_id}"))
