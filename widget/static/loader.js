/* frontdesk chat widget loader: the one async <script> a website pastes into its pages.
 * It only draws the launcher (in a closed shadow root, so host CSS cannot reach it) and
 * creates the chat iframe when needed; the chat itself lives in that iframe, on
 * frontdesk's origin. Nothing here touches the host page beyond its own two elements. */
(function () {
  "use strict";
  const me = document.currentScript;
  const stub = window.Frontdesk;
  if (!me || (stub && stub.version)) return; // pasted twice: the first copy wins
  const found = /^(.*)\/widget\/v1\/([^/]+)\/loader\.js$/.exec(me.src.split(/[?#]/)[0]);
  if (!found) return;
  const BASE = found[1];
  const KEY = found[2];
  const NARROW = "(max-width: 639px)";
  const HOST_STYLE = "all:initial!important;display:block!important;";

  let config = null;
  let frameOrigin = "";
  let mode = "floating";
  let refused = false;
  let root = null; // the closed shadow root
  let wrap = null;
  let button = null;
  let badge = null;
  let iframe = null;
  let frameReady = false;
  let isOpen = false;
  let unread = 0;
  let keyedAt = 0;
  const outbox = []; // commands for the frame until it says "ready"
  const waiting = []; // API calls made before the config arrived
  const listeners = { open: [], close: [], message: [] };

  function el(tag, className) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    return node;
  }

  // Inline !important beats any host stylesheet rule, even `* { ... !important }`.
  function isolate(node, css) {
    node.style.cssText = HOST_STYLE + css;
  }

  function emit(name, payload) {
    for (const fn of listeners[name].slice()) {
      try {
        fn(payload);
      } catch (error) {
        setTimeout(() => {
          throw error;
        });
      }
    }
  }

  // Styles live in a constructed sheet where supported: a host page's CSP cannot block it.
  function style(shadow, css) {
    try {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      shadow.adoptedStyleSheets = [sheet];
    } catch (error) {
      const node = el("style");
      node.textContent = css;
      shadow.appendChild(node);
    }
  }

  // The visitor's identity, kept here for frames whose own storage the browser blocks.
  const STORE = "frontdesk:" + KEY;
  function identity(value) {
    try {
      if (value) localStorage.setItem(STORE, value.visitor_id + "." + value.visitor_token);
      return localStorage.getItem(STORE) || "";
    } catch (error) {
      return "";
    }
  }

  function frameUrl(frameMode) {
    const url = new URL(config.frame_url);
    url.searchParams.set("host", location.origin);
    url.searchParams.set("mode", frameMode);
    const saved = identity();
    if (saved) url.hash = "v=" + saved;
    return url.href;
  }

  function makeFrame(frameMode) {
    iframe = el("iframe");
    iframe.title = "Chat with " + config.business_name;
    iframe.src = frameUrl(frameMode);
    return iframe;
  }

  function post(message) {
    if (!frameReady) {
      outbox.push(message);
      return;
    }
    iframe.contentWindow.postMessage(Object.assign({ frontdesk: 1 }, message), frameOrigin);
  }

  function label() {
    const extra = unread ? " (" + unread + " new)" : "";
    button.setAttribute("aria-label", (isOpen ? "Close chat" : "Open chat") + extra);
    button.setAttribute("aria-expanded", String(isOpen));
    badge.textContent = String(unread);
    badge.hidden = !unread;
  }

  // -- the floating launcher ------------------------------------------------------

  const SHADOW_CSS = [
    ":host{all:initial}",
    "button{all:initial;box-sizing:border-box;width:60px;height:60px;border-radius:50%;",
    "background:var(--fd-primary);color:var(--fd-text);cursor:pointer;display:flex;",
    "align-items:center;justify-content:center;box-shadow:0 4px 14px rgba(0,0,0,.25);",
    "position:relative;transition:transform .15s}",
    "button:hover{background:var(--fd-accent);transform:scale(1.05)}",
    "button:focus-visible{outline:3px solid var(--fd-accent);outline-offset:3px}",
    "svg{width:28px;height:28px;fill:currentColor}",
    ".badge{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;padding:0 5px;",
    "box-sizing:border-box;border-radius:10px;background:#DC2626;color:#fff;",
    "font:700 12px/20px system-ui,sans-serif;text-align:center}",
    ".badge[hidden]{display:none}",
    ".panel{position:fixed;bottom:92px;right:20px;width:380px;height:600px;",
    "max-width:calc(100vw - 40px);max-height:calc(100vh - 112px);border-radius:14px;",
    "overflow:hidden;background:#fff;box-shadow:0 10px 40px rgba(0,0,0,.3);display:none}",
    ".left .panel{right:auto;left:20px}",
    ".open .panel{display:block}",
    "iframe{all:initial;display:block;width:100%;height:100%;border:0}",
    "@media " + NARROW + "{.popup .panel{inset:0;width:100%;height:100%;max-width:none;",
    "max-height:none;border-radius:0}}",
  ].join("");

  const ICON = "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z";

  function colours(node) {
    node.style.setProperty("--fd-primary", config.primary_color);
    node.style.setProperty("--fd-accent", config.accent_color);
    node.style.setProperty("--fd-text", config.text_color);
  }

  function drawLauncher() {
    const host = el("frontdesk-launcher");
    const side = config.position === "left" ? "left" : "right";
    isolate(host, "position:fixed!important;bottom:20px!important;" + side + ":20px!important;" +
      "width:60px!important;height:60px!important;z-index:2147483000!important;");
    root = host.attachShadow({ mode: "closed" });
    style(root, SHADOW_CSS);
    wrap = el("div", side + (config.mobile_popup ? " popup" : ""));
    colours(wrap);
    button = el("button");
    button.type = "button";
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", ICON);
    svg.appendChild(path);
    badge = el("span", "badge");
    button.append(svg, badge);
    // Handled here, not left to the default action: a page that cancels keydown
    // everywhere would otherwise make the launcher unusable from the keyboard.
    button.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        keyedAt = Date.now();
        api.toggle();
      } else if (event.key === "Escape" && isOpen) {
        api.close();
      }
    });
    button.addEventListener("click", () => {
      if (Date.now() - keyedAt > 500) api.toggle(); // else the key's own click, done above
    });
    wrap.append(el("div", "panel"), button);
    root.appendChild(wrap);
    label();
    document.documentElement.appendChild(host);
  }

  function drawEmbedded(container) {
    const host = el("frontdesk-chat");
    isolate(host, "width:100%!important;height:100%!important;min-height:480px!important;");
    root = host.attachShadow({ mode: "closed" });
    style(root, "iframe{all:initial;display:block;width:100%;height:100%;min-height:480px;border:0}");
    container.appendChild(host);
    // After the page's load event: a frame added earlier would hold that event back.
    const attach = () => root.appendChild(makeFrame("embedded"));
    if (document.readyState === "complete") attach();
    else window.addEventListener("load", attach, { once: true });
  }

  // -- the public API -------------------------------------------------------------

  function whenReady(name, args) {
    if (refused) return false;
    if (!config) {
      waiting.push([name, args]);
      return false;
    }
    return true;
  }

  const api = {
    version: 1,
    open() {
      if (!whenReady("open", [])) return;
      if (mode === "embedded") {
        root.host.scrollIntoView({ block: "nearest" });
        post({ type: "focus" });
        emit("open");
        return;
      }
      if (!config.mobile_popup && window.matchMedia(NARROW).matches) {
        window.open(frameUrl("embedded"), "_blank", "noopener");
        return;
      }
      if (!iframe) wrap.firstChild.appendChild(makeFrame("floating"));
      if (isOpen) return;
      isOpen = true;
      unread = 0;
      wrap.classList.add("open");
      label();
      iframe.focus();
      post({ type: "focus" });
      emit("open");
    },
    close() {
      if (!whenReady("close", []) || mode === "embedded" || !isOpen) return;
      isOpen = false;
      wrap.classList.remove("open");
      label();
      button.focus();
      emit("close");
    },
    toggle() {
      if (isOpen) api.close();
      else api.open();
    },
    prefill(text) {
      if (!whenReady("prefill", [text])) return;
      api.open();
      post({ type: "prefill", text: String(text) });
    },
    send(text) {
      if (!whenReady("send", [text])) return;
      api.open();
      post({ type: "send", text: String(text) });
    },
    on(name, fn) {
      if (listeners[name] && typeof fn === "function") listeners[name].push(fn);
    },
    off(name, fn) {
      const list = listeners[name] || [];
      if (list.indexOf(fn) >= 0) list.splice(list.indexOf(fn), 1);
    },
  };

  // Messages from our frame only: the right origin and the right window.
  window.addEventListener("message", (event) => {
    const data = event.data;
    if (!iframe || event.source !== iframe.contentWindow || event.origin !== frameOrigin) return;
    if (!data || data.frontdesk !== 1) return;
    if (data.type === "ready") {
      frameReady = true;
      for (const message of outbox.splice(0)) post(message);
    } else if (data.type === "identity") {
      identity(data);
    } else if (data.type === "close") {
      api.close();
    } else if (data.type === "message" && data.message) {
      if (mode === "floating" && !isOpen && data.message.role !== "visitor") {
        unread += 1;
        label();
      }
      emit("message", data.message);
    }
  });

  // -- anchor actions: <a href="#frontdesk:prefill=Book%20a%20visit"> and the same in the URL

  function act(hash) {
    const action = /^#frontdesk:(open|prefill|send)(?:=(.*))?$/.exec(hash || "");
    if (!action) return false;
    let text = "";
    try {
      text = decodeURIComponent((action[2] || "").replace(/\+/g, " "));
    } catch (error) {
      text = action[2] || "";
    }
    if (action[1] === "open" || !text.trim()) api.open();
    else api[action[1]](text);
    return true;
  }

  function fromLocation() {
    if (act(location.hash)) {
      history.replaceState(history.state, "", location.pathname + location.search);
    }
  }

  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest('a[href^="#frontdesk:"]');
    if (link && act(link.getAttribute("href"))) event.preventDefault();
  });
  window.addEventListener("hashchange", fromLocation);

  // -- start --------------------------------------------------------------------------

  function start() {
    const container = document.querySelector("#frontdesk-chat, [data-frontdesk-chat]");
    if (container) {
      mode = "embedded";
      drawEmbedded(container);
    } else {
      drawLauncher();
    }
    for (const [name, args] of waiting.splice(0)) api[name].apply(null, args);
    fromLocation();
  }

  window.Frontdesk = api;
  fetch(BASE + "/widget/v1/" + KEY + "/config.json", { credentials: "omit" })
    .then((response) =>
      response.json().then((body) => {
        if (!response.ok) throw new Error(body.error || "HTTP " + response.status);
        return body;
      }),
    )
    .then((body) => {
      config = body;
      frameOrigin = new URL(config.frame_url).origin;
      if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", start, { once: true });
      } else {
        start();
      }
    })
    .catch((error) => {
      refused = true;
      waiting.length = 0;
      console.warn("frontdesk chat widget is not shown: " + error.message);
    });
  // Calls a page queued on a stub (window.Frontdesk = {q: [["open"], ...]}) before we ran.
  const queued = stub && Array.isArray(stub.q) ? stub.q : [];
  for (const call of queued) {
    const [name, ...args] = Array.from(call);
    if (typeof api[name] === "function" && name !== "on" && name !== "off") whenReady(name, args);
    else if (name === "on" || name === "off") api[name].apply(null, args);
  }
})();
