// 库存申报: a held quantity below the commitment is marked as it is typed (allowed, and shown),
// and when the page opens with quantities already there (a draft, or typed before this ran).
function markReportLine(row) {
  var input = row.querySelector("input[name$='-held_qty']");
  if (!input) {
    return;
  }
  var committed = parseInt(row.getAttribute("data-committed"), 10);
  var held = parseInt(input.value, 10);
  var short = !isNaN(committed) && !isNaN(held) && held < committed;
  row.classList.toggle("table-warning", short);
  var badge = row.querySelector(".report-below");
  if (badge) {
    badge.hidden = !short;
  }
}

document.addEventListener("input", function (event) {
  if (event.target.matches("tr.report-line input[name$='-held_qty']")) {
    markReportLine(event.target.closest("tr.report-line"));
  }
});
document.querySelectorAll("tr.report-line").forEach(markReportLine);
