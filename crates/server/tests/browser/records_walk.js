// The data-management and statistician part of the browser walk (issue 10), run by walk.js after
// the patient's adverse event: the data manager raises a query from the adverse event's row of
// the timeline (a field error first), the investigator answers it and signs the casebook after
// typing the password again (a wrong password first), the data manager closes the query, locks
// the patient and opens the audit trail of the adverse event and of the patient record, the
// investigator's next signature is refused on the locked record, and the statistician opens the
// dashboard (English and Chinese) and downloads an export (a missing IPD seed refused first).
"use strict";

const fs = require("fs");
const path = require("path");

module.exports = async function walkRecords(h) {
  const { browser, baseUrl, config, shotDir, signIn, signOut, screen, shot, submit, contains, expectHttpError, fail } = h;
  const pid = config.patient_id;
  const patientPath = `/patients/${pid}`;
  const apiPath = `/api/patients/${pid}`;
  const meaning = "I confirm that this casebook is complete and accurate";

  // Submits a form whose success reloads the page; returns the API's status.
  async function submitAndReload(page, formSelector, api) {
    const [response] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === api && r.request().method() === "POST"),
      page.waitForEvent("load"),
      page.locator(`${formSelector} button[type=submit]`).click(),
    ]);
    await page.waitForLoadState("networkidle");
    return response.status();
  }

  // ---- data manager: a query on the adverse event, raised from its row of the timeline
  let dm = await signIn(browser, "dm1");
  let page = dm.page;
  await screen(page, patientPath);
  const aeRow = page.locator("table tbody tr", { hasText: "Nausea" }).first();
  await Promise.all([page.waitForURL((u) => u.searchParams.has("field")), aeRow.locator("a", { hasText: "Query" }).click()]);
  await page.waitForLoadState("networkidle");
  const field = await page.inputValue('#raise input[name="field"]');
  if (!/^adverse_event \d+$/.test(field)) fail(`the query form names the record: ${JSON.stringify(field)}`);
  await page.fill('#raise input[name="field"]', `${field} grade`);
  expectHttpError(`${apiPath}/queries`, 422);
  await submit(page, "#raise", `${apiPath}/queries`);
  await page.locator('#raise [name="question"] + .field-error').waitFor();
  await shot(page, "dm1-query-field-error");
  await page.fill('#raise textarea[name="question"]', "Grade 2 nausea: was an antiemetic given? Please record it.");
  await Promise.all([
    page.waitForURL((u) => u.pathname === patientPath && u.search === ""),
    page.locator("#raise button[type=submit]").click(),
  ]);
  await page.waitForLoadState("networkidle");
  await contains(page, "was an antiemetic given?", "the raised query is listed");
  await contains(page, "Open", "the query is open");
  await shot(page, "dm1-query-raised");
  await screen(page, "/queries?status=open");
  await contains(page, pid, "the query list shows the patient's open query");
  await shot(page, "dm1-queries-open");
  await signOut(dm);

  // ---- investigator: answers, then signs after typing the password again
  let inv = await signIn(browser, "inv1");
  page = inv.page;
  await screen(page, patientPath);
  await page.fill('#queries form.answer input[name="answer"]', "Ondansetron 8 mg given on the day of onset; now recorded.");
  const answerApi = await page.getAttribute("#queries form.answer", "data-api");
  if ((await submitAndReload(page, "#queries form.answer", answerApi)) !== 200) fail("the answer was not saved");
  await contains(page, "Answered", "the query is answered");
  await shot(page, "inv1-query-answered");
  await page.fill('form.sign input[name="password"]', "not-my-password");
  expectHttpError("/api/session/reauth", 401);
  await page.locator("form.sign button[type=submit]").click();
  await page.locator('form.sign [name="password"] + .field-error').waitFor();
  await shot(page, "inv1-signature-password-refused");
  await page.fill('form.sign input[name="password"]', config.users.inv1);
  if ((await submitAndReload(page, "form.sign", `${apiPath}/signatures`)) !== 201) fail("the signature was not saved");
  await contains(page, meaning, "the signature says what was signed");
  await contains(page, "UTC", "the signature says when");
  await shot(page, "inv1-signed");
  await signOut(inv);

  // ---- data manager: closes the query, locks the patient, reads the audit trails
  dm = await signIn(browser, "dm1");
  page = dm.page;
  await screen(page, "/queries?status=answered");
  await contains(page, "Ondansetron", "the answer is listed");
  await shot(page, "dm1-queries-answered");
  await Promise.all([
    page.waitForResponse((r) => /\/api\/queries\/\d+\/close$/.test(new URL(r.url()).pathname)),
    page.waitForEvent("load"),
    page.locator("button[data-post$='/close']").first().click(),
  ]);
  await screen(page, "/queries?status=closed");
  await contains(page, pid, "the closed query is listed as closed");
  await shot(page, "dm1-query-closed");
  await screen(page, patientPath);
  expectHttpError(`${apiPath}/lock`, 422);
  await submit(page, "#lock form", `${apiPath}/lock`);
  await page.locator('#lock [name="reason"] + .field-error').waitFor();
  await page.fill('#lock input[name="reason"]', "Casebook signed: locked for the interim analysis.");
  if ((await submitAndReload(page, "#lock form", `${apiPath}/lock`)) !== 204) fail("the lock was not saved");
  await contains(page, "The patient's data is locked", "the lock is shown");
  await shot(page, "dm1-locked");
  await Promise.all([
    page.waitForURL((u) => u.pathname === `${patientPath}/audit`),
    page.locator("table tbody tr", { hasText: "Nausea" }).first().locator("a", { hasText: "Audit trail" }).click(),
  ]);
  await page.waitForLoadState("networkidle");
  await contains(page, "hash chain verifies", "the chain is checked");
  await contains(page, "Created", "the adverse event's creation");
  await shot(page, "dm1-audit-adverse-event");
  await screen(page, `${patientPath}/audit`);
  for (const word of ["Signed", "Locked", "Casebook signed: locked for the interim analysis."]) {
    await contains(page, word, "the patient record's trail");
  }
  await shot(page, "dm1-audit-patient");
  await signOut(dm);

  // ---- investigator: the locked record refuses a new signature, and says so
  inv = await signIn(browser, "inv1");
  page = inv.page;
  await screen(page, patientPath);
  await contains(page, "Locked", "the timeline shows the lock");
  await page.fill('form.sign input[name="password"]', config.users.inv1);
  expectHttpError(`${apiPath}/signatures`, 409);
  await page.locator("form.sign button[type=submit]").click();
  await page.locator("form.sign .form-error").waitFor({ state: "visible" });
  await contains(page, "locked", "the refusal names the lock");
  await shot(page, "inv1-locked-refused");
  await signOut(inv);

  // ---- statistician: the dashboard, an export, the dashboard in Chinese
  const stat = await signIn(browser, "stat1");
  page = stat.page;
  await page.waitForLoadState("networkidle");
  if (new URL(page.url()).pathname !== "/statistics") fail(`the statistician starts on the dashboard, not ${page.url()}`);
  for (const word of ["Enrolment by site", "CONSORT flow diagram", "Kaplan–Meier curves by arm", "Overall survival"]) {
    await contains(page, word, "the dashboard");
  }
  if ((await page.locator("#km svg").count()) < 1) fail("no Kaplan–Meier figure");
  await shot(page, "stat1-dashboard");
  expectHttpError("/api/exports/ipd", 422);
  await submit(page, 'form[data-export$="/ipd"]', "/api/exports/ipd");
  await page.locator('form[data-export$="/ipd"] [name="ipd_seed"] + .field-error').waitFor();
  await shot(page, "stat1-export-seed-required");
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.locator('form[data-export$="/adam"] button[type=submit]').click(),
  ]);
  const name = download.suggestedFilename();
  if (!/^cryoseed-adam-[0-9a-f]{12}\.zip$/.test(name)) fail(`export file name ${name}`);
  const saved = path.join(shotDir, name);
  await download.saveAs(saved);
  const bytes = fs.readFileSync(saved);
  if (bytes.length < 100 || bytes.toString("latin1", 0, 2) !== "PK") fail(`${name} is not a zip archive`);
  await Promise.all([page.waitForEvent("load"), page.click("form[action='/locale'] button")]);
  await page.waitForLoadState("networkidle");
  await contains(page, "统计分析看板", "the dashboard in Chinese");
  await shot(page, "stat1-dashboard-zh");
  await Promise.all([page.waitForEvent("load"), page.click("form[action='/locale'] button")]);
  await signOut(stat);
};
