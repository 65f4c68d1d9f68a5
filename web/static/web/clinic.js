// Small enhancements; every page works without them. No inline scripts: the
// content security policy allows only files served by the app.
"use strict";

function announce(text) {
  const region = document.getElementById("announcements");
  if (!region) return;
  const line = document.createElement("p");
  line.className = "message message--success";
  line.textContent = text;
  region.replaceChildren(line);
}

async function copyFrom(field) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(field.value);
    return;
  }
  field.select();
  document.execCommand("copy");
}

document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-copy-from]")) {
    const field = document.getElementById(button.dataset.copyFrom);
    if (!field) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      try {
        await copyFrom(field);
        announce("Copied the URL.");
      } catch {
        field.select();
        announce("Could not copy: the URL is selected, press Ctrl+C.");
      }
    });
  }
  // A URL shown once: put the keyboard on it, selected, ready to copy.
  const shown = document.getElementById("feed-url");
  if (shown) {
    shown.focus();
    shown.select();
  }
});
