// Opens a sealkit report.html in Debian's chromium (headless, over the DevTools protocol) and
// prints what a person would see, as JSON on stdout, for tests/report_html.rs to check:
//   node open-report.mjs PEERS_DIR CHROMIUM PAGE.html SCREENSHOT.png
// PEERS_DIR holds node_modules with puppeteer-core as package-lock.json pins it (scripts/test).
// Every request other than the page itself, every console message and every page error is
// recorded, so the test can require none. The filter is exercised as a person would: typing
// into the search box, choosing a component, unticking a status.
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [peers, chromium, page_path, screenshot] = process.argv.slice(2);
const puppeteer = createRequire(path.join(peers, "package.json"))("puppeteer-core");
const url = pathToFileURL(page_path).href;

const browser = await puppeteer.launch({
  executablePath: chromium,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
const seen = { requests: [], console: [], errors: [] };
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 1600 });
  page.on("request", (request) => {
    if (request.url() !== url) seen.requests.push(request.url());
  });
  page.on("console", (message) => seen.console.push(`${message.type()}: ${message.text()}`));
  page.on("pageerror", (error) => seen.errors.push(String(error)));
  await page.goto(url, { waitUntil: "load" });
  await page.screenshot({ path: screenshot });

  const dom = await page.evaluate(() => {
    const texts = (selector, root = document) => [...root.querySelectorAll(selector)].map((e) => e.textContent.trim());
    const navigation = performance.getEntriesByType("navigation")[0];
    return {
      load_ms: navigation.loadEventEnd,
      verdict: document.querySelector("#verdict .word")?.textContent.trim(),
      counts: document.querySelector("#verdict .counts")?.textContent.trim(),
      stages: texts(".stage h3"),
      cards: texts(".card > a"),
      severity_bars: document.querySelectorAll("#charts figure:first-child rect").length,
      component_bars: document.querySelectorAll("#charts figure:last-child rect").length,
      findings: [...document.querySelectorAll("#findings tbody tr")].map((tr) => ({
        id: tr.cells[2].textContent.trim(),
        status: tr.dataset.status,
        severity: tr.dataset.severity,
        component: tr.dataset.component,
        path: tr.cells[4].textContent.trim(),
        fix: tr.cells[6].textContent.trim(),
        exception: tr.cells[7].textContent.trim(),
      })),
      exceptions: document.querySelectorAll("#exceptions tbody tr").length,
      components: [...document.querySelectorAll("section.component")].map((section) => ({
        name: section.dataset.component,
        matrix_header: texts(".matrix thead th", section),
        matrix: [...section.querySelectorAll(".matrix tbody tr")].map((tr) => [...tr.cells].map((td) => td.textContent.trim())),
        packages: section.querySelectorAll(".packages tbody tr").length,
        licensed: [...section.querySelectorAll(".packages tbody tr")].filter((tr) => tr.cells[3].textContent.trim() !== "").length,
      })),
    };
  });

  // Filtering, as a person does it; each step timed in the page.
  const visible = () =>
    page.evaluate(() => ({
      findings: [...document.querySelectorAll("#findings tbody tr")].filter((tr) => !tr.hidden).map((tr) => tr.dataset.status),
      rows: [...document.querySelectorAll("table.filterable tbody tr")].filter((tr) => !tr.hidden).length,
      sections: [...document.querySelectorAll("section.component")].filter((s) => !s.hidden).map((s) => s.dataset.component),
      counters: [...document.querySelectorAll("p.shown")].map((p) => p.textContent),
    }));
  const filtering = {};
  filtering.all = await visible();
  const word = dom.findings[0]?.id ?? dom.components[0]?.matrix[0]?.[0] ?? "";
  const started = Date.now();
  await page.type("#filter", word);
  filtering.typed_ms = Date.now() - started;
  filtering.word = word;
  filtering.typed = await visible();
  await page.$eval("#filter", (input) => {
    input.value = "";
    input.dispatchEvent(new Event("input"));
  });
  const last = dom.components.at(-1)?.name ?? "";
  await page.select("#component", last);
  filtering.component = last;
  filtering.chosen = await visible();
  await page.select("#component", "");
  await page.click('input[data-severity="critical"]');
  filtering.without_critical = await page.evaluate(() =>
    [...document.querySelectorAll("tr[data-severity]")].filter((tr) => !tr.hidden).map((tr) => tr.dataset.severity),
  );
  await page.click('input[data-severity="critical"]');
  if (await page.$('input[data-status="denied"]')) {
    await page.click('input[data-status="denied"]');
    filtering.without_denied = await visible();
  }
  console.log(JSON.stringify({ ...seen, dom, filtering }));
} finally {
  await browser.close();
}
