// Data-management and statistician screens: signing a patient's record after typing the
// password again (POST /api/session/reauth, then the signature), and downloading exports (the
// zip the API answers, saved under the name it gives). Uses the helpers app.js exposes.
"use strict";

(function () {
  const c = window.cryoseed;

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": c.csrf, Accept: "application/json, application/zip" },
      body: JSON.stringify(body),
    });
    return response;
  }

  async function errorOf(response) {
    try {
      const data = await response.json();
      return data && data.error ? data.error : { code: "error", message: String(response.status), fields: {} };
    } catch (_) {
      return { code: "error", message: String(response.status), fields: {} };
    }
  }

  // Signature: the password is checked first (re-authentication), then the record is signed.
  document.querySelectorAll("form[data-sign]").forEach((form) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      c.clearErrors(form);
      const password = form.elements.password.value;
      const meaning = form.elements.meaning.value.trim();
      const reauth = await post("/api/session/reauth", { password: password });
      if (!reauth.ok) {
        const error = await errorOf(reauth);
        c.showErrors(form, { code: error.code, message: error.message, fields: { password: error.message } });
        return;
      }
      form.elements.password.value = "";
      const signed = await post(form.dataset.sign, { meaning: meaning });
      if (signed.ok) window.location.assign(window.location.pathname);
      else c.showErrors(form, await errorOf(signed));
    });
  });

  // Exports: the answer is a zip; save it under the server's file name.
  document.querySelectorAll("form[data-export]").forEach((form) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      c.clearErrors(form);
      const body = {};
      const seed = form.elements.ipd_seed;
      if (seed) {
        const raw = seed.value.trim();
        body.ipd_seed = raw === "" ? null : raw;
      }
      const response = await post(form.dataset.export, body);
      if (!response.ok) {
        c.showErrors(form, await errorOf(response));
        return;
      }
      const disposition = response.headers.get("Content-Disposition") || "";
      const match = /filename="([^"]+)"/.exec(disposition);
      const blob = await response.blob();
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = match ? match[1] : "export.zip";
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    });
  });
})();
