// 库存申报: a held quantity below the commitment is marked as it is typed (allowed, and shown).
document.addEventListener("input", function (event) {
  var input = event.target;
  if (!input.matches("tr.report-line input[name$='-held_qty']")) {
    return;
  }
  var row = input.closest("tr.report-line");
  var committed = parseInt(row.getAttribute("data-committed"), 10);
  var held = parseInt(input.value, 10);
  var short = !isNaN(committed) && !isNaN(held) && held < committed;
  row.classList.toggle("table-warning", short);
  var badge = row.querySelector(".report-below");
  if (badge) {
    badge.hidden = !short;
  }
});
