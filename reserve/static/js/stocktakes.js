// Stocktakes (no inline script: CSP). Two pages, each works without this file:
// - the count sheet: Save sends the line's own form (CSRF token included) to its JSON twin and
//   puts the saved line and totals in place, or the refusal on the line, without a reload;
//   anything unexpected falls back to the plain form post.
// - the new-stocktake form: the location and category trees check and uncheck a whole branch
//   with one click and count what is chosen.
(function () {
  "use strict";

  // --- the count sheet -------------------------------------------------------------------
  function nextInput(row) {
    var next = row && row.nextElementSibling;
    return next && next.querySelector("input[name=counted_qty]");
  }

  function focusAfter(row) {
    var input = nextInput(row);
    if (input) {
      input.focus({ preventScroll: true });
      input.select();
    }
  }

  function showError(row, lineId, message, field) {
    var box = document.getElementById("error-" + lineId);
    var target = document.getElementById(
      (field === "reason" ? "reason-" : "counted-") + lineId
    );
    if (box) {
      box.textContent = message;
      box.hidden = false;
    }
    if (target) {
      target.classList.add("is-invalid");
      target.setAttribute("aria-invalid", "true");
      target.focus();
    }
    row.classList.add("table-danger");
  }

  function clearError(row, lineId) {
    var box = document.getElementById("error-" + lineId);
    if (box) {
      box.textContent = "";
      box.hidden = true;
    }
    row.classList.remove("table-danger");
    row.querySelectorAll(".is-invalid").forEach(function (el) {
      el.classList.remove("is-invalid");
      el.removeAttribute("aria-invalid");
    });
  }

  function saveLine(form) {
    var lineId = form.getAttribute("data-line");
    var row = document.getElementById("line-" + lineId);
    var button = form.querySelector("button[type=submit]");
    var status = document.getElementById("count-status");
    if (button) {
      button.disabled = true;
    }
    clearError(row, lineId);
    fetch(form.getAttribute("data-count-json"), {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (type.indexOf("application/json") === -1) {
          throw new Error("not a JSON answer");
        }
        return response.json().then(function (body) {
          return { ok: response.ok, body: body };
        });
      })
      .then(function (result) {
        if (!result.ok) {
          if (button) {
            button.disabled = false;
          }
          showError(row, lineId, result.body.message || "", result.body.field);
          return;
        }
        var holder = document.createElement("tbody");
        holder.innerHTML = result.body.row_html;
        var fresh = holder.firstElementChild;
        row.replaceWith(fresh);
        var totals = document.getElementById("stocktake-totals");
        if (totals && result.body.totals_html) {
          totals.innerHTML = result.body.totals_html;
        }
        if (status) {
          status.textContent = result.body.message || "";
        }
        focusAfter(fresh);
      })
      .catch(function () {
        form.submit(); // the plain post: the page reloads, but the count is not lost
      });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("form[data-count-json]") || event.defaultPrevented) {
      return;
    }
    event.preventDefault();
    saveLine(form);
  });

  // After a plain post the page comes back at the saved line (#line-N): go on typing.
  var match = /^#line-(\d+)$/.exec(window.location.hash);
  var saved = match && document.getElementById("line-" + match[1]);
  if (saved) {
    saved.classList.add("table-success");
    focusAfter(saved);
    saved.scrollIntoView({ block: "center" });
  }

  // --- the location and category trees -----------------------------------------------------
  function children(node) {
    var list = node.closest("li");
    return list ? list.querySelectorAll(":scope > ul input[type=checkbox], :scope > details input[type=checkbox]") : [];
  }

  function refreshBranch(box) {
    // a parent is checked when all its children are, indeterminate when some are
    var kids = Array.prototype.filter.call(children(box), function (kid) {
      return kid !== box;
    });
    if (!kids.length) {
      return;
    }
    var on = kids.filter(function (kid) {
      return kid.checked;
    }).length;
    box.checked = on === kids.length;
    box.indeterminate = on > 0 && on < kids.length;
  }

  function hasCheckedParent(box, tree) {
    var li = box.closest("li");
    var up = li && li.parentElement && li.parentElement.closest("li");
    while (up && tree.contains(up)) {
      var own = up.querySelector("input[type=checkbox]");
      if (own && own.checked) {
        return true;
      }
      up = up.parentElement && up.parentElement.closest("li");
    }
    return false;
  }

  function refreshTree(tree) {
    var boxes = Array.prototype.slice.call(tree.querySelectorAll("input[type=checkbox]"));
    boxes.reverse().forEach(refreshBranch); // deepest first
    var counter = document.getElementById(tree.getAttribute("data-counter"));
    if (!counter) {
      return;
    }
    var chosen = Array.prototype.filter.call(
      tree.querySelectorAll("input[data-leaf]:checked"),
      function (box) {
        return tree.getAttribute("data-tree") !== "tops" || !hasCheckedParent(box, tree);
      }
    );
    var stocked = 0;
    chosen.forEach(function (box) {
      stocked += parseInt(box.getAttribute("data-stocked") || "0", 10);
    });
    var root = tree.querySelector("input[type=checkbox]");
    var text = root && root.checked && tree.getAttribute("data-tree") === "tops"
      ? counter.getAttribute("data-all")
      : counter.getAttribute("data-template");
    counter.textContent = (text || "{n}")
      .replace("{n}", String(chosen.length))
      .replace("{stocked}", String(stocked));
  }

  function checkBranch(box) {
    children(box).forEach(function (kid) {
      kid.checked = box.checked;
      kid.indeterminate = false;
    });
  }

  document.querySelectorAll("[data-tree]").forEach(function (tree) {
    tree.addEventListener("change", function (event) {
      if (event.target.type === "checkbox") {
        checkBranch(event.target);
        refreshTree(tree);
      }
    });
    // a ticked branch (the page sent back with an error) ticks what is under it, then up
    tree.querySelectorAll("input[type=checkbox]:checked").forEach(checkBranch);
    refreshTree(tree);
    // A ticked branch is sent as itself, not as every box under it (a warehouse of thousands
    // of locations stays one field); the server counts what is under it just the same.
    var form = tree.closest("form");
    if (form) {
      form.addEventListener("submit", function () {
        tree.querySelectorAll("input[type=checkbox]:checked").forEach(function (box) {
          children(box).forEach(function (kid) {
            if (kid !== box) {
              kid.disabled = true;
            }
          });
        });
      });
    }
  });
  // back to the page from the history: the boxes are usable again
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("[data-tree] input:disabled").forEach(function (box) {
      box.disabled = false;
    });
  });
})();
