// The scan page's offline queue (no inline script: CSP). Every move and count is written to
// IndexedDB (vendored `idb`) under its client operation id *before* it is sent, and leaves the
// queue only when the server has answered for it: applied (or applied before: a replay) is done,
// a refusal (409/422/403) stays as a conflict for the keeper to retry or discard, and anything
// else (no network, a 5xx, signed out) stays pending and is sent again. The server applies each
// operation id at most once, so sending twice (two tabs, a lost answer) is harmless.
// One database per user: a shared PDA never sends one keeper's queue as another.
(function () {
  "use strict";

  var STORE = "operations";

  function ScanQueue(userId) {
    this.dbPromise = window.idb.openDB("reserve-scan-" + userId, 1, {
      upgrade: function (db) {
        var store = db.createObjectStore(STORE, { keyPath: "operation_id" });
        store.createIndex("created_at", "created_at");
      },
    });
  }

  ScanQueue.prototype.add = function (kind, fields, summary) {
    var op = {
      operation_id: window.crypto.randomUUID(),
      kind: kind,
      fields: fields,
      summary: summary,
      state: "pending",
      message: "",
      details: null,
      created_at: Date.now(),
    };
    return this.dbPromise
      .then(function (db) {
        return db.put(STORE, op);
      })
      .then(function () {
        return op;
      });
  };

  ScanQueue.prototype.all = function () {
    return this.dbPromise.then(function (db) {
      return db.getAllFromIndex(STORE, "created_at");
    });
  };

  ScanQueue.prototype.put = function (op) {
    return this.dbPromise.then(function (db) {
      return db.put(STORE, op);
    });
  };

  ScanQueue.prototype.remove = function (operationId) {
    return this.dbPromise.then(function (db) {
      return db.delete(STORE, operationId);
    });
  };

  // Send one operation; resolves to {state: "done"|"conflict"|"pending"|"signed-out", ...}.
  // It never rejects: what cannot be sent now stays queued.
  ScanQueue.prototype.send = function (op, url, csrfToken) {
    var body = new FormData();
    body.append("csrf_token", csrfToken);
    body.append("operation_id", op.operation_id);
    Object.keys(op.fields).forEach(function (name) {
      var value = op.fields[name];
      if (value !== null && value !== undefined) {
        body.append(name, String(value));
      }
    });
    return fetch(url, {
      method: "POST",
      body: body,
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      redirect: "manual",
    })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (response.type === "opaqueredirect" || response.status === 401) {
          return { state: "signed-out" };
        }
        if (type.indexOf("application/json") === -1) {
          return { state: "pending", message: "" };
        }
        return response.json().then(function (answer) {
          if (response.ok) {
            return { state: "done", body: answer };
          }
          if (response.status >= 500 || answer.error === "idempotency_in_progress") {
            return { state: "pending", message: answer.message || "" };
          }
          return {
            state: "conflict",
            status: response.status,
            error: answer.error,
            field: answer.field || null,
            message: answer.message || "",
            details: answer.details || null,
          };
        });
      })
      .catch(function () {
        return { state: "pending", message: "", offline: true };
      });
  };

  window.ReserveScanQueue = ScanQueue;
})();
