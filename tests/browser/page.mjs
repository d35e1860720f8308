// The cluster page of namesrv in headless Chromium (Debian's `chromium`,
// driven through playwright-core; no browser download):
//
//   node page.mjs URL TOPIC SCREENSHOT_PATH EXPECTED_BROKER_ADDR
//
// Loads URL, waits for EXPECTED_BROKER_ADDR in the clusters table and for the
// health line, searches TOPIC and waits for its route to list the broker,
// then saves a full-page PNG at SCREENSHOT_PATH (and, at a phone's width, at
// SCREENSHOT_PATH with `-phone` before `.png`). Any failure (a step timing
// out, a script error in the page, a failed request) exits 1 with a message
// naming the step; a failure screenshot is still written when possible.
// The browser is `$CHROMIUM_BIN`, else /usr/bin/chromium.

import { chromium } from "playwright-core";

const STEP_TIMEOUT_MS = 15_000;
const OVERALL_TIMEOUT_MS = 90_000;

const [url, topic, screenshot, brokerAddr] = process.argv.slice(2);
if (!url || !topic || !screenshot || !brokerAddr) {
  console.error("usage: node page.mjs URL TOPIC SCREENSHOT_PATH EXPECTED_BROKER_ADDR");
  process.exit(2);
}
const phoneShot = screenshot.replace(/(\.png)?$/i, "-phone.png");

function fail(message) {
  console.error(`page.mjs: FAILED: ${message}`);
  process.exit(1);
}

const watchdog = setTimeout(
  () => fail(`no result within ${OVERALL_TIMEOUT_MS / 1000} s (browser hung?)`),
  OVERALL_TIMEOUT_MS,
);
watchdog.unref();

const executablePath = process.env.CHROMIUM_BIN || "/usr/bin/chromium";
let browser;
try {
  browser = await chromium.launch({
    executablePath,
    timeout: STEP_TIMEOUT_MS,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
} catch (e) {
  fail(`cannot start Chromium at ${executablePath} (apt-get install chromium): ${e.message}`);
}

const problems = [];
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
page.setDefaultTimeout(STEP_TIMEOUT_MS);
page.on("pageerror", (e) => problems.push(`script error in the page: ${e.message}`));
page.on("console", (m) => {
  if (m.type() === "error" && !/favicon/.test(m.location().url || "")) {
    problems.push(`console error: ${m.text()} (${m.location().url || "?"})`);
  }
});
page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
page.on("response", (r) => {
  // The page's own calls: the document and the API, never the favicon.
  if (r.status() >= 400 && !r.url().endsWith("/favicon.ico")) {
    problems.push(`HTTP ${r.status()} for ${r.url()}`);
  }
});

// The address as a whole word, never a prefix of a longer one.
const addrRe = new RegExp(`(^|\\s)${brokerAddr.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(\\s|$)`);

let step = "start";
async function run(name, action) {
  step = name;
  await action();
  if (problems.length) throw new Error(problems.join("; "));
}

const seen = {};
try {
  await run(`load ${url}`, async () => {
    const resp = await page.goto(url, { waitUntil: "load" });
    if (!resp || !resp.ok()) throw new Error(`HTTP ${resp && resp.status()}`);
    seen.title = await page.title();
    if (seen.title !== "namesrv") throw new Error(`title is ${JSON.stringify(seen.title)}`);
  });

  await run(`broker ${brokerAddr} in the clusters table`, async () => {
    const row = page.locator("#clusters tr").filter({ has: page.locator("td", { hasText: addrRe }) });
    await row.first().waitFor({ state: "visible" });
    seen.brokerRow = (await row.first().innerText()).replace(/\s+/g, " ").trim();
    if (!/\bMASTER\b/.test(seen.brokerRow) || !/\balive\b/.test(seen.brokerRow)) {
      throw new Error(`row is not an alive MASTER: ${seen.brokerRow}`);
    }
  });

  await run("health shown", async () => {
    await page.locator("#health", { hasText: "up, ready" }).waitFor({ state: "visible" });
    seen.health = (await page.locator("#health").innerText()).trim();
    await page.locator("#kv:not(.muted)").waitFor({ state: "attached" });
    seen.kv = (await page.locator("#kv").innerText()).replace(/\s+/g, " ").trim();
  });

  await run(`search topic ${topic}`, async () => {
    await page.locator("#topic").fill(topic);
    await page.locator("#search button[type=submit]").click();
    const title = page.locator("#route-title");
    await title.waitFor({ state: "visible" });
    seen.routeTitle = (await title.innerText()).trim();
    if (seen.routeTitle !== `Route of ${topic}`) {
      throw new Error(`#route-title is ${JSON.stringify(seen.routeTitle)}`);
    }
    // The addresses cell reads "0: 127.0.0.1:10911", one line per broker id.
    await page
      .locator("#route-brokers td", { hasText: addrRe })
      .first()
      .waitFor({ state: "visible" });
    seen.routeBrokers = (await page.locator("#route-brokers tbody").innerText()).replace(/\s+/g, " ").trim();
    const queueRows = page.locator("#route-queues tbody tr");
    await queueRows.first().waitFor({ state: "visible" });
    seen.routeQueues = (await page.locator("#route-queues tbody").innerText()).replace(/\s+/g, " ").trim();
  });

  await run(`screenshot ${screenshot}`, async () => {
    await page.screenshot({ path: screenshot, fullPage: true });
  });

  await run("phone width", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    // The layout settles in the next frame.
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    seen.phoneOverflowPx = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    await page.screenshot({ path: phoneShot, fullPage: true });
    if (seen.phoneOverflowPx > 0) {
      throw new Error(`the page is ${seen.phoneOverflowPx} px wider than a 390 px phone screen`);
    }
  });
} catch (e) {
  const failShot = screenshot.replace(/(\.png)?$/i, "-failed.png");
  await page.screenshot({ path: failShot, fullPage: true }).catch(() => {});
  const body = await page.locator("body").innerText().catch(() => "(no page)");
  await browser.close().catch(() => {});
  fail(`step "${step}": ${e.message.split("\n")[0]}\n(screenshot ${failShot})\npage text:\n${body}`);
}

await browser.close();
console.log(JSON.stringify({ ok: true, screenshot, phoneScreenshot: phoneShot, seen }, null, 2));
process.exit(0);
