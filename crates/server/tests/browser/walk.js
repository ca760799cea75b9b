// The browser walk of the trial's screens: one patient from screening to randomization, plan
// review, a procedure, two blinded readers' assessments, adjudication and an adverse event,
// then queries, signatures, a lock and audit trails and the statistician's dashboard
// (records_walk.js), across the roles (investigator, reader ×2, adjudicator, data manager,
// statistician), with a screenshot of every screen.
//
//   node walk.js BASE_URL SCREENSHOT_DIR CONFIG.json
//
// CONFIG.json (written by the Rust test tests/it/browser.rs): the demo users' passwords, the new
// patient's id and screening data (lesions measured on the synthetic case the plans were made
// on), the patient's plan.json and review.json for each arm (the arm is known only after
// randomization), and a second patient already randomized to the control arm with its plan.
//
// Fails (exit 1) on a failed expectation, a JavaScript error or console error on any page, or an
// HTTP error status the walk did not ask for (the walk provokes some on purpose: field errors,
// a blinded reader refused the plan review). Uses Debian's Chromium (`CRYOSEED_CHROMIUM`, default
// /usr/bin/chromium); no browser download.
"use strict";

const fs = require("fs");
const path = require("path");
const { chromium } = require("playwright-core");
const walkRecords = require("./records_walk.js");

const [baseUrl, shotDir, configPath] = process.argv.slice(2);
if (!baseUrl || !shotDir || !configPath) {
  console.error("usage: node walk.js BASE_URL SCREENSHOT_DIR CONFIG.json");
  process.exit(2);
}
const config = JSON.parse(fs.readFileSync(configPath, "utf8"));
// The service's forms default to today's UTC date; the walk dates its records the same way.
config.today = new Date().toISOString().slice(0, 10);
fs.mkdirSync(shotDir, { recursive: true });

const problems = [];
const expectedErrors = []; // {path, status} the next responses may carry, once each
const allowedErrors = new Set(); // "status path": any number of these, while allowed
const screenshots = [];
let step = 0;

function fail(message) {
  throw new Error(message);
}

function expectHttpError(urlPath, status) {
  expectedErrors.push({ urlPath, status });
}

