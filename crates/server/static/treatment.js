// cryoseed screens of treatment data (procedure entry, plan review), served only to the roles
// that may see them: the modality switch of the procedure form and the plan upload. Uses the
// helpers app.js exposes as window.cryoseed.
"use strict";

(function () {
  const { csrf, clearErrors, showErrors } = window.cryoseed;

  // Procedure entry: only the chosen modality's fields are sent.
  document.querySelectorAll("select[data-modality-switch]").forEach((select) => {
    const form = select.form;
    const apply = () => {
      form.querySelectorAll("fieldset[data-modality]").forEach((fs) => {
        fs.disabled = fs.dataset.modality !== select.value;
        fs.hidden = fs.disabled;
      });
    };
    select.addEventListener("change", apply);
    apply();
  });

  // Plan upload: the chosen plan.json is sent as it is (its SHA-256 is kept with the plan).
  document.querySelectorAll("form[data-upload]").forEach((form) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      const file = form.querySelector('input[type="file"]').files[0];
      if (!file) return;
      const text = await file.text();
      const response = await fetch(form.dataset.upload, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, Accept: "application/json" },
        body: text,
      });
      if (response.ok) {
        window.location.reload();
        return;
      }
      const data = await response.json().catch(() => null);
      if (data && data.error) showErrors(form, data.error);
    });
  });

})();
