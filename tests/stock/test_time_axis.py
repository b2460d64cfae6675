"""One time axis: the stock card's date range is a range of document (paper) dates, as the month
close and the monthly report read them. A document backdated into March shows in March, on the
page, the API and the export, and not in the month it was posted."""

import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from reserve.auth.models import Role
from reserve.db import local_today
from tests.stock.conftest import post


@pytest.fixture
def months(db, place):
    """Three postings, all posted now: +50 dated this month, then +7 backdated into an earlier
    month (posted after the first), then -5 dated this month."""
    this_month = local_today().replace(day=1)
    next_month = (this_month + timedelta(days=32)).replace(day=1)
    paper_month = (this_month - timedelta(days=70)).replace(day=1)  # two or three months ago
    paper_month_end = (paper_month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    post(db, place, 50, doc_date=this_month)
    post(db, place, 7, doc_date=paper_month + timedelta(days=14))
    post(db, place, -5, doc_date=this_month)
    return {
        "paper": f"from={paper_month}&to={paper_month_end}",
        "posting": f"from={this_month}&to={next_month - timedelta(days=1)}",
    }


def _card_cells(html: str) -> list[tuple[str, str, str]]:
    """(in, out, balance) of each row of the card table, as the page prints them."""
    table = html[html.index('id="stock-card-table"') : html.index("</table>")]
    body = table[table.index("<tbody>") :]
    rows = []
    for row in body.split("<tr>")[1:]:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        if len(cells) == 12:
            rows.append((cells[7].strip(), cells[8].strip(), cells[9].strip()))
    return rows


def test_the_page_shows_a_backdated_document_in_its_paper_month(login_as, place, months):
    viewer = login_as(Role.VIEWER)
    url = f"/stock/materials/{place.material.id}/card"
    paper = viewer.get(f"{url}?{months['paper']}").get_data(as_text=True)
    assert _card_cells(paper) == [("7", "", "7")]
    posting = viewer.get(f"{url}?{months['posting']}").get_data(as_text=True)
    # newest first; the backdated +7 is in the opening, not between the two rows
    assert _card_cells(posting) == [("", "5", "52"), ("50", "", "57")]


def test_the_api_filters_by_document_date(client, api_token, place, months):
    headers, _ = api_token(Role.VIEWER)
    url = f"/api/v1/materials/{place.material.id}/movements"
    paper = client.get(f"{url}?{months['paper']}", headers=headers).get_json()
    assert [(m["qty"], m["balance"]) for m in paper["items"]] == [(7, 7)]
    posting = client.get(f"{url}?{months['posting']}", headers=headers).get_json()
    assert [(m["qty"], m["balance"]) for m in posting["items"]] == [(-5, 52), (50, 57)]


def test_the_export_filters_by_document_date(login_as, place, months):
    viewer = login_as(Role.VIEWER)
    url = f"/stock/materials/{place.material.id}/card.xlsx"

    def rows(query: str) -> list[tuple]:
        response = viewer.get(f"{url}?{query}")
        assert response.status_code == 200
        sheet = load_workbook(io.BytesIO(response.data)).active
        return [(r[7], r[8], r[9]) for r in sheet.iter_rows(min_row=4, values_only=True)]

    assert rows(months["paper"]) == [(7, None, 7)]
    assert rows(months["posting"]) == [(50, None, 57), (None, 5, 52)]


def test_keyset_pages_of_a_date_range_join_up(db, place, system_actor):
    """Paging by movement id under a document-date filter: no row lost, none twice, and the
    running balance carries on across the page break."""
    from reserve.stock.queries import CardFilter, stock_card

    this_month = local_today().replace(day=1)
    earlier = this_month - timedelta(days=40)
    for i in range(7):
        post(db, place, 10 + i, doc_date=earlier if i % 3 == 1 else this_month)
    f = CardFilter(material_id=place.material.id, date_from=this_month)
    first = stock_card(db, system_actor, f, per_page=2)
    second = stock_card(db, system_actor, f, before=int(first.next_key), per_page=2)
    third = stock_card(db, system_actor, f, before=int(second.next_key), per_page=2)
    shown = first.items + second.items + third.items
    assert third.next_key is None
    assert [m.qty for m in shown] == [16, 15, 13, 12, 10]
    opening = 11 + 14  # dated before the range, posted in between the rows shown
    assert [m.balance for m in shown] == [opening + 66, 75, 60, 47, 35]