function watch(page, who) {
  const expectedUrls = new Set();
  page.on("response", (response) => {
    const status = response.status();
    if (status < 400) return;
    const url = new URL(response.url());
    const i = expectedErrors.findIndex((e) => e.urlPath === url.pathname && e.status === status);
    if (i >= 0 || allowedErrors.has(`${status} ${url.pathname}`)) {
      if (i >= 0) expectedErrors.splice(i, 1);
      expectedUrls.add(response.url());
      return;
    }
    problems.push(`${who}: HTTP ${status} from ${response.request().method()} ${url.pathname}`);
  });
  page.on("console", (msg) => {
    if (msg.type() !== "error") return;
    // Chromium logs every error status it receives; the walk's expected ones are not problems.
    if (msg.text().startsWith("Failed to load resource") && expectedUrls.has(msg.location().url)) return;
    problems.push(`${who}: console error on ${page.url()}: ${msg.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`${who}: JavaScript error on ${page.url()}: ${error.message}`));
  page.on("dialog", (dialog) => dialog.accept());
}

async function shot(page, name) {
  step += 1;
  const file = `${String(step).padStart(2, "0")}-${name}.png`;
  await page.screenshot({ path: path.join(shotDir, file), fullPage: true });
  screenshots.push(file);
  if (problems.length) fail(`problems before screenshot ${file}:\n  ${problems.join("\n  ")}`);
}

// A screenshot of one part of the page (the plan review's DVH chart and slice viewer).
async function shotOf(page, locator, name) {
  step += 1;
  const file = `${String(step).padStart(2, "0")}-${name}.png`;
  await locator.screenshot({ path: path.join(shotDir, file) });
  screenshots.push(file);
  if (problems.length) fail(`problems before screenshot ${file}:\n  ${problems.join("\n  ")}`);
}

// Uploads a plan (and its review bundle, if given) on the plan-review screen.
async function uploadPlan(page, apiPath, files) {
  await page.setInputFiles("#plan-upload input[name=plan]", files.plan);
  await page.setInputFiles("#plan-upload input[name=review]", files.review ? [files.review] : []);
  return submit(page, "#plan-upload", `${apiPath}/plans`);
}

// The DVH chart and the slice viewer of the newest plan: drawn, then stepped through in every
// orientation (first, middle and last slice), with the layer switches tried once.
async function reviewPlan(page, label, expectDose) {
  const review = page.locator(".plan-review").first();
  await review.locator(".slice-view svg.slice").waitFor();
  if ((await review.getAttribute("data-ready")) !== "true") fail(`${label}: the review bundle was not drawn`);
  const curves = await review.locator(".dvh-chart polyline.dvh-curve").count();
  if (expectDose && curves < 2) fail(`${label}: the DVH chart shows ${curves} curves`);
  if (!expectDose && curves !== 0) fail(`${label}: a plan without seeds shows ${curves} DVH curves`);
  if (expectDose && (await review.locator(".dvh-chart .rx-line").count()) !== 1) fail(`${label}: no Rx line`);
  const drawn = await review.evaluate((el) => el.textContent);
  const key = drawn.match(/\breview\.[a-z_.]+/);
  if (key) fail(`${label}: the chart shows the message key ${key[0]}`);
  if (expectDose) await shotOf(page, review.locator(".dvh-chart"), `${label}-dvh`);
  else await review.locator(".dvh-chart", { hasText: "No seed dose" }).waitFor();
  for (const orientation of ["axial", "coronal", "sagittal"]) {
    await review.locator(`.orientation input[value=${orientation}]`).check();
    const slider = review.locator(".slice-slider");
    const max = Number(await slider.getAttribute("max"));
    if (max < 2) fail(`${label}: ${orientation} has ${max + 1} slices`);
    const seen = new Set();
    for (const index of [0, Math.floor(max / 2), max]) {
      await slider.evaluate((el, v) => {
        el.value = String(v);
        el.dispatchEvent(new Event("input"));
      }, index);
      const position = await review.locator(".slice-position").innerText();
      if (!/^[xyz] = -?\d+\.\d mm \(\d+\/\d+\)$/.test(position)) fail(`${label}: slice position ${JSON.stringify(position)}`);
      seen.add(position);
      if ((await review.locator(`.slice-view svg[data-plane=${orientation}]`).count()) !== 1) fail(`${label}: no ${orientation} slice`);
      if (index === Math.floor(max / 2)) {
        const lines = await review.locator(".slice-view svg.slice polyline").count();
        if (lines < 2) fail(`${label}: the middle ${orientation} slice shows ${lines} lines`);
        await shotOf(page, review.locator(".slice-viewer"), `${label}-${orientation}`);
      }
    }
    if (seen.size !== 3) fail(`${label}: the ${orientation} slider did not move (${[...seen]})`);
  }
  // The structure switch hides the outlines and brings them back.
  const before = await review.locator('.slice-view svg.slice polyline[data-kind="target"]').count();
  await review.locator('input[data-layers="structures"]').uncheck();
  if ((await review.locator('.slice-view svg.slice polyline[data-kind="target"]').count()) !== 0) fail(`${label}: structures still drawn`);
  await review.locator('input[data-layers="structures"]').check();
  if ((await review.locator('.slice-view svg.slice polyline[data-kind="target"]').count()) !== before) fail(`${label}: structures not back`);
}

async function text(page) {
  return page.locator("main").innerText();
}

async function contains(page, needle, what) {
  const t = await text(page);
  if (!t.includes(needle)) fail(`${what}: ${JSON.stringify(needle)} not on ${page.url()}:\n${t}`);
}

async function lacks(page, needle, what) {
  const t = await text(page);
  if (t.includes(needle)) fail(`${what}: ${JSON.stringify(needle)} must not be on ${page.url()}`);
}

// Submits a data-api form and waits for the API answer; returns its status.
async function submit(page, formSelector, apiPath) {
  const [response] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === apiPath && r.request().method() !== "GET"),
    page.locator(`${formSelector} button[type=submit]`).click(),
  ]);
  return response.status();
}

async function signIn(browser, user) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "en-GB" });
  context.setDefaultTimeout(60000);
  const page = await context.newPage();
  watch(page, user);
  await page.goto(`${baseUrl}/login?lang=en`);
  await page.fill('input[name="user_id"]', user);
  await page.fill('input[name="password"]', config.users[user]);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith("/login")), page.click("form button[type=submit]")]);
  return { context, page };
}

async function signOut(session) {
  const { page, context } = session;
  await Promise.all([page.waitForURL((u) => u.pathname === "/login"), page.click("form[action='/logout'] button")]);
  await context.close();
}

async function screen(page, urlPath) {
  const response = await page.goto(`${baseUrl}${urlPath}`);
  if (!response.ok()) fail(`${urlPath}: HTTP ${response.status()}`);
  await page.waitForLoadState("networkidle");
}

async function main() {
  const executablePath = process.env.CRYOSEED_CHROMIUM || "/usr/bin/chromium";
  const args = typeof process.getuid === "function" && process.getuid() === 0 ? ["--no-sandbox"] : [];
  const browser = await chromium.launch({ executablePath, headless: true, args });
  const pid = config.patient_id;
  const patientPath = `/patients/${pid}`;
  const apiPath = `/api/patients/${pid}`;
  try {
    // ---- investigator: sign-in, patient list, screening with the live checklist
    {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "en-GB" });
      context.setDefaultTimeout(60000);
      const page = await context.newPage();
      watch(page, "signed out");
      await screen(page, "/login?lang=en");
      await shot(page, "login");
      // A wrong password: one message, no hint whether the user exists.
      await page.fill('input[name="user_id"]', "inv1");
      await page.fill('input[name="password"]', "not-the-password");
      expectHttpError("/api/session", 401);
      await submit(page, "form", "/api/session");
      await page.locator(".form-error").waitFor({ state: "visible" });
      await shot(page, "login-failed");
      await context.close();
    }
    let inv = await signIn(browser, "inv1");
    let page = inv.page;
    await screen(page, "/patients");
    await shot(page, "inv1-patients");

    await screen(page, "/screening");
    const s = config.screening;
    await page.fill('input[name="patient_id"]', pid);
    await page.fill('input[name="age_years"]', "sixty");
    await page.selectOption('select[name="ecog"]', String(s.ecog));
    for (const q of ["histology_confirmed", "metastatic", "not_amenable_to_curative_therapy"]) {
      await page.selectOption(`select[name="${q}"]`, "true");
    }
    await page.fill('input[name="metastatic_lesion_count"]', String(s.metastatic_lesion_count));
    for (const [name, value] of Object.entries(s.labs)) await page.fill(`input[name="labs.${name}"]`, String(value));
    for (const name of Object.keys(s.exclusions)) await page.selectOption(`select[name="exclusions.${name}"]`, "false");
    for (let i = 0; i < s.lesions.length; i++) {
      if (i >= 3) await page.click("button[data-add-row]");
      const l = s.lesions[i];
      const f = (k) => `[name="lesions.${i}.${k}"]`;
      await page.fill(f("lesion_id"), l.lesion_id);
      await page.selectOption(f("organ"), l.organ);
      if (l.longest_diameter_mm != null) await page.fill(f("longest_diameter_mm"), String(l.longest_diameter_mm));
      if (l.short_axis_mm != null) await page.fill(f("short_axis_mm"), String(l.short_axis_mm));
      if (l.volume_ml != null) await page.fill(f("volume_ml"), String(l.volume_ml));
      for (const k of ["is_nodal", "is_target", "is_bulky_index"]) if (l[k]) await page.check(f(k));
    }
    // The age typed in words: a field-level error in the live checklist and on submission,
    // nothing saved.
    allowedErrors.add("422 /api/eligibility");
    expectHttpError("/api/screenings", 422);
    if ((await submit(page, "#screening-form", "/api/screenings")) !== 422) fail("a bad age must be refused");
    await page.locator('[name="age_years"] + .field-error').waitFor();
    await page.waitForFunction(() => document.getElementById("checklist").children.length === 0);
    await shot(page, "screening-field-error");
    await page.fill('input[name="age_years"]', String(s.age_years));
    await page.waitForFunction(() => document.getElementById("checklist-status").textContent === "Eligible", null, {
      timeout: 30000,
    });
    allowedErrors.delete("422 /api/eligibility");
    await shot(page, "screening-checklist-eligible");
    await Promise.all([page.waitForURL((u) => u.pathname === patientPath), page.click("#screening-form button[type=submit]")]);
    await page.waitForLoadState("networkidle");
    await contains(page, "Randomize", "the eligible patient can be randomized");
    await shot(page, "timeline-screened");

    // ---- randomization: the arm appears only once committed
    await lacks(page, "Allocation", "no arm before randomization");
    await Promise.all([page.waitForEvent("load"), page.click("button[data-post$='/randomize']")]);
    await page.waitForLoadState("networkidle");
    await contains(page, "Allocation", "the allocation is shown once committed");
    const arm = (await text(page)).includes("Experimental (") ? "experimental" : "control";
    await shot(page, `timeline-randomized-${arm}`);

    // ---- plan review: the plan of the other arm is refused field by field, the right one stored
    await page.click(`a[href='${patientPath}/plans']`);
    await page.waitForLoadState("networkidle");
    await contains(page, "No plan stored yet.", "empty plan review");
    const other = arm === "experimental" ? "control" : "experimental";
    expectHttpError(`${apiPath}/plans`, 422);
    await uploadPlan(page, apiPath, { plan: config.plans[other].plan });
    await page.locator("#plan-upload .form-error").waitFor({ state: "visible" });
    await contains(page, "another arm", "a plan of the other arm is refused");
    await shot(page, "plan-upload-wrong-arm");
    // The right plan with the other plan's review bundle: refused as a whole.
    await page.reload();
    expectHttpError(`${apiPath}/plans`, 422);
    await uploadPlan(page, apiPath, { plan: config.plans[arm].plan, review: config.plans[other].review });
    await page.locator("#plan-upload .form-error").waitFor({ state: "visible" });
    await contains(page, "belongs to another plan", "a review bundle of another plan is refused");
    await contains(page, "No plan stored yet.", "nothing is stored with a foreign bundle");
    await shot(page, "plan-upload-foreign-review");
    await Promise.all([page.waitForEvent("load"), uploadPlan(page, apiPath, config.plans[arm])]);
    await page.waitForLoadState("networkidle");
    const rows = await page.locator("table.allocation tbody tr").count();
    if (rows !== config.plan_lesions[arm]) fail(`plan review shows ${rows} lesions, the plan has ${config.plan_lesions[arm]}`);
    if ((await page.locator("table.verdicts tbody tr").count()) < 2) fail("plan review shows no constraint verdicts");
    await contains(page, "Deciding rule", "allocation table");
    await page.locator(".plan-review[data-ready=true]").waitFor();
    await shot(page, "plan-review");
    await reviewPlan(page, `plan-review-${arm}`, arm === "experimental" || config.procedures.control.modality === "seeds");

    // ---- a procedure: field errors first, then one lesion's treatment
    await screen(page, `${patientPath}/procedures/new`);
    const treated = config.procedures[arm];
    await page.selectOption('select[name="lesion_id"]', treated.lesion_id);
    await page.selectOption('select[name="modality"]', treated.modality);
    await page.fill('input[name="performed_on"]', "2001-01-01");
    expectHttpError(`${apiPath}/procedures`, 422);
    await submit(page, "#procedure-form", `${apiPath}/procedures`);
    await page.locator(".field-error").first().waitFor();
    await shot(page, "procedure-field-errors");
    await page.fill('input[name="performed_on"]', config.today);
    if (treated.modality === "seeds") {
      await page.fill('input[name="seeds_implanted"]', String(treated.seeds_implanted));
      await page.fill('input[name="needles"]', String(treated.needles));
    } else {
      await page.fill('input[name="probes"]', String(treated.probes));
    }
    await page.fill('textarea[name="notes"]', "Walk: no complication.");
    await shot(page, "procedure-entry");
    await Promise.all([page.waitForURL((u) => u.pathname === patientPath), page.click("#procedure-form button[type=submit]")]);
    await page.waitForLoadState("networkidle");
    await contains(page, "Procedure", "the timeline lists the procedure");
    await shot(page, "timeline-procedure");
    await signOut(inv);

    // ---- the control-arm patient (another centre's, randomized by the test): its plan and
    // review bundle, stored and reviewed by that centre's investigator
    {
      const cp = config.control_patient;
      const cpApi = `/api/patients/${cp.patient_id}`;
      const other = await signIn(browser, cp.investigator);
      page = other.page;
      await screen(page, `/patients/${cp.patient_id}/plans`);
      await contains(page, "Control", "the second patient is in the control arm");
      await Promise.all([page.waitForEvent("load"), uploadPlan(page, cpApi, cp.files)]);
      await page.waitForLoadState("networkidle");
      const cpRows = await page.locator("table.allocation tbody tr").count();
      if (cpRows !== cp.plan_lesions) fail(`control plan review shows ${cpRows} lesions, the plan has ${cp.plan_lesions}`);
      await contains(page, "Control arm: the centre's modality", "every lesion gets the centre's modality");
      await page.locator(".plan-review[data-ready=true]").waitFor();
      await shot(page, `control-${cp.modality}-plan-review`);
      await reviewPlan(page, `control-${cp.modality}-plan-review`, cp.modality === "seeds");
      await signOut(other);
    }

    // ---- two blinded readers: no plan review, a read each
    for (const [reader, factor] of [
      ["reader1", 1.0],
      ["reader2", 1.3],
    ]) {
      const r = await signIn(browser, reader);
      page = r.page;
      await screen(page, "/patients");
      await shot(page, `${reader}-patients`);
      expectHttpError(`${patientPath}/plans`, 403);
      const refused = await page.goto(`${baseUrl}${patientPath}/plans`);
      if (refused.status() !== 403) fail(`${reader} must not open the plan review (got ${refused.status()})`);
      if (reader === "reader1") await shot(page, "reader-plan-review-refused");
      await screen(page, `${patientPath}/read`);
      for (const word of ["Cryoablation", "seed", "Seed", "Experimental", "Control", "Gy"]) {
        await lacks(page, word, `${reader} sees no treatment data`);
      }
      await page.fill('input[name="label"]', "baseline");
      await page.fill('input[name="assessed_on"]', config.today);
      const targets = s.lesions.filter((l) => l.is_target);
      for (let i = 0; i < targets.length; i++) {
        const d = targets[i].is_nodal ? targets[i].short_axis_mm : targets[i].longest_diameter_mm;
        await page.fill(`[name="observations.lesions.${i}.diameter_mm"]`, String(Math.round(d * factor)));
      }
      await shot(page, `${reader}-workstation`);
      const [saved] = await Promise.all([
        page.waitForResponse((res) => new URL(res.url()).pathname === `${apiPath}/assessments`),
        page.waitForEvent("load"),
        page.click("form[data-api$='/assessments'] button[type=submit]"),
      ]);
      if (saved.status() !== 201) fail(`${reader}'s read was not saved: HTTP ${saved.status()}`);
      await page.waitForLoadState("networkidle");
      await contains(page, "baseline", `${reader}'s read is listed`);
      await shot(page, `${reader}-read-saved`);
      await signOut(r);
    }

    // ---- adjudication
    const adj = await signIn(browser, "adj1");
    page = adj.page;
    await screen(page, "/adjudications");
    await contains(page, pid, "the patient waits for adjudication");
    await shot(page, "adjudication-queue");
    const card = page.locator("section.card", { hasText: pid });
    await card.locator('select[name="accepted_reader"]').selectOption("reader1");
    await card.locator('input[name="reason"]').fill("Reader 2 measured an oblique slice.");
    await Promise.all([page.waitForEvent("load"), card.locator("button[type=submit]").click()]);
    await page.waitForLoadState("networkidle");
    await lacks(page, pid, "the adjudicated patient leaves the queue");
    await shot(page, "adjudication-done");
    await signOut(adj);

    // ---- adverse event with the CTCAE term search, then the timeline in Chinese
    inv = await signIn(browser, "inv1");
    page = inv.page;
    await screen(page, `${patientPath}/adverse-events/new`);
    await page.fill("#term-search", "nause");
    await page.locator("#term-results button", { hasText: "Nausea" }).first().click();
    await page.locator("#grade-definitions").waitFor({ state: "visible" });
    await page.selectOption("#grade", "2");
    await page.selectOption('select[name="attributions.0.cause"]', "cryoablation");
    await page.selectOption('select[name="attributions.0.certainty"]', "possible");
    await page.fill('input[name="onset"]', config.today);
    await shot(page, "adverse-event-entry");
    await Promise.all([
      page.waitForURL((u) => u.pathname === patientPath),
      page.click("form[data-api$='/adverse-events'] button[type=submit]"),
    ]);
    await page.waitForLoadState("networkidle");
    await contains(page, "Nausea", "the timeline lists the adverse event");
    await shot(page, "timeline-adverse-event");
    await Promise.all([page.waitForEvent("load"), page.click("form[action='/locale'] button")]);
    await page.waitForLoadState("networkidle");
    await contains(page, "时间线", "the timeline in Chinese");
    await shot(page, "timeline-zh");
    await screen(page, `${patientPath}/plans`);
    await contains(page, "约束判定", "the plan review in Chinese");
    await page.locator(".plan-review[data-ready=true]").waitFor();
    await contains(page, "剂量体积直方图", "the DVH chart's heading in Chinese");
    await shot(page, "plan-review-zh");
    await screen(page, `${patientPath}/procedures/new`);
    await shot(page, "procedure-entry-zh");
    await Promise.all([page.waitForEvent("load"), page.click("form[action='/locale'] button")]);
    await signOut(inv);

    // ---- data manager and statistician
    const dm = await signIn(browser, "dm1");
    page = dm.page;
    await screen(page, patientPath);
    await contains(page, "Nausea", "the data manager sees the whole record");
    await shot(page, "dm1-timeline");
    await screen(page, `${patientPath}/plans`);
    await shot(page, "dm1-plan-review");
    await signOut(dm);
    // ---- queries, signatures, locks, audit trails and the statistician's dashboard
    await walkRecords({ browser, baseUrl, config, shotDir, signIn, signOut, screen, shot, submit, contains, expectHttpError, fail });
  } finally {
    await browser.close();
  }
  if (problems.length) fail(`problems:\n  ${problems.join("\n  ")}`);
  if (expectedErrors.length) fail(`expected HTTP errors that never came: ${JSON.stringify(expectedErrors)}`);
  fs.writeFileSync(path.join(shotDir, "index.json"), JSON.stringify({ screenshots }, null, 2) + "\n");
  console.log(`walk passed: ${screenshots.length} screenshots in ${shotDir}`);
  for (const f of screenshots) console.log(`  ${f}`);
}

main().catch((error) => {
  console.error(`walk failed: ${error.stack || error}`);
  if (problems.length) console.error(`also:\n  ${problems.join("\n  ")}`);
  process.exit(1);
});
