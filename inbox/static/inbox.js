// The staff inbox: conversation list, thread and composer, kept live over Socket.IO.
// Everything a visitor, contact or page wrote is inserted with textContent, never as HTML.
(function () {
  "use strict";

  // Socket.IO over WebSocket only when several web processes share the port (the page
  // says which, in <meta name="socket-transports">).
  function socketTransports() {
    const meta = document.querySelector('meta[name="socket-transports"]');
    return meta && meta.content ? meta.content.split(" ") : ["websocket", "polling"];
  }

  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const $ = (sel) => document.querySelector(sel);
  const { el } = window.FrontdeskText; // text.js, loaded on every page
  const state = { status: "open", channel: "", q: "", current: null, rows: new Map() };
  const templates = JSON.parse($("#templates-data").textContent || "[]");
  const notConnected = "not connected (Settings > Channels)";

  async function api(method, path, body) {
    const options = { method, headers: { "X-CSRF-Token": csrf, Accept: "application/json" } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(path, options);
    if (response.status === 401) {
      window.location.assign("/login?next=/");
      throw new Error("Signed out");
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error || "Request failed (" + response.status + ")");
    return data;
  }

  function toast(text) {
    for (const shown of $("#toasts").children) if (shown.textContent === text) return; // once
    const note = el("div", "toast", text);
    $("#toasts").appendChild(note);
    setTimeout(() => note.remove(), 6000);
  }

  function when(iso) {
    if (!iso) return "";
    const date = new Date(iso);
    const sameDay = date.toDateString() === new Date().toDateString();
    return sameDay
      ? date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
      : date.toLocaleDateString([], { month: "short", day: "numeric" });
  }

  // -- the list -------------------------------------------------------------------

  function matchesFilters(row) {
    if (state.status && row.status !== state.status) return false;
    if (!state.status && row.status === "spam") return false; // spam has its own view
    if (state.channel && row.channel !== state.channel) return false;
    return true;
  }

  function renderRow(row) {
    const item = el("li", "conversation");
    item.dataset.id = row.id;
    item.dataset.mode = row.mode;
    item.dataset.status = row.status;
    if (state.current === row.id) item.classList.add("selected");
    const button = el("button", "row");
    button.type = "button";
    const top = el("div", "row-top");
    top.appendChild(el("span", "channel channel-" + row.channel, row.channel_label));
    top.appendChild(el("strong", "name", row.contact_name));
    top.appendChild(el("time", "time", when(row.last_message_at)));
    const bottom = el("div", "row-bottom");
    bottom.appendChild(el("span", "preview", row.preview));
    bottom.appendChild(el("span", "badge mode-" + row.mode, row.mode === "ai" ? "AI" : "Human"));
    if (row.unread > 0) bottom.appendChild(el("span", "unread", row.unread));
    button.append(top, bottom);
    if (row.status === "spam") button.appendChild(el("div", "spam-reason", row.spam_reason || "Spam"));
    button.addEventListener("click", () => openConversation(row.id).catch((error) => toast(error.message)));
    item.appendChild(button);
    return item;
  }

  function renderList() {
    const list = $("#conversation-list");
    const rows = [...state.rows.values()]
      .filter(matchesFilters)
      .sort((a, b) => (b.last_message_at || "").localeCompare(a.last_message_at || "") || b.id - a.id);
    list.replaceChildren(...rows.map(renderRow));
    $("#list-empty").hidden = rows.length > 0;
    // Unread messages show in the tab's title too, for staff working in another tab.
    let unread = 0;
    for (const row of state.rows.values()) unread += row.unread || 0;
    document.title = (unread ? "(" + unread + ") " : "") + pageTitle;
  }

  const pageTitle = document.title;
  let listLoads = 0;
  async function loadList() {
    const load = ++listLoads;
    const params = new URLSearchParams();
    if (state.status) params.set("status", state.status);
    if (state.channel) params.set("channel", state.channel);
    if (state.q) params.set("q", state.q);
    const data = await api("GET", "/api/conversations?" + params);
    if (load !== listLoads) return; // a newer tab, filter or search already asked again
    state.rows = new Map(data.conversations.map((row) => [row.id, row]));
    // The open thread is being read (each new message in it is marked read as it comes),
    // whatever the server counted a moment before.
    const open = state.rows.get(state.current);
    if (open) open.unread = 0;
    renderList();
  }

  // -- the thread -----------------------------------------------------------------

  function renderMessage(message) {
    const item = el("li", "message " + message.author_kind);
    item.dataset.id = message.id;
    item.dataset.conversation = message.conversation_id;
    if (message.direction === "internal") item.classList.add("activity");
    const head = el("div", "message-head");
    if (message.author_avatar && /^https?:\/\//.test(message.author_avatar)) {
      const img = el("img", "avatar");
      img.alt = "";
      img.src = message.author_avatar;
      head.appendChild(img);
    }
    head.appendChild(el("span", "author", message.author_name));
    if (message.external) head.appendChild(el("span", "external muted", "sent from the " + $("#thread-channel").textContent + " app"));
    head.appendChild(el("time", "time", when(message.created_at)));
    if (message.direction === "out") head.appendChild(el("span", "delivery delivery-" + message.delivery_status, message.delivery_status));
    item.appendChild(head);
    if (message.reply_to) item.appendChild(el("blockquote", "reply-to muted", message.reply_to));
    item.appendChild(el("div", "body", message.body));
    if (message.reactions && message.reactions.length) item.appendChild(el("div", "reactions", message.reactions.join(" ")));
    if (message.call) item.appendChild(renderCall(message.call));
    if (message.delivery_error || message.can_retry) {
      // Not delivered: the provider's reason, and a way to send it again.
      const failure = el("div", "delivery-failure");
      failure.appendChild(el("span", "error", "Not delivered" + (message.delivery_error ? ": " + message.delivery_error : "")));
      if (message.can_retry) {
        const again = el("button", "secondary retry", "Retry");
        again.type = "button";
        again.addEventListener("click", () => retry(message, again));
        failure.appendChild(again);
      }
      item.appendChild(failure);
    }
    if (message.no_auto_reply) {
      item.appendChild(el("div", "no-auto-reply muted", "The AI did not answer: " + message.no_auto_reply));
    }
    if (message.attachments && message.attachments.length) {
      const files = el("ul", "attachments");
      for (const file of message.attachments) {
        const entry = el("li");
        if (file.url) {
          const link = el("a", "", file.name);
          link.href = file.url;
          link.setAttribute("download", "");
          entry.appendChild(link);
          entry.appendChild(document.createTextNode(" (" + Math.max(1, Math.round(file.size / 1024)) + " KB)"));
        } else if (/^https?:\/\//.test(file.link || "")) {
          const link = el("a", "", file.name);
          link.href = file.link;
          link.target = "_blank";
          link.rel = "noopener noreferrer";
          entry.appendChild(link);
        } else {
          entry.textContent = file.note || file.name;
        }
        files.appendChild(entry);
      }
      item.appendChild(files);
    }
    if (message.original) {
      const original = el("details", "original");
      original.appendChild(el("summary", "", "Show original"));
      original.appendChild(el("pre", "original-text", message.original));
      item.appendChild(original);
    }
    const actions = (message.actions || []).filter((a) => a.name !== "search_knowledge");
    if (actions.length) {
      const list = el("ul", "tool-actions");
      for (const action of actions) {
        list.appendChild(el("li", "tool " + action.name, action.detail ? action.label + ": " + action.detail : action.label));
      }
      item.appendChild(list);
    }
    if (message.citations && message.citations.length) {
      const sources = el("details", "citations");
      sources.appendChild(el("summary", "", "Sources (" + message.citations.length + ")"));
      const list = el("ul");
      for (const citation of message.citations) {
        const entry = el("li");
        if (/^https?:\/\//.test(citation.uri)) {
          const link = el("a", "", citation.source || citation.uri);
          link.href = citation.uri;
          link.target = "_blank";
          link.rel = "noopener noreferrer";
          entry.appendChild(link);
        } else {
          entry.textContent = citation.source || citation.uri;
        }
        list.appendChild(entry);
      }
      sources.appendChild(list);
      item.appendChild(sources);
    }
    return item;
  }

  // A phone call: status, duration, recording, summary and transcript.
  function renderCall(call) {
    const box = el("div", "call");
    const facts = ["Call", call.status || "ringing"];
    if (call.duration) facts.push(call.duration + " s");
    if (call.text_back) facts.push("text back: " + call.text_back);
    box.appendChild(el("span", "call-facts muted", facts.join(" · ")));
    if (call.recording && /^https?:\/\//.test(call.recording.url || "")) {
      const link = el("a", "call-recording", "Recording (" + (call.recording.duration || 0) + " s)");
      link.href = call.recording.url;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      box.appendChild(document.createTextNode(" "));
      box.appendChild(link);
    }
    if (call.summary) box.appendChild(el("p", "call-summary", call.summary));
    if (call.transcript && call.transcript.length) {
      const details = el("details", "call-transcript");
      details.appendChild(el("summary", "", "Transcript"));
      const list = el("ol");
      for (const line of call.transcript) list.appendChild(el("li", "", (line.who === "caller" ? "Caller: " : "AI: ") + line.text));
      details.appendChild(list);
      box.appendChild(details);
    }
    return box;
  }

  async function retry(message, button) {
    button.disabled = true;
    try {
      const data = await api("POST", "/api/conversations/" + message.conversation_id + "/messages/" + message.id + "/retry");
      replaceMessage(data.message);
    } catch (error) {
      button.disabled = false;
      toast(error.message);
    }
  }

  // A message already in the thread changed (delivered, read, failed, retried): redraw it.
  function replaceMessage(message) {
    const shown = $("#messages").querySelector('[data-id="' + message.id + '"]');
    if (shown) shown.replaceWith(renderMessage(message));
  }

  function appendMessage(message) {
    const list = $("#messages");
    if (list.querySelector('[data-id="' + message.id + '"]')) return; // already shown
    list.appendChild(renderMessage(message));
    list.scrollTop = list.scrollHeight;
  }

  function renderHeader(conversation) {
    $("#thread-title").textContent = conversation.contact_name;
    $("#thread-channel").textContent = conversation.channel_label;
    const contact = conversation.contact || {};
    $("#thread-contact").textContent = [contact.email, contact.phone].filter(Boolean).join(" · ") || "No contact details yet";
    const mode = $("#thread-mode");
    mode.textContent = conversation.mode === "ai" ? "AI answering" : "Human" + (conversation.assignee ? ": " + conversation.assignee : "");
    mode.className = "badge mode-" + conversation.mode;
    const status = $("#thread-status");
    status.textContent = { open: "Open", closed: "Closed", spam: "Spam" }[conversation.status] || conversation.status;
    status.className = "badge status-" + conversation.status;
    const spam = conversation.status === "spam";
    $("#thread-spam").textContent = spam ? "In Spam: " + (conversation.spam_reason || "marked as spam") + "." : "";
    $("#thread-spam").hidden = !spam;
    const show = (action, visible) => { document.querySelector('[data-action="' + action + '"]').hidden = !visible; };
    show("takeover", conversation.mode === "ai");
    show("release", conversation.mode === "human");
    show("close", conversation.status === "open");
    show("reopen", conversation.status === "closed");
    show("not-spam", spam);
    show("block", !spam);
  }

  // Resolves once the server has put this socket in the conversation's room (or at once
  // while offline: the connect handler opens the conversation again).
  function join(id) {
    return new Promise((resolve) => {
      if (!socket.connected) resolve();
      else socket.timeout(10000).emit("join", { conversation_id: id }, () => resolve());
    });
  }

  // Join first, then fetch: what lands after the join arrives live, the fetch holds what
  // came before, so no message falls between the two. Also run after every reconnect.
  async function openConversation(id) {
    if (state.current !== id) {
      if (state.current) socket.emit("leave", { conversation_id: state.current });
      $("#thread").hidden = true; // never the new thread's messages under the old header
      $("#messages").replaceChildren();
    }
    state.current = id;
    await join(id);
    const data = await api("GET", "/api/conversations/" + id);
    if (state.current !== id) return;
    $("#no-selection").hidden = true;
    $("#thread").hidden = false;
    renderHeader(data.conversation);
    const via = data.reply_via || { connected: true };
    $("#composer-via").textContent = via.connected ? "" : via.label + " is " + notConnected + ": replies are not delivered until it is.";
    $("#composer-via").hidden = via.connected;
    renderWindow(via, data.conversation);
    state.rows.set(id, Object.assign(state.rows.get(id) || {}, data.conversation));
    countSegments();
    // Live messages drawn while it loaded, newer than the fetch, stay after it.
    const list = $("#messages");
    const newest = data.messages.reduce((max, m) => Math.max(max, m.id), 0);
    const live = [...list.children].filter(
      (item) => Number(item.dataset.conversation) === id && Number(item.dataset.id) > newest
    );
    list.replaceChildren(...data.messages.map(renderMessage), ...live);
    $("#messages").scrollTop = $("#messages").scrollHeight;
    $("#typing").hidden = true;
    const row = state.rows.get(id);
    if (row) row.unread = 0;
    state.rows.set(id, Object.assign(row || {}, data.conversation, { unread: 0 }));
    renderList();
  }

  // The provider's reply window (Messenger, Instagram): who may reply now, and when
  // nobody may, the other channels the contact can be reached on.
  function renderWindow(via, conversation) {
    const window_ = via.window || { state: "open", alternatives: [] };
    const box = $("#composer-window");
    box.hidden = window_.state === "open";
    box.dataset.state = window_.state;
    let reason = window_.reason;
    if (window_.state === "human_only" && window_.until) reason += " Replies close " + when(window_.until) + ".";
    if (window_.closed_at) reason += " (The window closed " + when(window_.closed_at) + ".)";
    box.querySelector(".window-reason").textContent = reason;
    const templatesOnly = window_.state === "templates_only";
    const closed = window_.state === "closed" || templatesOnly;
    const panel = $("#composer-templates");
    panel.hidden = !templatesOnly;
    if (templatesOnly) {
      const offered = via.templates || [];
      fillTemplates($("#template-choice"), $("#template-preview"), $("#template-params"), $("#no-templates"), offered);
      $("#send-template").disabled = offered.length === 0;
    }
    $("#reply-body").disabled = closed;
    $("#composer button[type=submit]").disabled = closed;
    $("#template-select").disabled = closed;
    const others = box.querySelector(".window-alternatives");
    others.replaceChildren();
    others.hidden = !(closed && window_.alternatives.length);
    for (const option of window_.alternatives) {
      const button = el("button", "secondary", "Write by " + option.label + " instead");
      button.type = "button";
      button.addEventListener("click", () => startOn(option.channel, conversation.contact || {}));
      others.appendChild(button);
    }
  }

  // WhatsApp templates: a choice of approved ones, with a field per parameter.
  function fillTemplates(select, preview, params, empty, templates) {
    select.replaceChildren(...templates.map((t) => {
      const option = el("option", "", t.name + " (" + t.language + ")");
      option.value = String(t.id);
      return option;
    }));
    empty.hidden = templates.length > 0;
    const show = () => {
      const chosen = templates.find((t) => String(t.id) === select.value);
      preview.textContent = chosen ? chosen.body : "";
      params.replaceChildren();
      for (let n = 1; chosen && n <= chosen.parameters; n++) {
        const label = el("label", "", "Parameter {{" + n + "}} ");
        const input = el("input");
        input.required = true;
        input.maxLength = 200;
        label.appendChild(input);
        params.appendChild(label);
      }
    };
    select.onchange = show;
    show();
  }

  function templateValues(params) {
    return [...params.querySelectorAll("input")].map((input) => input.value.trim());
  }

  async function sendTemplate() {
    const problem = $("#composer-error");
    problem.hidden = true;
    try {
      const choice = { template_id: Number($("#template-choice").value), values: templateValues($("#template-params")) };
      const data = await api("POST", "/api/conversations/" + state.current + "/template", choice);
      appendMessage(data.message);
      for (const input of $("#template-params").querySelectorAll("input")) input.value = "";
    } catch (error) {
      problem.textContent = error.message;
      problem.hidden = false;
    }
  }

  // The "new conversation" dialog, filled in for this contact on another channel.
  function startOn(channel, contact) {
    const form = $("#new-form");
    for (const name of ["first_name", "last_name", "email", "phone"]) form.elements[name].value = contact[name] || "";
    form.elements.channel.value = channel;
    channelChosen();
    $("#new-dialog").showModal();
    form.elements.body.focus();
  }

  async function act(action) {
    if (!state.current) return;
    if (action === "block" && !window.confirm("Block this sender? Their messages will go to Spam, unanswered and without notifications.")) return;
    try {
      const data = await api("POST", "/api/conversations/" + state.current + "/" + action);
      renderHeader(data.conversation);
      state.rows.set(data.conversation.id, data.conversation);
      renderList();
    } catch (error) {
      toast(error.message);
    }
  }

  // -- composing ------------------------------------------------------------------

  // SMS segments as carriers count them (agent/core/sms.py says the same): GSM-7 when
  // every character is in its alphabet (160, or 153 a part), else UCS-2 (70, or 67).
  const GSM7 = new Set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà");
  const GSM7_EXTENDED = new Set("^{}\\[~]|€\f");
  function smsSegments(text) {
    const chars = [...text];
    const gsm = chars.every((c) => GSM7.has(c) || GSM7_EXTENDED.has(c));
    const units = gsm
      ? chars.reduce((n, c) => n + (GSM7_EXTENDED.has(c) ? 2 : 1), 0)
      : chars.reduce((n, c) => n + (c.codePointAt(0) > 0xffff ? 2 : 1), 0);
    const [single, part] = gsm ? [160, 153] : [70, 67];
    const parts = units === 0 ? 0 : units <= single ? 1 : Math.ceil(units / part);
    return { encoding: gsm ? "GSM-7" : "UCS-2", units, parts, chars: chars.length };
  }

  function countSegments() {
    const counter = $("#composer-count");
    const open = state.rows.get(state.current);
    counter.hidden = !open || open.channel !== "sms";
    if (counter.hidden) return;
    const found = smsSegments($("#reply-body").value);
    counter.textContent = found.chars + " characters · " + found.parts + " segment" + (found.parts === 1 ? "" : "s") + " (" + found.encoding + ")";
  }

  async function send(event) {
    event.preventDefault();
    const box = $("#reply-body");
    const body = box.value.trim();
    const problem = $("#composer-error");
    problem.hidden = true;
    if (!body || !state.current) return;
    try {
      const data = await api("POST", "/api/conversations/" + state.current + "/messages", { body });
      box.value = "";
      appendMessage(data.message);
    } catch (error) {
      problem.textContent = error.message;
      problem.hidden = false;
    }
  }

  let lastTyping = 0;
  function typing() {
    const now = Date.now();
    if (state.current && now - lastTyping > 2000) {
      lastTyping = now;
      socket.emit("typing", { conversation_id: state.current });
    }
  }

  // -- live updates ---------------------------------------------------------------

  const socket = io("/inbox", { transports: socketTransports() });
  socket.on("connect", () => {
    $("#connection").textContent = "Live";
    $("#connection").className = "connection live";
    loadList().catch((error) => toast(error.message));
    // (Re)connected: join the open thread's room and fetch it again, so it holds whatever
    // came while offline.
    if (state.current) openConversation(state.current).catch((error) => toast(error.message));
  });
  socket.on("disconnect", (reason) => {
    // The server ends a socket only when the member's access changed (removed, signed out,
    // new role): reload, to the sign-in page or to the page as the new role sees it.
    if (reason === "io server disconnect") return window.location.reload();
    $("#connection").textContent = "Reconnecting…";
    $("#connection").className = "connection muted";
  });
  socket.on("connect_error", () => {
    $("#connection").textContent = "Offline: retrying…";
  });
  socket.on("conversation", (row) => {
    const known = state.rows.get(row.id);
    let unread = known ? known.unread || 0 : 0;
    if (row.new_message && row.new_message.direction === "in" && state.current !== row.id) unread += 1;
    if (!known && state.q) return; // a search result list only changes when searched again
    state.rows.set(row.id, Object.assign({}, row, { unread }));
    renderList();
    if (state.current === row.id) renderHeader(row);
  });
  socket.on("message", (message) => {
    if (message.conversation_id !== state.current) return;
    appendMessage(message);
    $("#typing").hidden = true;
    if (message.direction === "in") {
      api("POST", "/api/conversations/" + message.conversation_id + "/read", { message_id: message.id }).catch(() => {});
    }
  });
  socket.on("message_status", (message) => {
    if (message.conversation_id === state.current) replaceMessage(message);
  });
  let typingTimer = null;
  socket.on("typing", (data) => {
    if (data.conversation_id !== state.current) return;
    const note = $("#typing");
    note.textContent = data.who + " is typing…";
    note.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => { note.hidden = true; }, 4000);
  });
  socket.on("lead", (data) => toast("New lead: " + data.contact_name));

  // -- controls -------------------------------------------------------------------

  for (const tab of document.querySelectorAll("[data-status]")) {
    tab.addEventListener("click", () => {
      state.status = tab.dataset.status;
      for (const other of document.querySelectorAll("[data-status]")) {
        other.setAttribute("aria-selected", String(other === tab));
      }
      loadList().catch((error) => toast(error.message));
    });
  }
  $("#channel-filter").addEventListener("change", (event) => {
    state.channel = event.target.value;
    loadList().catch((error) => toast(error.message));
  });
  let searchTimer = null;
  $("#search").addEventListener("input", (event) => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      state.q = event.target.value.trim();
      loadList().catch((error) => toast(error.message));
    }, 250);
  });
  for (const button of document.querySelectorAll("[data-action]")) {
    button.addEventListener("click", () => act(button.dataset.action));
  }
  $("#composer").addEventListener("submit", send);
  $("#reply-body").addEventListener("input", countSegments);
  $("#reply-body").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) send(event);
    else typing();
  });
  $("#template-select").addEventListener("change", (event) => {
    const chosen = templates[Number(event.target.value)];
    if (chosen) {
      const box = $("#reply-body");
      box.value = box.value ? box.value + "\n" + chosen.body : chosen.body;
      box.focus();
    }
    event.target.value = "";
  });

  $("#send-template").addEventListener("click", sendTemplate);

  const dialog = $("#new-dialog");
  const waTemplates = JSON.parse($("#wa-templates").textContent || "[]");
  // WhatsApp conversations start with a template: the dialog swaps the message for one.
  function channelChosen() {
    const whatsapp = $("#send-via").value === "whatsapp";
    $("#new-template").hidden = !whatsapp;
    $("#new-body").hidden = whatsapp;
    $("#new-form").elements.body.required = !whatsapp;
    if (whatsapp) fillTemplates($("#new-template-choice"), $("#new-template-preview"), $("#new-template-params"), $("#new-no-templates"), waTemplates);
  }
  $("#send-via").addEventListener("change", channelChosen);
  $("#new-conversation").addEventListener("click", () => { channelChosen(); dialog.showModal(); });
  $("#new-cancel").addEventListener("click", () => dialog.close());
  $("#new-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const problem = $("#new-error");
    problem.hidden = true;
    const payload = Object.fromEntries(form.entries());
    delete payload.template_id;
    if (payload.channel === "whatsapp") {
      payload.template_id = Number($("#new-template-choice").value) || null;
      payload.values = templateValues($("#new-template-params"));
    }
    try {
      const data = await api("POST", "/api/conversations", payload);
      dialog.close();
      await loadList();
      openConversation(data.conversation_id);
    } catch (error) {
      problem.textContent = error.message;
      problem.hidden = false;
    }
  });

  // Links from other pages (a contact's conversations) open one thread: /?conversation=<id>.
  const linked = new URLSearchParams(window.location.search).get("conversation");
  if (linked && /^[1-9][0-9]{0,15}$/.test(linked)) {
    openConversation(Number(linked)).catch((error) => {
      if (state.current === Number(linked)) state.current = null; // not ours, or gone
      toast(error.message);
    });
  }
})();
