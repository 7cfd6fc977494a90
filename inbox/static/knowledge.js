// Settings > Knowledge: live source status over Socket.IO, and the retrieval preview.
// Titles, URLs, errors and passages come from admins and crawled sites: always textContent.
(function () {
  "use strict";

  // Socket.IO over WebSocket only when several web processes share the port (the page
  // says which, in <meta name="socket-transports">).
  function socketTransports() {
    const meta = document.querySelector('meta[name="socket-transports"]');
    return meta && meta.content ? meta.content.split(" ") : ["websocket", "polling"];
  }

  const $ = (sel) => document.querySelector(sel);
  const { el } = window.FrontdeskText; // text.js, loaded on every page
  const table = $("#knowledge-sources");

  // -- rows ---------------------------------------------------------------------------

  function rowFor(id) {
    return table ? table.querySelector('tr[data-source-id="' + Number(id) + '"]') : null;
  }

  function setField(row, name, value) {
    const node = row.querySelector('[data-field="' + name + '"]');
    if (node) node.textContent = value || "";
    return node;
  }

  function update(source) {
    const row = rowFor(source.id);
    if (source.removed) {
      if (row) row.remove();
      return;
    }
    if (!row) {
      $("#knowledge-stale").hidden = false; // added elsewhere: its forms need the server
      return;
    }
    row.dataset.status = source.status;
    const status = setField(row, "status", source.status);
    if (status) status.className = "knowledge-status status-" + source.status;
    setField(row, "progress_text", source.progress_text);
    setField(row, "last_refreshed_text", source.last_refreshed_text || "never");
    setField(row, "last_run_text", source.last_run_text);
    const error = setField(row, "error", source.error);
    if (error) error.hidden = !source.error;
    const skipped = row.querySelector('[data-field="skipped_examples"]');
    if (skipped) {
      const list = skipped.querySelector("ul");
      list.replaceChildren(...(source.skipped_examples || []).map((line) => el("li", "", line)));
      skipped.hidden = !(source.skipped_examples || []).length;
    }
  }

  async function resync() {
    // Whatever changed while the socket was down.
    const response = await fetch("/api/knowledge/sources", { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const data = await response.json();
    const seen = new Set(data.sources.map((s) => s.id));
    data.sources.forEach(update);
    if (table) {
      for (const row of table.querySelectorAll("tr[data-source-id]")) {
        if (!seen.has(Number(row.dataset.sourceId))) row.remove();
      }
    }
  }

  const connection = $("#knowledge-connection");
  if (typeof io === "function") {
    const socket = io("/inbox", { transports: socketTransports() });
    let connectedBefore = false;
    socket.on("connect", () => {
      connection.textContent = "Live: status updates as sources are read.";
      connection.className = "connection live";
      if (connectedBefore) resync().catch(() => {});
      connectedBefore = true;
    });
    socket.on("disconnect", (reason) => {
      // Access changed (removed, signed out, no longer an admin): the reload shows where.
      if (reason === "io server disconnect") return window.location.reload();
      connection.textContent = "Reconnecting…";
      connection.className = "connection muted";
    });
    socket.on("connect_error", () => {
      connection.textContent = "Live status unavailable: reload the page to see progress.";
      connection.className = "connection muted";
    });
    socket.on("knowledge", update);
  }

  // -- what the AI would retrieve ------------------------------------------------------

  const results = $("#knowledge-results");
  const problem = $("#knowledge-search-error");
  const empty = $("#knowledge-search-empty");

  function renderPassage(passage) {
    const item = el("li", "knowledge-passage");
    const head = el("div", "knowledge-passage-head");
    head.appendChild(el("strong", "knowledge-citation", passage.citation));
    head.appendChild(el("span", "muted", "similarity " + Number(passage.similarity).toFixed(2)));
    item.appendChild(head);
    item.appendChild(el("div", "knowledge-passage-text", passage.text));
    return item;
  }

  $("#knowledge-search").addEventListener("submit", async (event) => {
    event.preventDefault();
    const query = $("#knowledge-query").value.trim();
    problem.hidden = true;
    empty.hidden = true;
    if (!query) return;
    try {
      const response = await fetch("/api/knowledge/search?" + new URLSearchParams({ q: query }), {
        headers: { Accept: "application/json" },
      });
      const data = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(data.error || "Search failed (" + response.status + ")");
      results.replaceChildren(...data.passages.map(renderPassage));
      empty.hidden = data.passages.length > 0;
    } catch (error) {
      results.replaceChildren();
      problem.textContent = error.message;
      problem.hidden = false;
    }
  });
})();
