// The patient pages: after a preview, a refusal or an import, put the
// keyboard (and the screen reader) where the answer is.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  if (document.getElementById("feed-url")) return; // clinic.js focuses a new URL
  const answer = document.querySelector("[data-autofocus]");
  if (answer) answer.focus();
});
