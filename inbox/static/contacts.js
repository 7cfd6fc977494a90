// Contacts and appointments pages: ask before a form that cannot be undone is sent.
// The question comes from a data-confirm attribute (escaped by the template) and is shown
// as plain text by window.confirm; the server checks everything again.
(function () {
  "use strict";

  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
})();
