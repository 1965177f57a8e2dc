// The shorten form: POST api/shorten, show the link, its QR code and expiry; errors next
// to their field in the page's language. No inline script: the CSP allows only this file.
(() => {
  "use strict";
  const body = document.body;
  const t = JSON.parse(body.dataset.messages);
  const lang = body.dataset.lang;
  const form = document.getElementById("shorten");
  const submit = document.getElementById("submit");
  const formError = document.getElementById("form-error");
  const result = document.getElementById("result");
  const fields = ["url", "domain", "validity", "alias", "expires_at"];
  const RECENT = "shortlink.recent";
  const validity = document.getElementById("validity");
  const customExpiry = document.getElementById("custom-expiry");

  // Pasted share text (淘宝, 小红书 …) holds the link among words: take the first http(s) address;
  // an address without a scheme gets https://.
  function cleanUrl(text) {
    const found = text.match(/https?:\/\/[^\s，。！？；、「」『』【】《》（）()"'<>]+/i);
    const url = found ? found[0] : text.trim();
    return /^[a-z][a-z0-9+.-]*:/i.test(url) || !url ? url : "https://" + url;
  }

  // A short URL breaks only after a slash: each part between slashes is kept whole.
  function breakAtSlashes(element, url) {
    element.replaceChildren();
    url.split("/").forEach((part, i, parts) => {
      const piece = document.createElement("span");
      piece.className = "nowrap";
      piece.textContent = part + (i < parts.length - 1 ? "/" : "");
      element.append(piece, document.createElement("wbr"));
    });
  }

  function recent() {
    try { return JSON.parse(localStorage.getItem(RECENT) || "[]"); } catch (broken) { return []; }
  }

  function showRecent() {
    const links = recent();
    const list = document.getElementById("recent-links");
    list.replaceChildren();
    for (const link of links) {
      const item = document.createElement("li");
      const anchor = document.createElement("a");
      anchor.href = link.short_url;
      breakAtSlashes(anchor, link.short_url);
      const target = document.createElement("span");
      target.className = "muted";
      target.textContent = " → " + link.url;
      item.append(anchor, target);
      list.append(item);
    }
    document.getElementById("recent").hidden = links.length === 0;
  }

  function remember(link) {
    const links = [{ short_url: link.short_url, url: link.url, expires_at: link.expires_at },
      ...recent().filter((l) => l.short_url !== link.short_url)].slice(0, 10);
    try { localStorage.setItem(RECENT, JSON.stringify(links)); } catch (full) { /* private mode: not kept */ }
    showRecent();
  }

  validity.addEventListener("change", () => { customExpiry.hidden = validity.value !== "custom"; });

  function setFieldError(name, message) {
    const input = document.getElementById(name);
    document.getElementById(name + "-error").textContent = message || "";
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  function clearErrors() {
    fields.forEach((name) => setFieldError(name, ""));
    formError.textContent = "";
  }

  function showProblem(status, problem) {
    if (status === 422 && Array.isArray(problem.errors) && problem.errors.length) {
      let first = null;
      problem.errors.forEach((error) => {
        const name = fields.includes(error.field) ? error.field : null;
        if (name) {
          setFieldError(name, t["error." + name]);
          first = first || name;
        } else {
          formError.textContent = t["error.generic"];
        }
      });
      if (first) document.getElementById(first).focus();
      return;
    }
    if (status === 409) {
      setFieldError("alias", t["error.alias_taken"]);
      document.getElementById("alias").focus();
      return;
    }
    const byStatus = { 403: "error.disabled", 429: "error.too_many", 502: "error.unavailable", 503: "error.unavailable", 504: "error.unavailable" };
    formError.textContent = t[byStatus[status] || "error.generic"];
  }

  function showLink(link) {
    const anchor = document.getElementById("short-url");
    anchor.href = link.short_url;
    breakAtSlashes(anchor, link.short_url);
    document.getElementById("destination").textContent = link.url;
    document.getElementById("validity-shown").textContent = validity.selectedOptions[0].textContent;
    document.getElementById("qr").src = "qr?url=" + encodeURIComponent(link.short_url);
    document.querySelectorAll("#qr-downloads a").forEach((download) => {
      const size = download.dataset.size;
      const png = size !== "svg";
      download.href = `qr?url=${encodeURIComponent(link.short_url)}${png ? `&format=png&size=${size}` : ""}`;
      download.download = `qr-${link.code}.${png ? "png" : "svg"}`;
    });
    const expires = document.getElementById("expires");
    if (link.expires_at) {
      expires.dateTime = link.expires_at;
      expires.textContent = new Date(link.expires_at).toLocaleString(lang, { dateStyle: "long", timeStyle: "short" });
    } else {
      expires.removeAttribute("datetime");
      expires.textContent = t.never_expires;
    }
    document.getElementById("copy-status").textContent = "";
    result.hidden = false;
    document.getElementById("result-title").focus();
    remember(link);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors();
    result.hidden = true;  // a new answer, or an error, replaces the last one
    const input = document.getElementById("url");
    const url = cleanUrl(input.value);
    input.value = url;
    if (!url) {
      setFieldError("url", t["error.url"]);
      document.getElementById("url").focus();
      return;
    }
    const request = { url, domain: document.getElementById("domain").value };
    if (validity.value === "custom") {
      const at = document.getElementById("expires_at").value;
      if (!at || new Date(at) <= new Date()) {
        setFieldError("expires_at", t["error.expires_at"]);
        document.getElementById("expires_at").focus();
        return;
      }
      request.expires_at = new Date(at).toISOString();  // the visitor's local time, sent with its offset (UTC)
    } else {
      request.validity = validity.value;
    }
    const alias = document.getElementById("alias").value.trim();
    if (alias) request.alias = alias;
    submit.disabled = true;
    submit.textContent = t.shortening;
    try {
      let response;
      try {
        response = await fetch("api/shorten", {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify(request),
        });
      } catch (failure) {
        formError.textContent = t["error.network"];
        return;
      }
      let answer = {};
      try {
        answer = await response.json();
      } catch (notJson) {
        answer = {};
      }
      if (response.status === 201) showLink(answer);
      else showProblem(response.status, answer);
    } finally {
      submit.disabled = false;
      submit.textContent = t.shorten;
    }
  });

  showRecent();

  document.getElementById("copy").addEventListener("click", async () => {
    const text = document.getElementById("short-url").textContent;
    const status = document.getElementById("copy-status");
    try {
      await navigator.clipboard.writeText(text);
      status.textContent = t.copied;
    } catch (denied) {
      const range = document.createRange();
      range.selectNodeContents(document.getElementById("short-url"));
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      status.textContent = document.execCommand("copy") ? t.copied : t.copy_failed;
    }
  });
})();
