// The console: the /api routes, called with the API key the user signs in with (kept in this
// browser only: sessionStorage, or localStorage when remembered). No other server state.
(() => {
  "use strict";
  const T = JSON.parse(document.body.dataset.messages);
  const KEY = "shortlink.key";
  const ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const $ = (id) => document.getElementById(id);
  const views = ["sign-in", "list", "detail", "keys"];
  let key = sessionStorage.getItem(KEY) || localStorage.getItem(KEY);
  let loaded = [];
  let cursor = null;
  let latest = "";  // the list request whose answer is shown
  let typing = null;
  let chart = null;
  let bulkRows = [];
  let me = null;  // the signed-in key as the service sees it: role, team (GET /api/keys/me)

  function show(view) {
    views.forEach((v) => { $(v).hidden = v !== view; });
    $("sign-out").hidden = view === "sign-in";
    $("new-link").hidden = view === "sign-in";
    showIdentity(view !== "sign-in");
  }

  // The header's role and team, and the admins' Keys link, once the signed-in key is known.
  function showIdentity(signedIn) {
    $("whoami").hidden = !signedIn || !me;
    $("keys-link").hidden = !signedIn || !me || me.role !== "admin";
  }

  function text(name, values = {}) {
    return (T[name] || name).replace(/\{(\w+)\}/g, (_, k) => values[k]);
  }

  function cell(row, content) {
    const td = document.createElement("td");
    if (content instanceof Node) td.append(content); else td.textContent = content;
    row.append(td);
    return td;
  }

  function localTime(iso) {
    return iso ? new Date(iso).toLocaleString(document.documentElement.lang, { timeZone: ZONE }) : T["console.never"];
  }

  // A key as a change names it: a managed key by its name, another by its id.
  const actorName = (actor) => (actor ? actor.name || actor.key_id : "");

  // A request that got no answer (the network, a stopped server, 20 s without a word).
  class Unreachable extends Error {}

  async function api(path, options = {}) {
    const headers = { "x-api-key": key, ...(options.body ? { "Content-Type": "application/json" } : {}) };
    let response;
    try {
      response = await fetch(path, { ...options, headers, signal: AbortSignal.timeout(20000) });
    } catch (noAnswer) {
      throw new Unreachable(String(noAnswer));
    }
    // The key itself refused: by the key authorizer (401: revoked, expired, unknown) or API Gateway
    // (403 api-key); any other 403 is this key's role or domains, said where it happened.
    if (response.status === 401) { signOut(T["console.key_refused"]); throw new Error("key"); }
    if (response.status === 403) {
      const problem = await response.clone().json().catch(() => null);
      if (!problem || String(problem.type).endsWith("/api-key")) { signOut(T["console.bad_key"]); throw new Error("key"); }
    }
    return response;
  }

  // A button in a row or a message: its text, classes, what a click does, and the name a screen
  // reader hears when the text alone is ambiguous in a list ("Copy" of which link).
  function button(label, className, onClick, name = "") {
    const made = document.createElement("button");
    made.type = "button";
    made.className = className;
    made.textContent = label;
    if (name) made.setAttribute("aria-label", name);
    made.addEventListener("click", onClick);
    return made;
  }

  // On a phone each row is a card: its cells say what they are (the header row is hidden there).
  function labelCells(table, row) {
    const headings = [...table.tHead.rows[0].cells].map((th) => th.textContent);
    [...row.cells].forEach((td, i) => { td.dataset.label = headings[i]; });
  }

  // What a failed step says, in the page's language, where it happened; `retry` runs it again.
  function failure(where, message, retry) {
    const box = $(where);
    box.replaceChildren(message);
    if (retry) box.append(" ", button(T["console.retry"], "small", () => { box.replaceChildren(); retry(); }));
  }

  // Runs a step; a request without an answer shows where it happened, with a retry.
  async function step(where, run) {
    try {
      $(where).replaceChildren();
      await run();
    } catch (error) {
      if (error instanceof Unreachable) failure(where, T["console.unreachable"], () => step(where, run));
      else if (error.message !== "key") throw error;
    }
  }

  // A problem answer as the page's language says it: the first bad field's text, else the detail.
  function problemMessage(status, problem) {
    if (status === 409) return { field: "alias", message: T["error.alias_taken"] };
    const field = problem && problem.errors && problem.errors[0] && problem.errors[0].field;
    return { field, message: T[`error.${field}`] || (problem && (problem.detail || problem.title)) || T["error.generic"] };
  }

  async function problemText(response) {
    return (await problemOf(response)).message;
  }

  async function problemOf(response) {
    let problem = null;
    try { problem = await response.json(); } catch (notJson) { /* a gateway's bare answer */ }
    return problemMessage(response.status, problem);
  }

  function download(blob, name) {
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  }

  // Sign in and out ---------------------------------------------------------------------------
  $("sign-in").addEventListener("submit", async (event) => {
    event.preventDefault();
    key = $("key").value.trim();
    const probe = await fetch("api/links?limit=1", { headers: { "x-api-key": key } });
    if (!probe.ok) { $("key-error").textContent = T[probe.status === 401 ? "console.key_refused" : "console.bad_key"]; return; }
    (($("remember").checked) ? localStorage : sessionStorage).setItem(KEY, key);
    $("key").value = "";
    $("key-error").textContent = "";
    route();
  });

  function signOut(message = "") {
    sessionStorage.removeItem(KEY);
    localStorage.removeItem(KEY);
    key = null;
    me = null;
    delete document.body.dataset.role;
    $("key-error").textContent = message;
    location.hash = "";
    show("sign-in");
  }
  $("sign-out").addEventListener("click", () => signOut());

  // The links ------------------------------------------------------------------------------------
  async function loadLinks(more = false) {
    const params = new URLSearchParams({ limit: "100" });
    if ($("search").value.trim()) params.set("q", $("search").value.trim());
    const sort = { oldest: "created", visits: "-visits" }[$("sort").value];  // the server orders every link
    if (sort) params.set("sort", sort);
    if ($("state").value) params.set("state", $("state").value);
    if ($("tag-filter").value.trim()) params.set("tag", $("tag-filter").value.trim());
    if ($("domain-filter").value) params.set("domain", $("domain-filter").value);
    if (more && cursor) params.set("cursor", cursor);
    const asked = String(params);
    latest = asked;
    const response = await api(`api/links?${params}`);
    if (latest !== asked) return;  // the filters changed meanwhile: a later answer is coming
    if (!response.ok) { $("list-error").textContent = await problemText(response); return; }
    const page = await response.json();
    loaded = more ? loaded.concat(page.links) : page.links;
    cursor = page.cursor;
    renderLinks();
  }
  const listLinks = (more = false) => step("list-error", () => loadLinks(more));

  function renderLinks() {
    const owners = new Set(loaded.map((l) => l.owner));
    const operator = (me && me.role === "admin") || owners.size > 1 || owners.has(null);  // an admin sees every key's links
    document.querySelectorAll(".owner").forEach((th) => { th.hidden = !operator; });
    const body = $("links").tBodies[0];
    body.replaceChildren();
    for (const link of loaded) {
      const row = document.createElement("tr");
      const open = document.createElement("a");
      open.href = `#link/${encodeURIComponent(link.domain)}/${encodeURIComponent(link.code)}`;
      open.textContent = link.short_url;
      const copy = button(T.copy, "small", () => navigator.clipboard.writeText(link.short_url).then(() => { copy.textContent = T.copied; }),
        `${T.copy} ${link.short_url}`);
      const first = cell(row, open);
      first.append(" ", copy);
      cell(row, link.title ? `${link.title} — ${link.url}` : link.url).className = "url";
      cell(row, String(link.visits));
      const state = cell(row, T[`console.state.${link.state}`]);
      if (link.disabled || operator) {  // an operator takes a link down in one click; anyone puts it back
        const label = link.disabled ? T["console.enable"] : T["console.disable"];
        const toggle = button(label, link.disabled ? "small writes" : "small danger writes", () => step("list-error", async () => {
          const answer = await api(`api/links/${encodeURIComponent(link.code)}?domain=${encodeURIComponent(link.domain)}`,
            { method: "PATCH", body: JSON.stringify({ disabled: !link.disabled }) });
          if (!answer.ok) { $("list-error").textContent = await problemText(answer); return; }
          const changed = await answer.json();
          loaded = loaded.map((l) => (l.code === changed.code && l.domain === changed.domain ? changed : l));
          renderLinks();
        }), `${label} ${link.short_url}`);
        state.append(" ", toggle);
      }
      const when = document.createElement("time");
      if (link.expires_at) when.dateTime = link.expires_at;
      when.textContent = localTime(link.expires_at);
      cell(row, when);
      // who made it: a managed key by its name
      cell(row, actorName(link.created_by) || T["console.anonymous"]).hidden = !operator;
      labelCells($("links"), row);
      row.dataset.code = link.code;
      body.append(row);
    }
    const filtered = ["search", "state", "tag-filter", "domain-filter"].some((id) => $(id).value.trim());
    $("empty").textContent = filtered ? T["console.no_match"] : T["console.empty"];
    $("empty").hidden = loaded.length > 0;
    $("more").hidden = !cursor;
  }

  // The server searches every link, not only those loaded; typing waits for a pause.
  $("search").addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(() => listLinks(), 300); });
  $("sort").addEventListener("change", () => listLinks());
  $("state").addEventListener("change", () => listLinks());
  $("domain-filter").addEventListener("change", () => listLinks());
  $("tag-filter").addEventListener("change", () => listLinks());
  $("new-link").addEventListener("click", () => {
    if (location.hash) location.hash = "";
    $("create-title").scrollIntoView();
    $("new-url").focus();
  });

  // Create: every option the API has; UTM tags are appended to the URL -----------------------
  $("new-validity").addEventListener("change", () => { $("new-custom").hidden = $("new-validity").value !== "custom"; });

  function localIso(value) {
    return value ? new Date(value).toISOString() : null;  // datetime-local is the browser's time
  }

  $("create").addEventListener("submit", (event) => { event.preventDefault(); step("create-error", create); });

  async function create() {
    for (const id of ["new-url-error", "new-alias-error", "new-expires_at-error", "create-result"]) $(id).textContent = "";
    let url;
    try {
      url = new URL($("new-url").value.trim());
      for (const name of ["source", "medium", "campaign"]) {
        const value = $(`utm-${name}`).value.trim();
        if (value) url.searchParams.set(`utm_${name}`, value);
      }
    } catch (notUrl) {
      $("new-url-error").textContent = T["error.url"];
      $("new-url").focus();
      return;
    }
    const link = { url: url.toString(), domain: $("new-domain").value };
    if ($("new-validity").value === "custom") link.expires_at = localIso($("new-expires-at").value);
    else link.validity = $("new-validity").value;
    const optional = { alias: $("new-alias").value.trim(), title: $("new-title").value.trim(), password: $("new-password").value,
      valid_since: localIso($("new-valid-since").value) };
    for (const [name, value] of Object.entries(optional)) if (value) link[name] = value;
    const tags = $("new-tags").value.split(/[,，]/).map((t) => t.trim()).filter(Boolean);
    if (tags.length) link.tags = tags;
    if ($("new-max-visits").value) link.max_visits = Number($("new-max-visits").value);
    const targets = {};
    for (const kind of ["ios", "android", "desktop"]) if ($(`target-${kind}`).value.trim()) targets[kind] = $(`target-${kind}`).value.trim();
    if (Object.keys(targets).length) link.targets = targets;
    const visit = visitSettings("new");
    if (visit === null) return;
    for (const [name, value] of Object.entries(visit)) if (value !== null) link[name] = value;
    const response = await api("api/links", { method: "POST", body: JSON.stringify(link) });
    if (response.status === 201) {
      const made = await response.json();
      $("create-result").textContent = `${T["console.made"]} ${made.short_url}`;
      $("create").reset();
      $("new-custom").hidden = true;
      loaded = [made, ...loaded];
      renderLinks();
      return;
    }
    const { field, message } = await problemOf(response);
    const target = { url: "new-url-error", alias: "new-alias-error", expires_at: "new-expires_at-error", validity: "new-expires_at-error" }[field];
    $(target || "create-error").textContent = message;
  }
  $("more").addEventListener("click", () => listLinks(true));

  // In-app behaviour, redirect rules (JSON) and the preview of the New and Change forms: null
  // where nothing is given; null (and a message) for rules that are no JSON.
  function visitSettings(prefix) {
    const rulesText = $(`${prefix}-rules`).value.trim();
    let rules = null;
    if (rulesText) {
      try { rules = JSON.parse(rulesText); } catch {
        $(prefix === "new" ? "create-error" : "edit-result").textContent = T["console.rules_bad_json"];
        $(`${prefix}-rules`).focus();
        return null;
      }
    }
    const preview = {};
    for (const part of ["title", "description", "image"]) {
      const value = $(`${prefix}-preview-${part}`).value.trim();
      if (value) preview[part] = value;
    }
    return { in_app: $(`${prefix}-in-app`).value || null, rules, preview: Object.keys(preview).length ? preview : null };
  }

  // Bulk create: lines "url" or "url,alias,title", or a CSV whose header row names its columns;
  // in batches of at most 100 -----------------------------------------------------------------
  // Rows of CSV text (quoted fields keep their commas and quotes), empty rows left out.
  function csvRows(textContent) {
    const rows = [];
    for (const line of textContent.replace(/^\ufeff/, "").split(/\r?\n/)) {
      const cells = [];
      let cellText = "";
      let quoted = false;
      for (let i = 0; i < line.length; i += 1) {
        const c = line[i];
        if (quoted && c === '"' && line[i + 1] === '"') { cellText += '"'; i += 1; }
        else if (c === '"') quoted = !quoted;
        else if (c === "," && !quoted) { cells.push(cellText); cellText = ""; }
        else cellText += c;
      }
      cells.push(cellText);
      if (cells.some((v) => v.trim())) rows.push(cells.map((v) => v.trim()));
    }
    return rows;
  }

  // The columns a CSV with a header row may carry, each as the API takes it. A value that is not
  // what the API takes is sent as written: the server's answer names the field.
  const asNumber = (v) => (/^\d+$/.test(v) ? Number(v) : v);
  const asJson = (v) => { try { return JSON.parse(v); } catch { return v; } };
  const BULK_COLUMNS = {
    url: String, alias: String, domain: String, title: String, validity: String, in_app: String,
    tags: (v) => v.split(";").map((t) => t.trim()).filter(Boolean), max_visits: asNumber, rules: asJson,
  };
  const hasHeader = (rows) => rows.length > 0 && rows[0][0].toLowerCase() === "url";

  // The links the text asks for, each with the line it came from (for the results table).
  function bulkLinks(text) {
    const rows = csvRows(text);
    if (hasHeader(rows)) {
      const names = rows[0].map((name) => name.toLowerCase());
      return rows.slice(1).map((cells) => {
        const link = {};
        names.forEach((name, i) => { if (BULK_COLUMNS[name] && cells[i]) link[name] = BULK_COLUMNS[name](cells[i]); });
        return { line: cells.join(","), link };
      });
    }
    return text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean).map((line) => {
      // url, alias, then the title: everything after the second comma, commas and all
      const [url, alias = "", title = ""] = line.match(/^([^,]*),?([^,]*),?(.*)$/).slice(1).map((p) => p.trim());
      return { line, link: { url, ...(alias ? { alias } : {}), ...(title ? { title } : {}) } };
    });
  }

  $("bulk-file").addEventListener("change", async () => {
    const file = $("bulk-file").files[0];
    if (!file) return;
    const text = (await file.text()).replace(/^\ufeff/, "");
    const rows = csvRows(text);
    // a file with a header row stays CSV; rows without one become lines, where a title keeps its
    // commas (everything after the second comma is the title)
    $("bulk-lines").value = hasHeader(rows) ? text.trim()
      : rows.map((cells) => [cells[0], cells[1] || "", cells.slice(2).join(",")].join(",").replace(/,+$/, "")).join("\n");
  });

  $("bulk").addEventListener("submit", (event) => { event.preventDefault(); step("bulk-error", bulkCreate); });

  async function bulkCreate() {
    const wanted = bulkLinks($("bulk-lines").value);
    const made = [];
    bulkRows = [];
    for (let start = 0; start < wanted.length; start += 100) {
      const chunk = wanted.slice(start, start + 100);
      const response = await api("api/links/batch", { method: "POST", body: JSON.stringify({ links: chunk.map((w) => w.link) }) });
      const results = response.ok ? (await response.json()).results : chunk.map(() => ({ status: response.status }));
      results.forEach((result, i) => {
        const outcome = result.status === 201 ? `${T["console.created"]}: ${result.link.short_url}`
          : problemMessage(result.status, result.error).message;
        bulkRows.push({ line: chunk[i].line, status: result.status, outcome, short_url: result.link ? result.link.short_url : "" });
        if (result.link) made.push(result.link);
      });
    }
    const body = $("bulk-table").tBodies[0];
    body.replaceChildren();
    for (const row of bulkRows) {
      const tr = document.createElement("tr");
      tr.className = row.status === 201 ? "ok" : "failed";
      cell(tr, row.line);
      cell(tr, row.outcome);
      body.append(tr);
    }
    $("bulk-results").hidden = false;
    loaded = [...made.reverse(), ...loaded];  // newest first, as the list shows them
    renderLinks();
  }

  $("bulk-download").addEventListener("click", () => {
    // Quoted, and a cell a spreadsheet would run as a formula made text (OWASP's CSV injection rule).
    const quote = (v) => `"${String(v).replace(/^[=+\-@\t\r]/, "'$&").replace(/"/g, '""')}"`;
    const csv = [["line", "status", "short_url", "result"], ...bulkRows.map((r) => [r.line, r.status, r.short_url, r.outcome])]
      .map((r) => r.map(quote).join(",")).join("\r\n");
    download(new Blob(["\ufeff", csv], { type: "text/csv" }), "bulk-results.csv");
  });

  // One link: settings, statistics, QR -------------------------------------------------------
  let current = null;
  let comparing = [];  // codes of links drawn beside this one

  async function loadLink(domain, code) {
    if (!current || current.code !== code || current.domain !== domain) { comparing = []; $("compare").value = ""; }
    const response = await api(`api/links/${encodeURIComponent(code)}?domain=${encodeURIComponent(domain)}`);
    if (!response.ok) { $("detail-error").textContent = await problemText(response); return; }
    current = await response.json();
    $("detail-title").textContent = current.short_url;
    $("copy-short-status").textContent = "";
    const settings = $("settings");
    settings.replaceChildren();
    const none = T["console.none"];
    const limit = current.max_visits == null ? none
      : `${current.max_visits} (${text("console.visits_left", { left: Math.max(0, current.max_visits - current.visits) })})`;
    const targets = Object.entries(current.targets || {}).map(([kind, url]) => `${kind}: ${url}`).join("\n") || none;
    for (const [name, value] of [[T["console.col_url"], current.url], [T["console.link_title"], current.title || none],
      [T["console.tags"], (current.tags || []).join(", ") || none], [T["console.col_state"], T[`console.state.${current.state}`]],
      [T["console.col_visits"], String(current.visits)], [T["console.limit_shown"], limit],
      [T["console.created_at"], localTime(current.created_at)], [T["console.valid_since_shown"], current.valid_since ? localTime(current.valid_since) : none],
      [T["console.col_expires"], localTime(current.expires_at)],
      [T["console.password_shown"], current.password_protected ? T["console.password_set"] : T["console.password_none"]],
      [T["console.targets_shown"], targets],
      [T["console.in_app_shown"], T[`console.in_app_${current.in_app || "default"}`]],
      [T["console.rules_shown"], (current.rules || []).map((r) => `${JSON.stringify(r.when)} → ${r.url}`).join("\n") || none],
      [T["console.preview_shown"], current.preview ? [current.preview.title, current.preview.description, current.preview.image].filter(Boolean).join("\n") : none],
      [T["console.col_owner"], current.owner || T["console.anonymous"]],
      [T["console.team_shown"], current.team || none],
      [T["console.created_by"], actorName(current.created_by) || T["console.anonymous"]],
      [T["console.updated_by"], actorName(current.updated_by) || T["console.anonymous"]]]) {
      const dt = document.createElement("dt");
      dt.textContent = name;
      const dd = document.createElement("dd");
      dd.textContent = value;
      settings.append(dt, dd);
    }
    $("toggle").textContent = current.disabled ? T["console.enable"] : T["console.disable"];
    $("edit-url").value = current.url;
    $("edit-title").value = current.title || "";
    $("edit-tags").value = (current.tags || []).join(", ");
    $("edit-validity").value = "";
    $("edit-max-visits").value = current.max_visits || "";
    $("edit-expires-at").value = "";
    $("edit-permanent").checked = false;
    $("edit-password").value = "";
    $("edit-clear-password").checked = false;
    for (const kind of ["ios", "android", "desktop"]) $(`edit-target-${kind}`).value = (current.targets || {})[kind] || "";
    $("edit-in-app").value = current.in_app || "";
    $("edit-rules").value = (current.rules || []).length ? JSON.stringify(current.rules, null, 1) : "";
    for (const part of ["title", "description", "image"]) $(`edit-preview-${part}`).value = (current.preview || {})[part] || "";
    $("detail-title").focus();
    await loadStats();
    await loadQr();
  }

  // Times and names as the page's language says them: 11月30日 14:00, 中国, 微信.
  const LANG = document.documentElement.lang;
  const regions = new Intl.DisplayNames([LANG], { type: "region" });
  const KINDS = { platforms: "platform", apps: "app", devices: "device" };

  function moment(seconds, withHour) {
    // an hour in the viewer's zone; a day (given as its noon UTC) as the calendar day it is
    const shape = withHour ? { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: ZONE }
      : { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" };
    return new Intl.DateTimeFormat(LANG, shape).format(new Date(seconds * 1000));
  }

  // An axis tick: the day at a day's start, else the hour (the full moment is in the legend).
  function tick(seconds, withHour) {
    if (!withHour) return new Intl.DateTimeFormat(LANG, { month: "short", day: "numeric", timeZone: "UTC" }).format(new Date(seconds * 1000));
    const hour = new Intl.DateTimeFormat(LANG, { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: ZONE }).format(new Date(seconds * 1000));
    return /^0?0:00$/.test(hour)
      ? new Intl.DateTimeFormat(LANG, { month: "short", day: "numeric", timeZone: ZONE }).format(new Date(seconds * 1000)) : hour;
  }

  function valueName(dimension, value) {
    if (dimension === "countries" && /^[A-Z]{2}$/.test(value)) {
      try { return regions.of(value) || value; } catch (unknownRegion) { return value; }
    }
    return T[`stats.${KINDS[dimension]}.${value}`] || T[`stats.${value}`] || value;
  }

  function query(extra = {}) {
    if ($("range").value === "custom" && $("range-from").value && $("range-to").value) {
      const span = (Date.parse($("range-to").value) - Date.parse($("range-from").value)) / 86400000 + 1;
      return new URLSearchParams({ domain: current.domain, tz: ZONE, from: $("range-from").value, to: $("range-to").value,
        granularity: span <= 7 ? "hour" : "day", ...extra });
    }
    const days = Number($("range").value) || 7;
    const today = new Intl.DateTimeFormat("en-CA", { timeZone: ZONE }).format(new Date());
    const from = new Date(`${today}T12:00:00Z`);
    from.setUTCDate(from.getUTCDate() - (days - 1));
    return new URLSearchParams({ domain: current.domain, tz: ZONE, from: from.toISOString().slice(0, 10), to: today,
      granularity: days <= 7 ? "hour" : "day", ...extra });
  }

  async function loadStats() {
    const response = await api(`api/links/${encodeURIComponent(current.code)}/stats?${query()}`);
    if (!response.ok) { $("detail-error").textContent = await problemText(response); return; }
    const report = await response.json();
    const series = report.hours || report.days;
    const hourly = Boolean(report.hours);
    const times = series.map((p) => Date.parse(p.hour || `${p.day}T12:00:00Z`) / 1000);
    const visits = series.map((p) => p.visits);
    $("total").textContent = String(report.total);
    $("visitors").textContent = String(report.visitors);
    const chartBox = $("chart");
    chartBox.dataset.total = String(visits.reduce((a, b) => a + b, 0));
    if (chart) chart.destroy();
    const others = await comparedSeries();
    chart = new uPlot({ width: Math.min(chartBox.clientWidth || 600, 900), height: 220,
      series: [{ label: T["console.when"], value: (u, v) => (v == null ? "" : moment(v, hourly)) },
        { label: T["console.visits"], stroke: "#1a56db", width: 2 }, { label: T["console.visitors"], stroke: "#0e9f6e" },
        ...others.map((other, i) => ({ label: other.code, stroke: PALETTE[i % PALETTE.length], width: 2, dash: [6, 3] }))],
      axes: [{ space: 70, values: (u, splits) => splits.map((v) => tick(v, hourly)) }, {}] },
    [times, visits, series.map((p) => p.visitors), ...others.map((other) => other.visits)], chartBox);
    chartBox.dataset.compared = others.map((other) => other.code).join(",");
    const body = $("series").tBodies[0];
    body.replaceChildren();
    for (const point of series) {
      const tr = document.createElement("tr");
      const when = document.createElement("time");
      when.dateTime = point.hour || point.day;
      when.textContent = moment(Date.parse(point.hour || `${point.day}T12:00:00Z`) / 1000, hourly);
      cell(tr, when);
      cell(tr, String(point.visits));
      cell(tr, String(point.visitors));
      body.append(tr);
    }
    const box = $("dimensions");
    box.replaceChildren();
    for (const name of ["platforms", "apps", "referrers", "countries", "browsers"]) {
      const table = document.createElement("table");
      table.createCaption().textContent = T[`console.${name}`];
      const head = table.createTHead().insertRow();
      for (const label of [T["console.name"], T["console.count"]]) {
        const th = document.createElement("th");
        th.scope = "col";
        th.textContent = label;
        head.append(th);
      }
      const rows = table.createTBody();
      const most = Math.max(1, ...Object.values(report[name]));
      for (const [label, count] of Object.entries(report[name])) {
        const tr = rows.insertRow();
        cell(tr, valueName(name, label)).title = label;
        const amount = cell(tr, String(count));
        const bar = document.createElement("span");
        bar.className = "bar";
        bar.style.width = `${Math.round((count / most) * 100)}%`;  // CSSOM, which the CSP allows
        amount.append(bar);
      }
      table.dataset.dimension = name;
      box.append(table);
    }
  }

  // Links compared on the chart: their visits over the same range, by their codes on this domain.
  const PALETTE = ["#c2410c", "#7c3aed", "#0f766e", "#be185d"];

  async function comparedSeries() {
    const found = [];
    for (const code of comparing) {
      const answer = await api(`api/links/${encodeURIComponent(code)}/stats?${query()}`);
      if (!answer.ok) { $("detail-error").textContent = `${code}: ${await problemText(answer)}`; continue; }
      const other = await answer.json();
      found.push({ code, visits: (other.hours || other.days).map((p) => p.visits) });
    }
    return found;
  }

  $("compare-form").addEventListener("submit", (event) => {
    event.preventDefault();
    comparing = $("compare").value.split(/[,，\s]+/).map((c) => c.trim()).filter((c) => c && c !== current.code);
    step("detail-error", loadStats);
  });

  async function loadQr() {
    const response = await api(`api/links/${encodeURIComponent(current.code)}/qr?domain=${encodeURIComponent(current.domain)}&format=svg&size=200`);
    if (response.ok) $("qr").src = URL.createObjectURL(await response.blob());
  }

  // Edit: only what changed is sent (PATCH); an emptied title, tag list or limit clears it.
  $("edit").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("edit-result").textContent = "";
    const changes = {};
    const url = $("edit-url").value.trim();
    if (url !== current.url) changes.url = url;
    const title = $("edit-title").value.trim();
    if (title !== (current.title || "")) changes.title = title || null;
    const tags = $("edit-tags").value.split(/[,，]/).map((t) => t.trim()).filter(Boolean);
    if (tags.join(",") !== (current.tags || []).join(",")) changes.tags = tags;
    if ($("edit-validity").value) changes.validity = $("edit-validity").value;
    if ($("edit-expires-at").value) changes.expires_at = localIso($("edit-expires-at").value);
    if ($("edit-permanent").checked) changes.expires_at = null;
    if ($("edit-password").value) changes.password = $("edit-password").value;
    if ($("edit-clear-password").checked) changes.password = null;
    const targets = {};
    for (const kind of ["ios", "android", "desktop"]) {
      const value = $(`edit-target-${kind}`).value.trim();
      if (value !== ((current.targets || {})[kind] || "")) targets[kind] = value || null;  // emptied: removed
    }
    if (Object.keys(targets).length) changes.targets = targets;
    const visit = visitSettings("edit");
    if (visit === null) return;
    const was = { in_app: current.in_app || null, rules: (current.rules || []).length ? current.rules : null, preview: current.preview || null };
    for (const [name, value] of Object.entries(visit)) if (JSON.stringify(value) !== JSON.stringify(was[name])) changes[name] = value;
    const limit = $("edit-max-visits").value ? Number($("edit-max-visits").value) : null;
    if (limit !== (current.max_visits || null)) changes.max_visits = limit;
    if (!Object.keys(changes).length) return;
    const response = await api(`api/links/${encodeURIComponent(current.code)}?domain=${encodeURIComponent(current.domain)}`,
      { method: "PATCH", body: JSON.stringify(changes) });
    if (!response.ok) { $("edit-result").textContent = await problemText(response); return; }
    await loadLink(current.domain, current.code);
    $("edit-result").textContent = T["console.saved"];
  });

  $("range").addEventListener("change", () => {
    $("custom-range").hidden = $("range").value !== "custom";
    if (!$("range-to").value) {  // the last week, to start from
      const today = new Intl.DateTimeFormat("en-CA", { timeZone: ZONE }).format(new Date());
      $("range-to").value = today;
      $("range-from").value = new Date(Date.parse(`${today}T12:00:00Z`) - 6 * 86400000).toISOString().slice(0, 10);
    }
    if ($("range").value !== "custom") step("detail-error", loadStats);
  });
  for (const id of ["range-from", "range-to"]) $(id).addEventListener("change", () => step("detail-error", loadStats));
  $("copy-short").addEventListener("click", () => navigator.clipboard.writeText(current.short_url)
    .then(() => { $("copy-short-status").textContent = T.copied; }));
  $("export").addEventListener("click", async () => {
    const response = await api(`api/links/${encodeURIComponent(current.code)}/stats?${query({ format: "csv", lang: LANG })}`);
    if (response.ok) download(await response.blob(), `stats-${current.code}.csv`);
  });
  $("qr-downloads").addEventListener("click", async (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    const { format, size } = button.dataset;
    const response = await api(`api/links/${encodeURIComponent(current.code)}/qr?domain=${encodeURIComponent(current.domain)}&format=${format}&size=${size}`);
    if (response.ok) download(await response.blob(), `qr-${current.code}.${format}`);
  });
  $("toggle").addEventListener("click", async () => {
    const response = await api(`api/links/${encodeURIComponent(current.code)}?domain=${encodeURIComponent(current.domain)}`,
      { method: "PATCH", body: JSON.stringify({ disabled: !current.disabled }) });
    if (!response.ok) { $("detail-error").textContent = await problemText(response); return; }
    loadLink(current.domain, current.code);
  });
  $("delete").addEventListener("click", async () => {
    if (!window.confirm(text("console.confirm_delete", { code: current.code }))) return;
    const response = await api(`api/links/${encodeURIComponent(current.code)}?domain=${encodeURIComponent(current.domain)}`, { method: "DELETE" });
    if (!response.ok) { $("detail-error").textContent = await problemText(response); return; }
    location.hash = "";
  });

  // Views by the address's hash: "" the list, "#link/<domain>/<code>" one link ----------------
  // The signed-in key's role and team: a viewer gets no write buttons, an admin the Keys view.
  async function whoAmI() {
    if (me) return;
    const response = await api("api/keys/me");
    if (!response.ok) return;
    me = await response.json();
    document.body.dataset.role = me.role;
    const role = T[`console.role.${me.role}`];
    $("whoami").textContent = me.team ? text("console.whoami_team", { role, team: me.team }) : text("console.whoami_own", { role });
  }

  // Keys (admins) ------------------------------------------------------------------------------
  async function listKeys() {
    const response = await api("api/keys");
    if (!response.ok) { $("keys-error").textContent = await problemText(response); return; }
    const body = $("key-table").tBodies[0];
    body.replaceChildren();
    for (const item of (await response.json()).keys) {
      const row = document.createElement("tr");
      cell(row, item.name || item.id);
      cell(row, T[`console.role.${item.role}`]);
      cell(row, item.team || "—");
      cell(row, item.domains ? item.domains.join(", ") : T["console.all_domains"]);
      cell(row, T[`console.key_state.${item.state}`]);
      cell(row, localTime(item.expires_at));
      const actions = cell(row, "");
      if (item.state !== "revoked") {
        actions.append(button(T["console.key_revoke"], "small danger", () => step("keys-error", async () => {
          if (!window.confirm(text("console.key_confirm_revoke", { name: item.name }))) return;
          const answer = await api(`api/keys/${encodeURIComponent(item.id)}`, { method: "DELETE" });
          if (!answer.ok) { $("keys-error").textContent = await problemText(answer); return; }
          await listKeys();
        }), text("console.key_revoke_named", { name: item.name })));
      }
      labelCells($("key-table"), row);
      row.dataset.key = item.id;
      body.append(row);
    }
  }

  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    step("key-error-box", async () => {
      const domains = [...$("key-domains").querySelectorAll("input:checked")].map((box) => box.value);
      const expires = $("key-expires").value;
      const body = { name: $("key-name").value.trim(), role: $("key-role").value, team: $("key-team").value.trim() || null,
                     domains: domains.length ? domains : null, expires_at: expires ? new Date(expires).toISOString() : null };
      const response = await api("api/keys", { method: "POST", body: JSON.stringify(body) });
      if (!response.ok) {
        const problem = await problemOf(response);
        $("key-error-box").textContent = problem.message;
        return;
      }
      const made = await response.json();
      $("key-secret").value = made.key;
      $("key-copy-status").textContent = "";
      $("key-made").hidden = false;
      $("key-form").reset();
      $("key-secret").focus();
      $("key-secret").select();
      await listKeys();
    });
  });
  $("key-copy").addEventListener("click", () => {
    navigator.clipboard.writeText($("key-secret").value).then(() => { $("key-copy-status").textContent = T.copied; });
  });

  function route() {
    if (!key) { show("sign-in"); return; }
    step("list-error", whoAmI).then(() => showIdentity(true));
    if (location.hash === "#keys") {
      show("keys");
      step("keys-error", listKeys);
      return;
    }
    const match = location.hash.match(/^#link\/([^/]+)\/([^/]+)$/);
    if (match) {
      show("detail");
      step("detail-error", () => loadLink(decodeURIComponent(match[1]), decodeURIComponent(match[2])));
    } else {
      show("list");
      listLinks();
    }
  }
  window.addEventListener("hashchange", route);
  route();
})();
