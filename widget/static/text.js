// How text reaches the page, shared by the widget's frame and every inbox page (the "try it"
// panel draws messages exactly as visitors will see them): text goes in with textContent,
// never as HTML; only Markdown links to http(s) addresses become anchors (new tab, no
// opener, no referrer). Everything else, `javascript:` links included, stays plain text.
(function () {
  "use strict";

  const LINK = /\[([^\]\n]{1,200})\]\(([^)\s]{1,2000})\)/g;

  // An element whose text is set as text, never parsed as HTML.
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function safeUrl(text) {
    try {
      const url = new URL(text);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (error) {
      return null;
    }
  }

  function renderBody(target, text, links) {
    let last = 0;
    if (links !== false) {
      for (const match of text.matchAll(LINK)) {
        const href = safeUrl(match[2]);
        if (!href) continue;
        target.appendChild(document.createTextNode(text.slice(last, match.index)));
        const anchor = document.createElement("a");
        anchor.textContent = match[1];
        anchor.href = href;
        anchor.target = "_blank";
        anchor.rel = "noopener noreferrer";
        target.appendChild(anchor);
        last = match.index + match[0].length;
      }
    }
    target.appendChild(document.createTextNode(text.slice(last)));
  }

  window.FrontdeskText = Object.freeze({ el, safeUrl, renderBody });
})();
