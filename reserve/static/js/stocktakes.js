// Stocktakes: after a count is saved the page comes back at that line (#line-N); put the cursor
// in the next line's count so a keeper counting on a phone can go on typing.
(function () {
  var match = /^#line-(\d+)$/.exec(window.location.hash);
  if (!match) {
    return;
  }
  var row = document.getElementById("line-" + match[1]);
  if (!row) {
    return;
  }
  row.classList.add("table-success");
  var next = row.nextElementSibling;
  var input = next && next.querySelector("input[name=counted_qty]");
  if (input) {
    input.focus({ preventScroll: true });
  }
  row.scrollIntoView({ block: "center" });
})();
