// Team and template pages: confirm destructive forms, copy an invite link.
// Loaded as a file (the CSP forbids inline scripts and handlers); the forms work without it.
(function () {
  "use strict";

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });

  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var input = document.getElementById(button.dataset.copy);
      if (!input) return;
      var done = function () { button.textContent = "Copied"; };
      input.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(done, function () {
          button.textContent = "Press Ctrl+C to copy";
        });
      } else {
        button.textContent = document.execCommand("copy") ? "Copied" : "Press Ctrl+C to copy";
      }
    });
  });
})();
