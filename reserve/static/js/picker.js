// The material picker: a <select data-picker="material"> becomes a search box (tom-select)
// that asks the server for at most 20 materials matching name, code, spec or pinyin initials
// (zp finds 帐篷). Without JavaScript the plain select, with every option, stays usable.
// The search address is data-picker-url; data-picker-warehouse (a warehouse id, or the id
// of a select holding one, prefixed "#") limits it to the materials that warehouse holds.
(function () {
  "use strict";
  if (typeof window.TomSelect !== "function") {
    return;
  }

  function warehouseOf(select) {
    var scope = select.getAttribute("data-picker-warehouse") || "";
    if (scope.charAt(0) === "#") {
      var source = document.getElementById(scope.slice(1));
      return source ? source.value : "";
    }
    return scope;
  }

  function attach(select) {
    if (select.tomselect) {
      return;
    }
    // A row cloned with its picker (the receipt's "add line") carries a dead copy: drop it.
    var sibling = select.nextElementSibling;
    if (sibling && sibling.classList.contains("ts-wrapper")) {
      sibling.remove();
    }
    select.classList.remove("tomselected", "ts-hidden-accessible");
    select.removeAttribute("tabindex");
    select.removeAttribute("hidden");

    var url = select.getAttribute("data-picker-url");
    var found = {}; // query -> {id: true}: what the server matched (pinyin, spec …)
    var picker = new window.TomSelect(select, {
      valueField: "value",
      labelField: "text",
      searchField: ["text"],
      maxOptions: 20,
      loadThrottle: 250,
      allowEmptyOption: true,
      placeholder: select.getAttribute("data-picker-placeholder") || "",
      // The select's own options (the page without JavaScript has them all) match on their
      // label; what the server found matches too, though its label does not show the pinyin.
      score: function (query) {
        var terms = query.toLowerCase().split(/\s+/).filter(Boolean);
        var remote = found[query] || {};
        return function (item) {
          if (remote[item.value]) {
            return 2;
          }
          var text = String(item.text).toLowerCase();
          return terms.every(function (term) {
            return text.indexOf(term) >= 0;
          })
            ? 1
            : 0;
        };
      },
      shouldLoad: function (query) {
        return query.length > 0;
      },
      load: function (query, callback) {
        var params = new URLSearchParams({ q: query });
        var warehouse = warehouseOf(select);
        if (warehouse) {
          params.set("warehouse_id", warehouse);
        }
        fetch(url + "?" + params.toString(), {
          credentials: "same-origin",
          headers: { Accept: "application/json" },
        })
          .then(function (response) {
            return response.ok ? response.json() : { items: [] };
          })
          .then(function (body) {
            var items = body.items.map(function (item) {
              return { value: String(item.id), text: item.text };
            });
            found[query] = {};
            items.forEach(function (item) {
              found[query][item.value] = true;
            });
            // Options the select already had are not "new" to tom-select, which would keep its
            // results for this query from before the answer: have it search again.
            picker.isDropdownContentStale = true;
            callback(items);
          })
          .catch(function () {
            callback();
          });
      },
      render: {
        no_results: function () {
          var none = document.createElement("div");
          none.className = "no-results";
          none.textContent = select.getAttribute("data-picker-none") || "—";
          return none;
        },
      },
    });
    if (select.classList.contains("is-invalid")) {
      picker.wrapper.classList.add("is-invalid");
    }
  }

  function attachAll(root) {
    root.querySelectorAll("select[data-picker='material']").forEach(attach);
  }

  attachAll(document);
  // Lines added later (the receipt form clones its last row) get a picker too.
  new MutationObserver(function (mutations) {
    mutations.forEach(function (mutation) {
      mutation.addedNodes.forEach(function (node) {
        if (node.nodeType === 1) {
          attachAll(node);
        }
      });
    });
  }).observe(document.body, { childList: true, subtree: true });
})();
