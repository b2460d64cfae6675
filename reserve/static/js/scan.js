// The scan page (no inline script: CSP). One input takes the keyboard-wedge scanner (a burst
// of keystrokes ending in Enter is one scan), typing, and the camera's reading; the answer
// shows what the label names and the actions this user may do now (the server's list:
// view, move, count — others, such as "pick", come through ReserveScan.registerAction).
// Moves and counts go through the offline queue (scan-queue.js): queued first, then sent.
(function () {
  "use strict";

  var app = document.getElementById("scan-app");
  if (!app) {
    return;
  }
  var T = JSON.parse(app.getAttribute("data-messages"));
  var mayWrite = app.getAttribute("data-may-write") === "1";
  var urls = {
    resolve: app.getAttribute("data-resolve-url"),
    move: app.getAttribute("data-move-url"),
    count: app.getAttribute("data-count-url"),
  };
  var $ = function (id) {
    return document.getElementById(id);
  };
  var input = $("scan-input");
  var moveForm = $("move-form");
  var countForm = $("count-form");
  var queue = new window.ReserveScanQueue(app.getAttribute("data-user"));
  var current = null; // {text, target (null when it could not be looked up), source}
  var extraActions = {}; // name -> {label, run(target, text)}: the orders issue adds "pick"
  var replaying = false;
  var keyTimes = [];

  function fmt(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_m, name) {
      return values[name] === undefined || values[name] === null ? "" : String(values[name]);
    });
  }

  function csrf() {
    return $("scan-csrf").value;
  }

  // --- feedback: a beep (Web Audio, no files) and a vibration --------------------------------
  var audio = null;
  function tone(frequency, start, length) {
    var oscillator = audio.createOscillator();
    var gain = audio.createGain();
    oscillator.frequency.value = frequency;
    oscillator.type = "square";
    gain.gain.value = 0.08;
    oscillator.connect(gain);
    gain.connect(audio.destination);
    oscillator.start(audio.currentTime + start);
    oscillator.stop(audio.currentTime + start + length);
  }
  function feedback(ok) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (ok) {
        tone(1200, 0, 0.09);
      } else {
        tone(300, 0, 0.15);
        tone(220, 0.2, 0.25);
      }
    } catch (e) {
      /* no audio here: the message and the colour still say it */
    }
    if (navigator.vibrate) {
      navigator.vibrate(ok ? 60 : [150, 80, 150]);
    }
  }

  function showMessage(text, kind) {
    var box = $("scan-message");
    box.className = "alert mt-3 alert-" + kind;
    box.textContent = text;
    box.hidden = !text;
  }

  function addRecent(text, ok) {
    var list = $("recent-list");
    var item = document.createElement("li");
    item.className = ok ? "scan-ok" : "scan-bad";
    var time = new Date().toLocaleTimeString();
    item.textContent = time + " · " + text;
    list.insertBefore(item, list.firstChild);
    while (list.children.length > 20) {
      list.removeChild(list.lastChild);
    }
  }

  function refocus() {
    var field = !moveForm.hidden ? ($("move-to").value ? $("move-qty") : $("move-to")) : null;
    field = field || (!countForm.hidden ? $("count-qty") : input);
    if (field === input && keyTimes.length) {
      return; // the next scan is arriving: an answer to the last one must not select it away
    }
    field.focus({ preventScroll: true });
    if (field === input) {
      input.select();
    }
  }

  // --- the network -----------------------------------------------------------------------
  function setNetwork() {
    var online = navigator.onLine;
    $("scan-offline").hidden = online;
    var badge = $("scan-network-badge");
    badge.textContent = online ? T.badgeOnline : T.badgeOffline;
    badge.className = "badge " + (online ? "text-bg-success" : "text-bg-warning");
  }

  // --- looking a code up -------------------------------------------------------------------
  function lookup(text, source) {
    text = (text || "").trim();
    hideForms();
    if (!text) {
      showMessage(T.empty, "danger");
      feedback(false);
      return Promise.resolve();
    }
    if (!navigator.onLine) {
      showUnresolved(text, source);
      return Promise.resolve();
    }
    showMessage(T.looking, "secondary");
    return fetch(urls.resolve + "?code=" + encodeURIComponent(text), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      redirect: "manual",
    })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (response.type === "opaqueredirect") {
          throw new Error("signed-out");
        }
        if (type.indexOf("application/json") === -1) {
          throw new Error("not json");
        }
        return response.json().then(function (body) {
          if (!response.ok) {
            current = null;
            $("scan-result").hidden = true;
            showMessage(body.message, "danger");
            feedback(false);
            addRecent(text.slice(0, 40) + " — " + body.message, false);
            return;
          }
          showTarget(text, body, source);
        });
      })
      .catch(function (error) {
        if (error && error.message === "signed-out") {
          showMessage(T.signedOut, "warning");
          feedback(false);
          return;
        }
        showUnresolved(text, source); // the network dropped: the code can still be queued
      });
  }

  function fact(list, name, value) {
    if (value === null || value === undefined || value === "") {
      return;
    }
    var dt = document.createElement("dt");
    dt.textContent = name;
    var dd = document.createElement("dd");
    dd.textContent = value;
    list.appendChild(dt);
    list.appendChild(dd);
  }

  function describe(target) {
    if (target.kind === "location") {
      return T.kindLocation + " " + target.location.code;
    }
    var what = target.material.name + (target.material.spec ? " " + target.material.spec : "");
    return what + " · " + (target.kind === "item" ? target.item.serial_no : target.batch.batch_no);
  }

  function showTarget(text, target, source) {
    current = { text: text, target: target, source: source };
    var unit = target.material ? target.material.unit : "";
    $("result-title").textContent = describe(target);
    var facts = $("result-facts");
    facts.textContent = "";
    fact(facts, T.warehouse, target.warehouse.code + " " + target.warehouse.name);
    fact(facts, T.location, target.location && target.location.code);
    // a carton label whose own location is empty, resolved to where its batch is now
    fact(facts, T.labelledAt, target.labelled_location_code);
    if (target.material) {
      fact(facts, T.material, target.material.code + " " + target.material.name);
    }
    if (target.batch) {
      fact(facts, T.batch, target.batch.batch_no);
      fact(facts, T.expiry, target.batch.expiry_date);
    }
    if (target.item) {
      fact(facts, T.serial, target.item.serial_no);
      fact(facts, T.status, target.item.status);
    }
    if (target.qty !== null && target.qty !== undefined) {
      fact(facts, T.onHand, target.qty + " " + unit);
    }
    if (target.available !== null && target.available !== undefined) {
      fact(facts, T.available, target.available + " " + unit);
    }
    if (target.stocktake) {
      fact(facts, T.stocktake, target.stocktake.no);
      fact(
        facts,
        T.countedSoFar,
        target.stocktake.counted_qty === null ? T.notCounted : target.stocktake.counted_qty + " " + unit
      );
    }
    renderActions(target.actions, target);
    $("scan-result").hidden = false;
    showMessage("", "secondary");
    feedback(true);
    addRecent(describe(target) + " (" + T[source] + ")", true);
  }

  function showUnresolved(text, source) {
    current = { text: text, target: null, source: source };
    $("result-title").textContent = text.slice(0, 60);
    $("result-facts").textContent = "";
    renderActions(mayWrite ? ["move", "count"] : [], null);
    $("scan-result").hidden = false;
    showMessage(T.unresolvedOffline, "warning");
    addRecent(text.slice(0, 40) + " (" + T[source] + ")", true);
  }

  function actionButton(name, label, run) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-lg " + (name === "view" ? "btn-outline-primary" : "btn-primary");
    button.id = "action-" + name;
    button.textContent = label;
    button.addEventListener("click", run);
    return button;
  }

  function renderActions(actions, target) {
    var box = $("result-actions");
    box.textContent = "";
    actions.forEach(function (name) {
      if (name === "view" && target) {
        var link = document.createElement("a");
        link.className = "btn btn-lg btn-outline-primary";
        link.id = "action-view";
        link.href = target.url;
        link.textContent = T.view;
        box.appendChild(link);
      } else if (name === "move") {
        box.appendChild(actionButton("move", T.move, openMove));
      } else if (name === "count") {
        box.appendChild(actionButton("count", T.count, openCount));
      } else if (extraActions[name]) {
        box.appendChild(
          actionButton(name, extraActions[name].label, function () {
            extraActions[name].run(target, current.text);
          })
        );
      }
    });
    if (!box.children.length || (actions.length === 1 && actions[0] === "view")) {
      var note = document.createElement("p");
      note.className = "small text-muted m-0";
      note.textContent = T.noActions;
      box.appendChild(note);
    }
  }

  // --- move and count ------------------------------------------------------------------------
  function hideForms() {
    moveForm.hidden = true;
    countForm.hidden = true;
  }

  function what() {
    return current.target ? describe(current.target) : current.text.slice(0, 40);
  }

  function openMove() {
    hideForms();
    var target = current.target;
    $("move-what").textContent = what();
    $("move-unit").textContent = target && target.material ? "(" + target.material.unit + ")" : "";
    $("move-to").value = "";
    $("move-qty").value = target && target.kind === "item" ? "1" : "";
    moveForm.hidden = false;
    $("move-to").focus();
  }

  function openCount() {
    hideForms();
    var target = current.target;
    $("count-what").textContent = what();
    $("count-unit").textContent = target && target.material ? "(" + target.material.unit + ")" : "";
    $("count-where").textContent = target && target.stocktake ? T.stocktake + " " + target.stocktake.no : "";
    $("count-qty").value = target && target.kind === "item" ? "1" : "";
    countForm.hidden = false;
    $("count-qty").focus();
  }

  $("move-to").addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      // a wedge scan of the location label ends in Enter: on to the quantity
      event.preventDefault();
      $("move-qty").focus();
      $("move-qty").select();
    }
  });

  // A scan that arrives while a quantity has focus is a new scan, not a quantity: a label's
  // code or URL has letters. The digits the burst already put in the field are taken back.
  function guardQuantity(field) {
    var burst = [];
    var before = "";
    field.addEventListener("keydown", function (event) {
      if (event.key.length !== 1 || event.ctrlKey || event.metaKey || event.altKey) {
        return;
      }
      var last = burst.length ? burst[burst.length - 1].at : -Infinity;
      if (event.timeStamp - last > 60) {
        burst = [];
        before = field.value;
      }
      burst.push({ key: event.key, at: event.timeStamp });
      if (/[A-Za-z:/]/.test(event.key)) {
        event.preventDefault();
        var typed = burst
          .map(function (k) {
            return k.key;
          })
          .join("");
        field.value = before;
        burst = [];
        hideForms();
        input.value = typed;
        keyTimes = [event.timeStamp - 1, event.timeStamp]; // it came as a burst
        input.focus();
      }
    });
  }
  guardQuantity($("move-qty"));
  guardQuantity($("count-qty"));

  moveForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var to = $("move-to").value.trim();
    var qty = $("move-qty").value.trim();
    var fields = { code: current.text, to: to, qty: qty };
    if (current.target && current.target.location_code) {
      fields.seen_at = current.target.location_code; // a move made meanwhile is a conflict
    }
    var summary = fmt(T.moveOf, { qty: qty, code: what(), to: to.slice(0, 30) });
    hideForms();
    enqueue("move", fields, summary);
  });

  countForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var qty = $("count-qty").value.trim();
    var target = current.target;
    var stocktake = target && target.stocktake;
    var fields = {
      code: current.text,
      counted_qty: qty,
      stocktake_id: stocktake ? stocktake.id : null,
      // what the keeper saw counted: a count recorded since comes back as a conflict
      replaces: stocktake && stocktake.counted_qty !== null ? String(stocktake.counted_qty) : "none",
    };
    var summary = fmt(T.countOf, { qty: qty, code: what() });
    hideForms();
    enqueue("count", fields, summary);
  });

  $("move-cancel").addEventListener("click", function () {
    hideForms();
    refocus();
  });
  $("count-cancel").addEventListener("click", function () {
    hideForms();
    refocus();
  });

  // --- the queue -----------------------------------------------------------------------------
  function enqueue(kind, fields, summary) {
    return queue.add(kind, fields, summary).then(function (op) {
      renderQueue();
      if (!navigator.onLine) {
        showMessage(T.queued, "warning");
        feedback(true);
        addRecent(summary + " — " + T.queued, true);
        refocus();
        return;
      }
      showMessage(T.sending, "secondary");
      return sendOne(op, true).then(refocus);
    });
  }

  // ``immediate``: sent as the keeper confirmed it, online. A refusal then is shown at once and
  // the form comes back with what was entered (the keeper is right here to correct it); a
  // refusal of a replay from the queue stays in the queue as a conflict to retry or discard.
  function sendOne(op, immediate) {
    return queue.send(op, op.kind === "move" ? urls.move : urls.count, csrf()).then(function (outcome) {
      if (immediate && outcome.state === "conflict" && current && current.text === op.fields.code) {
        return queue.remove(op.operation_id).then(function () {
          showMessage(outcome.message, "danger");
          feedback(false);
          addRecent(op.summary + " — " + outcome.message, false);
          renderQueue();
          var stocktake = current.target && current.target.stocktake;
          if (stocktake && outcome.details && "counted_qty" in outcome.details) {
            stocktake.counted_qty = outcome.details.counted_qty; // what is there now
          }
          reopen(op);
        });
      }
      return settle(op, outcome);
    });
  }

  function reopen(op) {
    if (op.kind === "move") {
      openMove();
      $("move-to").value = op.fields.to;
      $("move-qty").value = op.fields.qty;
      $("move-qty").focus();
      $("move-qty").select();
    } else {
      openCount();
      $("count-qty").value = op.fields.counted_qty;
      $("count-qty").select();
    }
  }

  function settle(op, outcome) {
    if (outcome.state === "done") {
      return queue.remove(op.operation_id).then(function () {
        showMessage(outcome.body.message, "success");
        feedback(true);
        addRecent(outcome.body.message, true);
        renderQueue();
        if (current && current.target && op.fields.code === current.text) {
          lookupQuietly(current.text);
        }
      });
    }
    if (outcome.state === "conflict") {
      op.state = "conflict";
      op.message = outcome.message;
      op.details = outcome.details;
      return queue.put(op).then(function () {
        showMessage(outcome.message, "danger");
        feedback(false);
        addRecent(op.summary + " — " + outcome.message, false);
        renderQueue();
      });
    }
    if (outcome.state === "signed-out") {
      showMessage(T.signedOut, "warning");
    } else if (outcome.offline) {
      showMessage(T.queued, "warning");
    } else {
      showMessage(outcome.message || T.serverBusy, "warning");
    }
    renderQueue();
    return Promise.resolve();
  }

  // After a move or count, show the thing as it is now (its quantity, its count).
  function lookupQuietly(text) {
    fetch(urls.resolve + "?code=" + encodeURIComponent(text), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (target) {
        if (target && current && current.text === text) {
          current.target = target;
          var message = $("scan-message").textContent;
          var kind = $("scan-message").className;
          showTarget(text, target, current.source);
          $("scan-message").className = kind;
          $("scan-message").textContent = message;
          $("scan-message").hidden = !message;
          $("recent-list").removeChild($("recent-list").firstChild);
        }
      })
      .catch(function () {});
  }

  function replay() {
    if (replaying || !navigator.onLine) {
      return Promise.resolve();
    }
    replaying = true;
    return queue
      .all()
      .then(function (ops) {
        var pending = ops.filter(function (op) {
          return op.state === "pending";
        });
        return pending.reduce(function (chain, op) {
          return chain.then(function () {
            return sendOne(op);
          });
        }, Promise.resolve());
      })
      .then(
        function () {
          replaying = false;
        },
        function () {
          replaying = false;
        }
      );
  }

  function retry(op) {
    if (op.kind === "count" && op.details && "counted_qty" in op.details) {
      // the keeper saw what was counted meanwhile and chose to replace it
      op.fields.replaces = op.details.counted_qty === null ? "none" : String(op.details.counted_qty);
    }
    op.state = "pending";
    op.message = "";
    op.details = null;
    return queue.put(op).then(function () {
      renderQueue();
      return navigator.onLine ? sendOne(op) : null;
    });
  }

  function renderQueue() {
    return queue.all().then(function (ops) {
      var list = $("queue-list");
      list.textContent = "";
      $("queue-count").textContent = String(ops.length);
      $("queue-empty").hidden = ops.length > 0;
      ops.forEach(function (op) {
        var item = document.createElement("li");
        item.className = "scan-queue-item" + (op.state === "conflict" ? " scan-queue-conflict" : "");
        item.setAttribute("data-operation-id", op.operation_id);
        item.setAttribute("data-state", op.state);
        var title = document.createElement("div");
        title.textContent = op.summary;
        var state = document.createElement("div");
        state.className = "small";
        state.textContent = (op.state === "conflict" ? T.conflict : T.pending) + (op.message ? ": " + op.message : "");
        item.appendChild(title);
        item.appendChild(state);
        if (op.state === "conflict") {
          var row = document.createElement("div");
          row.className = "scan-row mt-1";
          var again = document.createElement("button");
          again.type = "button";
          again.className = "btn btn-outline-primary queue-retry";
          again.textContent = T.retry;
          again.addEventListener("click", function () {
            retry(op);
          });
          var drop = document.createElement("button");
          drop.type = "button";
          drop.className = "btn btn-outline-danger queue-discard";
          drop.textContent = T.discard;
          drop.addEventListener("click", function () {
            if (window.confirm(T.discardConfirm)) {
              queue.remove(op.operation_id).then(renderQueue);
            }
          });
          row.appendChild(again);
          row.appendChild(drop);
          item.appendChild(row);
        }
        list.appendChild(item);
      });
    });
  }

  // --- input: the wedge scanner, typing, the camera --------------------------------------------
  input.addEventListener("keydown", function (event) {
    if (event.key !== "Enter") {
      keyTimes.push(event.timeStamp);
    }
  });
  $("scan-form").addEventListener("submit", function (event) {
    event.preventDefault();
    // a wedge types a whole code in a burst: under ~40 ms a key on average
    var gaps = keyTimes.length > 3 ? (keyTimes[keyTimes.length - 1] - keyTimes[0]) / (keyTimes.length - 1) : 999;
    keyTimes = [];
    lookup(input.value, gaps < 40 ? "scanner" : "typed").then(refocus);
  });

  // The input keeps focus: a scan that arrives while nothing takes text goes to the input.
  document.addEventListener(
    "keydown",
    function (event) {
      var el = event.target;
      var takesText = el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT");
      if (takesText || event.ctrlKey || event.metaKey || event.altKey || event.key.length !== 1) {
        return;
      }
      if (moveForm.hidden && countForm.hidden) {
        input.value = "";
        input.focus();
      }
    },
    true
  );

  var camera = new window.ReserveScanCamera({
    video: $("camera-video"),
    wasmUrl: app.getAttribute("data-wasm-url"),
    onCode: function (text) {
      $("camera-box").hidden = true;
      $("camera-stop").hidden = true;
      $("camera-start").hidden = false;
      $("camera-status").textContent = "";
      input.value = text;
      lookup(text, "camera").then(refocus);
    },
  });
  var reason = window.ReserveScanCamera.unavailableReason();
  if (reason) {
    $("camera-status").textContent = T[reason];
    $("camera-start").disabled = true;
  }
  $("camera-start").addEventListener("click", function () {
    $("camera-box").hidden = false;
    camera.start().then(function (why) {
      if (why) {
        $("camera-box").hidden = true;
        $("camera-status").textContent = T[why];
        return;
      }
      $("camera-status").textContent = T.cameraOn;
      $("camera-start").hidden = true;
      $("camera-stop").hidden = false;
    });
  });
  $("camera-stop").addEventListener("click", function () {
    camera.stop();
    $("camera-box").hidden = true;
    $("camera-stop").hidden = true;
    $("camera-start").hidden = false;
    $("camera-status").textContent = "";
    refocus();
  });

  $("queue-send").addEventListener("click", function () {
    replay();
  });
  window.addEventListener("online", function () {
    setNetwork();
    showMessage(T.online, "success");
    replay();
  });
  window.addEventListener("offline", function () {
    setNetwork();
    showMessage(T.offline, "warning");
  });

  // The extension point: another feature adds an action the server may list for a target.
  window.ReserveScan = {
    registerAction: function (name, action) {
      extraActions[name] = action;
    },
    replay: replay,
    queue: queue,
  };

  setNetwork();
  renderQueue().then(replay);
  // what could not be sent (the server busy, the Wi-Fi flaky but "online") is tried again
  window.setInterval(replay, 30000);
})();
