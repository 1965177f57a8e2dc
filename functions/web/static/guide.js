// The "open in your browser" page: copy the destination so it can be pasted in a browser.
// In-app browsers may lack the Clipboard API: the selected field's copy command is the fallback.
"use strict";
(() => {
  const field = document.getElementById("guide-url");
  const button = document.getElementById("guide-copy");
  const status = document.getElementById("guide-status");
  button.addEventListener("click", async () => {
    field.select();
    let copied = false;
    try {
      await navigator.clipboard.writeText(field.value);
      copied = true;
    } catch {
      copied = document.execCommand && document.execCommand("copy");
    }
    status.textContent = copied ? button.dataset.copied : "";
  });
})();
