// Admin settings: extra link rows on the profile form, and the "try it" test chat.
// Everything the AI or the admin wrote is inserted with textContent, never as HTML; only
// Markdown links to http(s) addresses become anchors (opened in a new tab, no referrer).
(function () {
  "use strict";

  const $ = (sel) => document.querySelector(sel);
  const { el, renderBody } = window.FrontdeskText; // text.js, loaded on every page
  const csrf = document.querySelector('meta[name="csrf-token"]').content;

  // -- profile: add link rows --------------------------------------------------------

  const addLink = $("#add-link");
  if (addLink) {
    addLink.addEventListener("click", () => {
      const row = $("#link-row-template").content.firstElementChild.cloneNode(true);
      $("#link-rows").appendChild(row);
      row.querySelector("input").focus();
    });
  }

  // -- instructions: warn about unsaved changes ----------------------------------------

  const instructions = $("#instructions");
  if (instructions) {
    const saved = instructions.value;
    instructions.addEventListener("input", () => {
      $("#unsaved-note").hidden = instructions.value === saved;
    });
  }

  // -- the try-it chat -----------------------------------------------------------------

  const chat = $("#tryit-messages");
  if (!chat) return;
  const data = JSON.parse($("#tryit-data").textContent || "{}");

  function renderMessage(message) {
    const item = el("li", "tryit-message tryit-" + message.role);
    const who = { you: "You (as a visitor)", ai: "AI receptionist", note: "Activity" }[message.role];
    item.appendChild(el("div", "tryit-author", who || ""));
    const body = el("div", "body");
    renderBody(body, message.body || "");
    item.appendChild(body);
    const tools = (message.tools || []).filter((t) => t.name !== "search_knowledge");
    if (tools.length) {
      const list = el("ul", "tool-actions");
      for (const tool of tools) {
        const chip = el("li", "tool", tool.label);
        list.appendChild(chip);
        if (tool.detail) list.appendChild(el("li", "tool-detail muted", tool.detail));
      }
      item.appendChild(list);
    }
    if (message.citations && message.citations.length) {
      const sources = el("div", "citations", "Sources:");
      const list = el("ul");
      for (const c of message.citations) list.appendChild(el("li", null, c.source || c.uri));
      sources.appendChild(list);
      item.appendChild(sources);
    }
    return item;
  }

  function render(messages) {
    chat.replaceChildren();
    if (!messages.length && data.greeting) {
      chat.appendChild(renderMessage({ role: "ai", body: data.greeting, welcome: true }));
    }
    for (const message of messages) chat.appendChild(renderMessage(message));
    chat.scrollTop = chat.scrollHeight;
  }

  function showError(text) {
    const node = $("#tryit-error");
    node.textContent = text || "";
    node.hidden = !text;
  }

  function showNotice(text) {
    const node = $("#tryit-notice");
    node.textContent = text || "";
    node.hidden = !text;
  }

  async function post(path, body) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "X-CSRF-Token": csrf, "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body || {}),
    });
    if (response.redirected && new URL(response.url).pathname === "/login") {
      window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname));
      throw new Error("Signed out");
    }
    const result = await response.json().catch(() => null);
    if (!response.ok || result === null) {
      const reason = result && result.error;
      throw new Error(reason || "The request failed (" + response.status + "). Reload the page and try again.");
    }
    return result;
  }

  const form = $("#tryit-form");
  const input = $("#tryit-body");
  const send = $("#tryit-send");
  let messages = data.messages || [];

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || send.disabled) return;
    showError("");
    send.disabled = true;
    const pending = renderMessage({ role: "you", body: text });
    chat.appendChild(pending);
    const typing = el("li", "tryit-message tryit-typing muted", "The receptionist is typing…");
    chat.appendChild(typing);
    chat.scrollTop = chat.scrollHeight;
    try {
      const result = await post("/settings/try-it/messages", { body: text });
      input.value = "";
      messages = result.messages;
      render(messages);
      showNotice(result.notice);
    } catch (err) {
      pending.remove();
      showError(err.message);
    } finally {
      typing.remove();
      send.disabled = false;
      input.focus();
    }
  });

  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  $("#tryit-reset").addEventListener("click", async () => {
    showError("");
    try {
      await post("/settings/try-it/reset");
      messages = [];
      render(messages);
      showNotice("");
    } catch (err) {
      showError(err.message);
    }
  });

  render(messages);
  if (data.mode === "human") {
    showNotice("The receptionist handed this chat to a person. Reset the test chat to start again.");
  }
})();
