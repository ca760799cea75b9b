// cryoseed screens: forms post JSON to the API with the session's CSRF token, field errors are
// shown next to their inputs, the screening form keeps a live eligibility checklist, and the
// adverse-event form searches CTCAE terms. No framework, no network beyond this server.
"use strict";

(function () {
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrf = csrfMeta ? csrfMeta.content : "";
  const invalidMeta = document.querySelector('meta[name="invalid-message"]');
  const invalidMessage = invalidMeta ? invalidMeta.content : "";

  function setPath(target, path, value) {
    const parts = path.split(".");
    let node = target;
    for (let i = 0; i < parts.length - 1; i++) {
      const key = /^\d+$/.test(parts[i]) ? Number(parts[i]) : parts[i];
      const nextIsIndex = /^\d+$/.test(parts[i + 1]);
      if (node[key] === undefined || node[key] === null) node[key] = nextIsIndex ? [] : {};
      node = node[key];
    }
    const last = /^\d+$/.test(parts[parts.length - 1]) ? Number(parts[parts.length - 1]) : parts[parts.length - 1];
    node[last] = value;
  }

  function valueOf(el) {
    const type = el.dataset.type || "";
    if (el.type === "checkbox" && type !== "list") return el.checked;
    const raw = el.value.trim();
    if (type === "json") return raw === "" ? null : JSON.parse(raw);
    if (raw === "") return null;
    if (type === "number") return isNaN(Number(raw)) ? raw : Number(raw);
    if (type === "tri") return raw === "true" ? true : raw === "false" ? false : null;
    return raw;
  }

  function formJson(form) {
    const out = {};
    for (const el of form.elements) {
      if (!el.name || el.name === "csrf" || el.disabled) continue;
      if (el.dataset.type === "list") {
        if (!Array.isArray(out[el.name])) out[el.name] = [];
        if (el.checked) out[el.name].push(el.value);
        continue;
      }
      setPath(out, el.name, valueOf(el));
    }
    // Rows left empty (lesions, attributions) are dropped by the server; arrays stay dense.
    return out;
  }

  function normalizePath(path) {
    return path.replace(/\[(\d+)\]/g, ".$1");
  }

  function clearErrors(form) {
    form.querySelectorAll(".field-error").forEach((e) => e.remove());
    form.querySelectorAll("[aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
    const box = form.querySelector(".form-error");
    if (box) box.hidden = true;
  }

  function showErrors(form, error) {
    const box = form.querySelector(".form-error") || document.querySelector(".form-error");
    if (box) {
      // Invalid input: the screen's own words; the fields say what is wrong.
      box.textContent = error.code === "invalid" && invalidMessage ? invalidMessage : error.message;
      box.hidden = false;
    }
    for (const [path, message] of Object.entries(error.fields || {})) {
      const name = normalizePath(path);
      const input = form.querySelector('[name="' + CSS.escape(name) + '"]');
      const note = document.createElement("span");
      note.className = "field-error";
      note.textContent = message;
      if (input) {
        input.setAttribute("aria-invalid", "true");
        input.insertAdjacentElement("afterend", note);
      } else if (box) {
        note.textContent = path + ": " + message;
        box.appendChild(document.createElement("br"));
        box.appendChild(note);
      }
    }
  }

  async function send(method, url, body) {
    const response = await fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, Accept: "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    const text = await response.text();
    if (text) data = JSON.parse(text);
    return { ok: response.ok, status: response.status, data: data };
  }

  // The language switch returns to this screen.
  document.querySelectorAll("form[action='/locale'] input[name='back']").forEach((input) => {
    input.value = window.location.pathname + window.location.search;
  });

  // Helpers for the scripts of particular screens.
  window.cryoseed = { csrf: csrf, clearErrors: clearErrors, showErrors: showErrors };

  document.querySelectorAll("form[data-api]").forEach((form) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      const body = formJson(form);
      const result = await send(form.dataset.method || "POST", form.dataset.api, body);
      if (result.ok) {
        const next = (form.dataset.next || "").replace(/\{(\w+)\}/g, (_, k) => encodeURIComponent(body[k] || ""));
        window.location.assign(next || window.location.href);
      } else if (result.data && result.data.error) {
        showErrors(form, result.data.error);
      }
    });
  });

  document.querySelectorAll("button[data-post]").forEach((button) => {
    button.addEventListener("click", async () => {
      if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
      const result = await send("POST", button.dataset.post, JSON.parse(button.dataset.body || "{}"));
      if (result.ok) window.location.reload();
      else if (result.data && result.data.error) showErrors(document.body, result.data.error);
    });
  });

  document.querySelectorAll("button[data-add-row]").forEach((button) => {
    button.addEventListener("click", () => {
      const body = document.getElementById(button.dataset.addRow);
      const rows = body.querySelectorAll("tr");
      const copy = rows[rows.length - 1].cloneNode(true);
      const index = rows.length;
      copy.querySelectorAll("[name]").forEach((el) => {
        el.name = el.name.replace(/\.\d+\./, "." + index + ".");
        if (el.type === "checkbox") el.checked = false;
        else el.value = "";
      });
      body.appendChild(copy);
    });
  });

  // Live eligibility checklist.
  const screening = document.querySelector("form[data-checklist]");
  if (screening) {
    let timer = null;
    const list = document.getElementById("checklist");
    const status = document.getElementById("checklist-status");
    const refresh = async () => {
      const result = await send("POST", screening.dataset.checklist, formJson(screening));
      clearErrors(screening);
      if (!result.ok && result.data && result.data.error) {
        // Field errors beside their inputs; the checklist waits for a form it can read.
        showErrors(screening, result.data.error);
        status.textContent = status.dataset.invalid;
        list.replaceChildren();
        return;
      }
      if (!result.ok || !result.data || !result.data.criteria) return;
      status.textContent = result.data.status_label;
      list.replaceChildren();
      for (const c of result.data.criteria) {
        const li = document.createElement("li");
        li.className = c.verdict;
        const verdict = document.createElement("span");
        verdict.className = "verdict";
        verdict.textContent = c.verdict_label;
        li.append(verdict, " " + c.title);
        const rule = document.createElement("small");
        rule.lang = "en";
        rule.setAttribute("translate", "no");
        rule.textContent = " " + c.rule + (c.evidence ? " — " + c.evidence : "");
        li.append(rule);
        list.append(li);
      }
    };
    screening.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(refresh, 250);
    });
    refresh();
  }

  // CTCAE term search with grade definitions.
  const search = document.querySelector("input[data-search]");
  if (search) {
    let timer = null;
    const results = document.getElementById("term-results");
    const term = document.getElementById("term");
    const grade = document.getElementById("grade");
    const rows = document.getElementById("grade-rows");
    const definitions = document.getElementById("grade-definitions");
    const choose = (t) => {
      term.value = t.term;
      rows.replaceChildren();
      for (const g of t.grades) {
        const tr = document.createElement("tr");
        const th = document.createElement("th");
        th.textContent = String(g.grade);
        const td = document.createElement("td");
        td.textContent = g.definition;
        tr.append(th, td);
        rows.append(tr);
      }
      definitions.hidden = false;
      const allowed = new Set(t.grades.map((g) => String(g.grade)));
      for (const option of grade.options) option.disabled = !allowed.has(option.value);
      results.replaceChildren();
    };
    search.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const q = search.value.trim();
        if (!q) return results.replaceChildren();
        const response = await fetch(search.dataset.search + "?q=" + encodeURIComponent(q), { credentials: "same-origin" });
        if (!response.ok) return;
        const terms = await response.json();
        results.replaceChildren();
        for (const t of terms) {
          const li = document.createElement("li");
          const b = document.createElement("button");
          b.type = "button";
          b.textContent = t.term + " (" + t.soc + ")";
          b.addEventListener("click", () => choose(t));
          li.append(b);
          results.append(li);
        }
      }, 200);
    });
  }
})();
