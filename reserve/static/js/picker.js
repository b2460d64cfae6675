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
    var chosen = select.value;
    var picker = new window.TomSelect(select, {
      valueField: "value",
      labelField: "text",
      searchField: [],
      maxOptions: 20,
      loadThrottle: 250,
      allowEmptyOption: true,
      placeholder: select.getAttribute("data-picker-placeholder") || "",
      // The server matches pinyin initials and specs, which the labels do not show: keep
      // every option it sends instead of filtering them again here.
      score: function () {
        return function () {
          return 1;
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
            picker.clearOptions();
            callback(
              body.items.map(function (item) {
                return { value: String(item.id), text: item.text };
              })
            );
          })
          .catch(function () {
            callback();
          });
      },
      render: {
        no_results: function () {
          return '<div class="no-results">' + (select.getAttribute("data-picker-none") || "—") + "</div>";
        },
      },
    });
    // Keep only what is chosen: the server answers every search.
    Object.keys(picker.options).forEach(function (value) {
      if (value !== chosen) {
        picker.removeOption(value);
      }
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
