// "Pick for order" on the scan page (allocation orders, the floor): registered through
// ReserveScan.registerAction. The server lists "pick" for stock an open order plans to take
// here; this asks which order source the scanned stock is for, and records the pick (online
// only: a pick claims reserved stock, so it is not queued). Another batch or location than the
// pick list's is a substitute: it needs a reason, which the server checks.
(function () {
  "use strict";

  var box = document.getElementById("scan-pick");
  if (!box || !window.ReserveScan) {
    return;
  }
  var T = JSON.parse(box.getAttribute("data-messages"));
  var url = box.getAttribute("data-url");
  var $ = function (id) {
    return document.getElementById(id);
  };
  var form = $("pick-form");
  var state = null; // {text, target, answer}

  function say(text, kind) {
    var message = $("scan-message");
    message.className = "alert mt-3 alert-" + kind;
    message.textContent = text;
    message.hidden = !text;
  }

  function option(source) {
    var el = document.createElement("option");
    el.value = String(source.source_id);
    el.textContent =
      source.order_no + " · " + source.location_code + " · " + source.batch_no + " · " + T.left + " " + source.to_pick;
    return el;
  }

  function chosen() {
    var id = Number($("pick-source").value);
    return state.answer.sources.filter(function (s) {
      return s.source_id === id;
    })[0];
  }

  function refresh() {
    var source = chosen();
    var substitute = source && (source.batch_id !== state.answer.batch_id || source.location_id !== state.answer.location_id);
    $("pick-reason-box").hidden = !substitute;
    $("pick-plan").textContent = source ? T.plan + " " + source.location_code + " · " + source.batch_no : "";
    if (source && !state.answer.serial_no) {
      $("pick-qty").value = String(Math.min(source.to_pick, state.target.qty || source.to_pick));
    }
  }

  function open(target, text) {
    return fetch(url + "?code=" + encodeURIComponent(text), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) {
            throw new Error(body.message || T.failed);
          }
          return body;
        });
      })
      .then(function (answer) {
        if (!answer.sources.length) {
          say(T.none, "warning");
          return;
        }
        state = { text: text, target: target, answer: answer };
        var select = $("pick-source");
        select.textContent = "";
        answer.sources.forEach(function (s) {
          select.appendChild(option(s));
        });
        $("pick-what").textContent = (target.material_name || "") + " · " + (target.batch_no || "");
        $("pick-qty").value = answer.serial_no ? "1" : "";
        $("pick-qty").readOnly = Boolean(answer.serial_no);
        $("pick-reason").value = "";
        refresh();
        document.getElementById("move-form").hidden = true;
        document.getElementById("count-form").hidden = true;
        form.hidden = false;
        $("pick-qty").focus();
      })
      .catch(function (error) {
        say(error.message, "danger");
      });
  }

  $("pick-source").addEventListener("change", refresh);
  $("pick-cancel").addEventListener("click", function () {
    form.hidden = true;
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var source = chosen();
    var data = new URLSearchParams();
    data.set("csrf_token", $("scan-csrf").value);
    data.set("source_id", String(source.source_id));
    data.set("location_id", String(state.answer.location_id));
    data.set("batch_id", String(state.answer.batch_id));
    data.set("qty", $("pick-qty").value);
    data.set("serial_nos", state.answer.serial_no || "");
    data.set("substitute_reason", $("pick-reason").value);
    data.set("code", state.target.code || "");
    fetch(url, {
      method: "POST",
      body: data,
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) {
            throw new Error(body.message || T.failed);
          }
          return body;
        });
      })
      .then(function (body) {
        form.hidden = true;
        say(T.picked.replace("%(qty)s", body.qty).replace("%(order)s", source.order_no), "success");
        $("scan-input").value = "";
        $("scan-input").focus();
      })
      .catch(function (error) {
        say(error.message, "danger");
      });
  });

  window.ReserveScan.registerAction("pick", { label: T.pick, run: open });
})();
