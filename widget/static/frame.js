// The chat inside the widget's iframe: talks to the /widget Socket.IO namespace and, through
// postMessage, to the loader on the host page (only ever to and from that page's origin).
// Message text is inserted with textContent, never as HTML; only Markdown links to http(s)
// addresses become anchors (new tab, no opener, no referrer).
(function () {
  "use strict";

  const boot = JSON.parse(document.getElementById("frontdesk-frame").textContent);
  const config = boot.config;
  const host = boot.host;
  const inParent = window.parent !== window;
  const storageKey = "frontdesk:" + config.key;
  const { el, safeUrl, renderBody } = window.FrontdeskText; // text.js
  const $ = (id) => document.getElementById(id);
  const list = $("messages");
  const input = $("body");
  const answerTimeout = (boot.answer_timeout || 30) * 1000; // then a message shows as failed
  const NO_ANSWER = "Your message could not be sent: the chat did not answer. Please try again.";

  const state = {
    identity: readIdentity(),
    lastId: 0,
    items: new Map(), // message id -> <li>
    pending: new Map(), // client_id -> {body, item}, oldest first: resent after a reconnect
    failed: new Map(), // client_id -> {body, item}: refused or unanswered, until "Retry"
    sending: 0, // the attempt now in flight (0: none); one message at a time
    loaded: false, // the first history has arrived (later messages are news for the host)
    hasConversation: false,
    welcome: null,
  };

  for (const [name, value] of [
    ["--fd-primary", config.primary_color],
    ["--fd-accent", config.accent_color],
    ["--fd-text", config.text_color],
  ]) {
    document.documentElement.style.setProperty(name, value);
  }

  // -- identity: kept per widget in this origin's (per host site) storage -------------

  // Browsers that block third-party storage deny this frame its localStorage; the loader
  // then keeps the identity in the host site's storage and hands it over in our #fragment
  // (never sent to any server).
  function readIdentity() {
    let saved = null;
    try {
      saved = JSON.parse(localStorage.getItem(storageKey) || "null");
    } catch (error) {
      /* storage blocked or corrupt */
    }
    const handed = /^#v=([A-Za-z0-9_-]{1,64})\.([0-9a-f]{64})$/.exec(location.hash);
    if (location.hash) history.replaceState(null, "", location.pathname + location.search);
    if (saved && saved.visitor_id && saved.visitor_token) return saved;
    return handed ? { visitor_id: handed[1], visitor_token: handed[2] } : null;
  }

  function saveIdentity(identity) {
    state.identity = { visitor_id: identity.visitor_id, visitor_token: identity.visitor_token };
    try {
      localStorage.setItem(storageKey, JSON.stringify(state.identity));
    } catch (error) {
      /* storage blocked: the loader keeps it (below) */
    }
    up("identity", state.identity);
  }

  // -- talking to the host page ---------------------------------------------------------

  function up(type, extra) {
    if (inParent) window.parent.postMessage(Object.assign({ frontdesk: 1, type }, extra), host);
  }

  window.addEventListener("message", (event) => {
    const data = event.data;
    if (!inParent || event.source !== window.parent || event.origin !== host) return;
    if (!data || data.frontdesk !== 1) return;
    if (data.type === "focus") {
      input.focus();
      scrollDown();
    } else if (data.type === "prefill" && typeof data.text === "string") {
      input.value = data.text;
      input.focus();
      input.setSelectionRange(input.value.length, input.value.length);
      checkLength();
    } else if (data.type === "send" && typeof data.text === "string") {
      send(data.text);
      input.focus();
    }
  });

  // -- rendering ---------------------------------------------------------------------

  function avatar(url) {
    const image = el("img", "avatar");
    image.alt = "";
    const href = url && safeUrl(url);
    if (href) image.src = href;
    image.hidden = !href;
    return image;
  }

  function renderMessage(message) {
    const item = el("li", "msg msg-" + message.role);
    if (message.role !== "visitor" && message.author_name) {
      const author = el("p", "author");
      if (message.role === "staff") author.appendChild(avatar(message.author_avatar));
      author.appendChild(el("span", "name", message.author_name));
      item.appendChild(author);
    }
    const body = el("div", "body");
    renderBody(body, message.body || "", message.role !== "visitor");
    item.appendChild(body);
    return item;
  }

  function scrollDown() {
    list.scrollTop = list.scrollHeight;
  }

  // The welcome is shown here until the server has stored its own copy (when the visitor
  // first writes it becomes the conversation's first message): never both.
  function showWelcome() {
    const first = list.querySelector("li[data-id]");
    const stored = first && !first.classList.contains("msg-visitor");
    if (stored || !config.initial_message) {
      if (state.welcome) state.welcome.remove();
      state.welcome = null;
    } else if (!state.welcome) {
      state.welcome = renderMessage({
        role: "ai",
        body: config.initial_message,
        author_name: config.business_name,
      });
      state.welcome.classList.add("welcome");
      list.prepend(state.welcome);
    }
  }

  // Server messages in id order; the visitor's unsent ones stay at the end.
  function place(item, id) {
    item.dataset.id = String(id);
    let before = null;
    for (const other of list.querySelectorAll("li[data-id]")) {
      if (Number(other.dataset.id) > id) {
        before = other;
        break;
      }
    }
    before = before || list.querySelector("li.pending, li.failed");
    list.insertBefore(item, before);
  }

  function receive(message, news) {
    if (!message || typeof message.id !== "number" || state.items.has(message.id)) return;
    let item = null;
    const id = message.client_id;
    const mine = id && (state.pending.get(id) || state.failed.get(id));
    if (mine) {
      // Sent by this frame: stored after all, even if it was shown as failed meanwhile.
      state.pending.delete(id);
      state.failed.delete(id);
      item = mine.item;
      item.classList.remove("pending", "failed");
      for (const line of item.querySelectorAll(".state")) line.remove();
      if (!state.failed.size && $("notice").dataset.kind === "refused") notice("");
    } else {
      item = renderMessage(message);
    }
    state.items.set(message.id, item);
    state.lastId = Math.max(state.lastId, message.id);
    place(item, message.id);
    showWelcome();
    if (message.role !== "visitor") $("typing").hidden = true;
    scrollDown();
    if (news) up("message", { message });
  }

  function showConversation(conversation) {
    state.hasConversation = Boolean(conversation);
    const agent = conversation && conversation.mode === "human" ? conversation.agent : null;
    $("agent").hidden = !agent;
    if (!agent) return;
    $("agent-name").textContent = "You're chatting with " + agent.name;
    const href = agent.avatar && safeUrl(agent.avatar);
    $("agent-avatar").hidden = !href;
    if (href) $("agent-avatar").src = href;
  }

  function notice(text) {
    $("notice").textContent = text || "";
    $("notice").hidden = !text;
  }

  function status(text, connection) {
    $("status").textContent = text || "";
    $("status").hidden = !text;
    document.documentElement.dataset.connection = connection;
  }

  let typingTimer = null;
  function showTyping(data) {
    if (!data || data.kind === "visitor") return;
    $("typing").textContent = (data.name || "Someone") + " is typing…";
    $("typing").hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => ($("typing").hidden = true), 30000);
  }

  // -- sending ---------------------------------------------------------------------------

  function clientId() {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function tooLong(text) {
    const limit = config.max_message_chars;
    if (text.length <= limit) return "";
    return (
      "Your message is too long (" + text.length.toLocaleString() + " characters). " +
      "Please keep it under " + limit.toLocaleString() + " characters."
    );
  }

  function checkLength() {
    const problem = tooLong(input.value.trim());
    input.setAttribute("aria-invalid", String(Boolean(problem)));
    if (problem || $("notice").dataset.kind === "length") {
      notice(problem);
      $("notice").dataset.kind = problem ? "length" : "";
    }
    return !problem;
  }

  function send(text) {
    const body = String(text || "").trim();
    if (!body) return false;
    if (tooLong(body)) {
      notice(tooLong(body));
      $("notice").dataset.kind = "length"; // cleared as soon as the text fits
      return false;
    }
    notice("");
    const id = clientId();
    const item = renderMessage({ role: "visitor", body });
    item.classList.add("pending");
    item.dataset.clientId = id;
    list.appendChild(item);
    scrollDown();
    state.pending.set(id, { body, item });
    deliver();
    return true;
  }

  // The oldest unsent message, one at a time and only while connected, so the server
  // stores them in the order typed. A message goes again (same client_id, stored once)
  // after a reconnect. One the server refuses, or does not answer in time, shows as
  // failed with a Retry button, and the messages after it go on.
  let attempts = 0;
  function deliver() {
    const next = state.pending.entries().next();
    if (state.sending || next.done || !socket.connected) return;
    const [id, pending] = next.value;
    const attempt = ++attempts;
    state.sending = attempt;
    const data = { body: pending.body, client_id: id };
    socket.timeout(answerTimeout).emit("message", data, (error, reply) => {
      if (state.sending !== attempt) return; // a reconnect has started over
      state.sending = 0;
      if (!error && reply && reply.ok) {
        const first = !state.hasConversation;
        state.hasConversation = true;
        receive(reply.message, true);
        if (first) loadHistory(0); // the stored welcome that came with the new conversation
      } else {
        fail(id, error ? NO_ANSWER : (reply && reply.error) || "Your message could not be sent.");
      }
      deliver();
    });
  }

  // Shown as not sent, with the reason in the notice; "Retry" queues it again (same
  // client_id: if it was stored after all, the server answers with the stored copy).
  function fail(id, error) {
    const pending = state.pending.get(id);
    if (!pending) return; // it came back meanwhile
    state.pending.delete(id);
    state.failed.set(id, pending);
    pending.item.classList.replace("pending", "failed");
    const line = el("p", "state", "Not sent. ");
    const retry = el("button", "retry", "Retry");
    retry.type = "button";
    retry.addEventListener("click", () => resend(id));
    line.appendChild(retry);
    pending.item.appendChild(line);
    notice(error);
    $("notice").dataset.kind = "refused";
  }

  function resend(id) {
    const failed = state.failed.get(id);
    if (!failed) return;
    state.failed.delete(id);
    for (const line of failed.item.querySelectorAll(".state")) line.remove();
    failed.item.classList.replace("failed", "pending");
    state.pending.set(id, failed); // behind the messages already waiting
    if (!state.failed.size && $("notice").dataset.kind === "refused") notice("");
    deliver();
  }

  function loadHistory(afterId) {
    socket.emit("history", { after_id: afterId }, (reply) => {
      if (!reply || !reply.ok) return;
      for (const message of reply.messages) receive(message, state.loaded);
      if ("conversation" in reply) showConversation(reply.conversation);
      state.loaded = true;
      showWelcome();
      deliver();
    });
  }

  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    if (send(input.value)) input.value = "";
    input.focus();
  });

  let lastTyping = 0;
  input.addEventListener("input", () => {
    checkLength();
    const now = Date.now();
    if (socket.connected && input.value.trim() && now - lastTyping > 2000) {
      lastTyping = now;
      socket.emit("typing", {});
    }
  });

  // The chat handles its own keys and keeps them to itself.
  input.addEventListener("keydown", (event) => {
    event.stopPropagation();
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  document.addEventListener(
    "keydown",
    (event) => {
      if (event.key === "Escape" && boot.mode === "floating") {
        event.preventDefault();
        up("close");
      }
    },
    true,
  );
  if ($("close")) $("close").addEventListener("click", () => up("close"));

  // -- the connection ------------------------------------------------------------------

  // The visitor's time zone, so "we're back tomorrow at 9 am" is in their own time.
  function browserTimeZone() {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (error) {
      return "";
    }
  }

  const socket = io("/widget", {
    transports: boot.transports || ["websocket", "polling"],
    auth: (done) =>
      done(
        Object.assign(
          { frame_token: boot.frame_token, timezone: browserTimeZone() },
          state.identity || {}
        )
      ),
  });
  socket.on("identity", saveIdentity);
  socket.on("connect", () => {
    status("", "live");
    loadHistory(state.lastId);
  });
  socket.on("disconnect", () => {
    state.sending = 0; // its answer is lost with the connection: sent again on reconnect
    status("Reconnecting…", "connecting");
  });
  socket.on("connect_error", (error) => {
    // Refused by the server (not a network hiccup): say why; no automatic retry follows.
    if (socket.active) status("Connecting…", "connecting");
    else status(error.message || "The chat is unavailable.", "refused");
  });
  socket.on("message", (message) => receive(message, true));
  socket.on("typing", showTyping);
  socket.on("conversation", showConversation);

  showWelcome();
  status("Connecting…", "connecting");
  up("ready");
})();
