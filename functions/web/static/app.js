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
  const fields = ["url", "domain", "validity", "alias"];

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
    anchor.textContent = link.short_url;
    document.getElementById("qr").src = "qr?url=" + encodeURIComponent(link.short_url);
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
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors();
    const url = document.getElementById("url").value.trim();
    if (!url) {
      setFieldError("url", t["error.url"]);
      document.getElementById("url").focus();
      return;
    }
    const request = {
      url,
      domain: document.getElementById("domain").value,
      validity: document.getElementById("validity").value,
    };
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
