// Receipts (入库单): add and clear line rows, and let a handheld scanner's Enter move on
// instead of submitting the form. Loaded at the end of the receipt form (strict CSP).
(function () {
  "use strict";
  var form = document.getElementById("receipt-form");
  if (!form) {
    return;
  }
  var body = document.querySelector("#receipt-lines tbody");
  var addButton = document.getElementById("receipt-add-line");
  var INDEX = /^lines-(\d+)-/;

  function clearRow(row) {
    row.querySelectorAll("input, textarea").forEach(function (el) {
      el.value = "";
      el.classList.remove("is-invalid");
    });
    row.querySelectorAll("select").forEach(function (el) {
      el.selectedIndex = 0;
      el.classList.remove("is-invalid");
    });
    row.querySelectorAll(".invalid-feedback").forEach(function (el) {
      el.remove();
    });
    row.querySelectorAll(".receipt-expiry-reason").forEach(function (el) {
      el.classList.add("d-none");
    });
  }

  function nextIndex() {
    var max = -1;
    body.querySelectorAll("[name^='lines-']").forEach(function (el) {
      var match = INDEX.exec(el.name);
      if (match) {
        max = Math.max(max, parseInt(match[1], 10));
      }
    });
    return max + 1;
  }

  function renumber() {
    body.querySelectorAll(".receipt-line-no").forEach(function (cell, i) {
      cell.textContent = String(i + 1);
    });
    var limit = parseInt(addButton.getAttribute("data-max"), 10) || 200;
    addButton.disabled = body.querySelectorAll(".receipt-line").length >= limit;
  }

  function addLine() {
    var rows = body.querySelectorAll(".receipt-line");
    var row = rows[rows.length - 1].cloneNode(true);
    var index = nextIndex();
    row.querySelectorAll("[name], [id], label[for]").forEach(function (el) {
      ["name", "id", "for"].forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value && INDEX.test(value)) {
          el.setAttribute(attr, value.replace(INDEX, "lines-" + index + "-"));
        }
      });
    });
    clearRow(row);
    body.appendChild(row);
    renumber();
    var first = row.querySelector("select, input");
    if (first) {
      first.focus();
    }
  }

  addButton.addEventListener("click", addLine);

  body.addEventListener("click", function (event) {
    var button = event.target.closest(".receipt-line-clear");
    if (button) {
      clearRow(button.closest(".receipt-line"));
    }
  });

  // A handheld scanner types the code and presses Enter: go to the next field, don't submit.
  form.addEventListener("keydown", function (event) {
    var el = event.target;
    if (event.key !== "Enter" || el.tagName !== "INPUT" || el.type === "submit") {
      return;
    }
    event.preventDefault();
    var fields = Array.prototype.slice.call(
      form.querySelectorAll("input:not([type=hidden]), select, textarea"));
    var next = fields[fields.indexOf(el) + 1];
    if (next) {
      next.focus();
    }
  });

  // The serial-number box grows with what is scanned into it.
  body.addEventListener("input", function (event) {
    var el = event.target;
    if (el.tagName === "TEXTAREA") {
      el.rows = Math.min(12, Math.max(2, el.value.split("\n").length + 1));
    }
  });

  renumber();
})();
