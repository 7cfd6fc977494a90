// Widget settings: copy the install snippets, count characters against the limits, and
// keep the small preview in step with the form. Text goes in with textContent, colours
// through the CSSOM (allowed by the page's strict CSP).
(function () {
  "use strict";

  const $ = (sel) => document.querySelector(sel);

  // -- copy buttons --------------------------------------------------------------------

  document.querySelectorAll("button[data-copy]").forEach((button) => {
    button.addEventListener("click", async () => {
      const box = document.getElementById(button.dataset.copy);
      let copied = false;
      try {
        await navigator.clipboard.writeText(box.value);
        copied = true;
      } catch (err) {
        box.select(); // no clipboard API (plain http): the older command, or the keyboard
        copied = document.execCommand("copy");
      }
      button.textContent = copied ? "Copied" : "Press Ctrl+C to copy";
      setTimeout(() => { button.textContent = "Copy"; }, 2500);
    });
  });

  // -- character counters --------------------------------------------------------------

  document.querySelectorAll("[data-limit]").forEach((field) => {
    const counter = document.getElementById(field.id + "-count");
    const limit = Number(field.dataset.limit);
    const update = () => {
      const length = field.value.trim().length;
      const over = length - limit;
      counter.textContent = over > 0
        ? `${length} / ${limit} characters: ${over} too many`
        : `${length} / ${limit} characters`;
      counter.classList.toggle("error", over > 0);
      counter.classList.toggle("muted", over <= 0);
    };
    field.addEventListener("input", update);
    update();
  });

  // -- preview -------------------------------------------------------------------------

  const preview = $(".widget-preview");
  if (!preview) return;
  const form = $("#widget-form");
  const colour = (name) => form.elements[name].value;

  function paint() {
    const header = $("#preview-header");
    const launcher = $("#preview-launcher");
    header.style.backgroundColor = colour("primary_color");
    header.style.color = colour("text_color");
    launcher.style.backgroundColor = colour("primary_color");
    launcher.style.color = colour("text_color");
    $("#preview-send").style.backgroundColor = colour("accent_color");
    $("#preview-send").style.color = colour("text_color");
    $("#preview-greeting").textContent = form.elements.greeting.value;
    $("#preview-initial").textContent = form.elements.initial_message.value;
    const side = form.querySelector('input[name="position"]:checked');
    preview.dataset.position = side ? side.value : "right";
  }

  form.addEventListener("input", paint);
  form.addEventListener("change", paint);
  paint();
})();
