// wiretrace viewer: small enhancements only; every page works without script.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // Check form: say that the check is running (it can take a few seconds).
  var form = document.querySelector("form.check-form");
  if (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      if (button) { button.disabled = true; button.textContent = "Checking\u2026"; }
    });
  }
  // Patchwork: hide or show boilerplate.
  var toggle = document.getElementById("hide-boiler");
  if (toggle) {
    toggle.addEventListener("change", function () {
      document.body.classList.toggle("no-boiler", toggle.checked);
    });
  }
  // Side by side: light up the whole row of the passage under the pointer.
  document.querySelectorAll("tr.passage").forEach(function (row) {
    row.addEventListener("mouseenter", function () { row.classList.add("hover"); });
    row.addEventListener("mouseleave", function () { row.classList.remove("hover"); });
  });
});
