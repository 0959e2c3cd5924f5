// sluicegate console: small enhancements over plain forms (no framework).
"use strict";

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;",
    '"': "&quot;", "'": "&#39;"}[c]));
}

function csrfToken() {
  const field = document.querySelector('input[name="csrf"]');
  return field ? field.value : "";
}

// The editor: a transparent textarea over its highlighted copy; the server highlights
// and checks (the same checker as `sluice check`) a moment after typing stops.
function setUpEditor(box) {
  const area = box.querySelector("textarea");
  const pre = box.querySelector("pre");
  const list = box.parentElement.querySelector("[data-diagnostics]");
  let timer = null;
  let sent = 0;
  const sync = () => { pre.scrollTop = area.scrollTop; pre.scrollLeft = area.scrollLeft; };
  const paint = (html) => { pre.innerHTML = html + "\n"; sync(); };
  const check = async () => {
    const mine = ++sent;
    try {
      const answer = await fetch("/editor/check", {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRF-Token": csrfToken()},
        body: JSON.stringify({source: area.value, name: box.dataset.script || "script"}),
      });
      if (!answer.ok || mine !== sent) return;
      const data = await answer.json();
      paint(data.html);
      if (list) {
        list.innerHTML = "";
        if (!data.diagnostics.length) {
          list.innerHTML = '<li class="clean">No problems found.</li>';
        }
        for (const p of data.diagnostics) {
          const item = document.createElement("li");
          item.className = p.severity;
          item.textContent = `${p.line}:${p.column} ${p.severity}: ${p.message}`;
          list.appendChild(item);
        }
      }
    } catch (err) { /* offline or signed out: the form still works */ }
  };
  area.addEventListener("input", () => {
    paint(escapeHtml(area.value));
    clearTimeout(timer);
    timer = setTimeout(check, 250);
  });
  area.addEventListener("scroll", sync);
  area.addEventListener("keydown", (event) => {
    if (event.key === "Tab" && !event.shiftKey && !event.ctrlKey && !event.metaKey) {
      // a tab inserts a tab; Escape then Tab leaves the editor (keyboard users)
      if (area.dataset.escaped === "1") { area.dataset.escaped = ""; return; }
      event.preventDefault();
      area.setRangeText("\t", area.selectionStart, area.selectionEnd, "end");
      area.dispatchEvent(new Event("input"));
    } else if (event.key === "Escape") {
      area.dataset.escaped = "1";
    }
  });
  check();
}

// The link name scripts use, derived live from the connection name as it is typed.
function setUpLinkName(input) {
  const out = document.getElementById(input.dataset.linkTarget);
  const update = () => {
    let link = input.value.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "");
    if (link && !/^[a-z]/.test(link)) link = "c_" + link;
    out.textContent = link.slice(0, 50) || "–";
  };
  input.addEventListener("input", update);
  update();
}

function setUpCopy(button) {
  button.hidden = false;
  button.addEventListener("click", async () => {
    const text = document.getElementById(button.dataset.copy).textContent;
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = "Copied";
    } catch (err) {
      button.textContent = "Select and copy the text";
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const summary = document.querySelector(".error-summary");
  if (summary) summary.focus();
  document.querySelectorAll("[data-editor]").forEach((box) => {
    if (box.querySelector("textarea")) setUpEditor(box);
  });
  document.querySelectorAll("[data-link-target]").forEach(setUpLinkName);
  document.querySelectorAll("[data-copy]").forEach(setUpCopy);
  document.querySelectorAll("[data-auth-select]").forEach((select) => {
    const show = () => document.querySelectorAll("fieldset[data-auth]").forEach((set) => {
      set.hidden = !set.dataset.auth.split(" ").includes(select.value);
    });
    select.addEventListener("change", show);
    show();
  });
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
});
