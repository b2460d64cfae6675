// Reserve: page behaviour without inline script (strict CSP).
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
document.addEventListener("change", function (event) {
  var el = event.target;
  if (el.matches("[data-autosubmit]")) {
    el.form.submit();
  }
});
// A select marked data-refresh reloads the page with the form's current values as GET
// parameters, so the server can narrow the next choices (warehouse → material → batch).
document.addEventListener("change", function (event) {
  var el = event.target;
  if (!el.matches("[data-refresh]")) {
    return;
  }
  var params = new URLSearchParams();
  new FormData(el.form).forEach(function (value, key) {
    if (key !== "csrf_token" && value !== "") {
      params.append(key, value);
    }
  });
  window.location.assign(window.location.pathname + "?" + params.toString());
});
