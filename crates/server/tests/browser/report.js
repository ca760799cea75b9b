// Opens a self-contained HTML report (the analysis report `cryoseed demo` and `cryoseed report`
// write) in Chromium and saves a screenshot of each of its sections.
//
//   node report.js REPORT.html SCREENSHOT_DIR
//
// Fails (exit 1) on a JavaScript or console error, on any request the page makes (a
// self-contained report makes none), on a section without a heading, and on a figure that is not
// drawn (an SVG with no size or no shapes). Writes SCREENSHOT_DIR/index.json listing
// {file, heading, figures} per section. Uses Debian's Chromium (`CRYOSEED_CHROMIUM`, default
// /usr/bin/chromium); no browser download. Run by crates/cli/tests/it/report_browser.rs.
"use strict";

const fs = require("fs");
const path = require("path");
const url = require("url");
const { chromium } = require("playwright-core");

const [reportPath, shotDir] = process.argv.slice(2);
if (!reportPath || !shotDir) {
  console.error("usage: node report.js REPORT.html SCREENSHOT_DIR");
  process.exit(2);
}
fs.mkdirSync(shotDir, { recursive: true });

function slug(text) {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, 60);
}

async function main() {
  const executablePath = process.env.CRYOSEED_CHROMIUM || "/usr/bin/chromium";
  const args = typeof process.getuid === "function" && process.getuid() === 0 ? ["--no-sandbox"] : [];
  const browser = await chromium.launch({ executablePath, headless: true, args });
  const problems = [];
  const index = [];
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "en-GB" });
    const page = await context.newPage();
    const href = url.pathToFileURL(path.resolve(reportPath)).href;
    page.on("console", (msg) => {
      if (msg.type() === "error") problems.push(`console error: ${msg.text()}`);
    });
    page.on("pageerror", (error) => problems.push(`JavaScript error: ${error.message}`));
    page.on("request", (request) => {
      if (request.url() !== href) problems.push(`the report requested ${request.url()} (it must be self-contained)`);
    });
    const response = await page.goto(href);
    if (response && !response.ok()) problems.push(`opening the report: status ${response.status()}`);
    await page.waitForLoadState("load");

    const sections = page.locator("section");
    const count = await sections.count();
    if (count === 0) problems.push("the report has no sections");
    for (let i = 0; i < count; i += 1) {
      const section = sections.nth(i);
      const heading = (await section.locator("h2").first().innerText().catch(() => "")).trim();
      if (!heading) problems.push(`section ${i + 1} has no heading`);
      const figures = await section.locator("svg").evaluateAll((svgs) =>
        svgs.map((svg) => {
          const box = svg.getBoundingClientRect();
          const shapes = svg.querySelectorAll("path, line, rect, circle, polyline, polygon, text").length;
          return { width: box.width, height: box.height, shapes, title: (svg.querySelector("title") || {}).textContent || "" };
        }),
      );
      figures.forEach((f, k) => {
        if (!(f.width > 50 && f.height > 50 && f.shapes > 3)) {
          problems.push(`section ${JSON.stringify(heading)}, figure ${k + 1} (${f.title}) is not drawn: ${JSON.stringify(f)}`);
        }
      });
      const file = `${String(i + 1).padStart(2, "0")}-${slug(heading) || "section"}.png`;
      await section.screenshot({ path: path.join(shotDir, file) });
      index.push({ file, heading, figures: figures.map((f) => f.title) });
    }
    await page.screenshot({ path: path.join(shotDir, "00-whole-report.png"), fullPage: true });
  } finally {
    await browser.close();
  }
  fs.writeFileSync(path.join(shotDir, "index.json"), JSON.stringify({ sections: index }, null, 2));
  if (problems.length) {
    console.error(`report check failed:\n  ${problems.join("\n  ")}`);
    process.exit(1);
  }
  console.log(`report: ${index.length} sections, ${index.reduce((n, s) => n + s.figures.length, 0)} figures, screenshots in ${shotDir}`);
}

main().catch((error) => {
  console.error(error.stack || String(error));
  process.exit(1);
});
