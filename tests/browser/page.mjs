// The cluster page of namesrv in headless Chromium (Debian's `chromium`,
// driven through playwright-core; no browser download):
//
//   node page.mjs URL TOPIC SCREENSHOT_PATH EXPECTED_BROKER_ADDR [EXPECTED_BROKER_SET]
//
// Loads URL, waits for EXPECTED_BROKER_ADDR in the clusters table and for the
// health line; checks the controller section against /api/v1/controller
// (with EXPECTED_BROKER_SET, waits for that broker set to have a master),
// the charts against /api/v1/history, and the topic browser's filter and
// pages against /api/v1/topics; searches TOPIC and waits for its route to
// list the broker. Saves a full-page PNG 1000 px wide at SCREENSHOT_PATH,
// one of each checked section beside it (`-controller`, `-history`,
// `-topics` before `.png`) and one at a phone's width (`-phone`). Any
// failure (a step timing out, a script error in the page, a failed
// request, a mismatch with the API) exits 1 with a message naming the
// step; a failure screenshot is still written when possible. The browser
// is `$CHROMIUM_BIN`, else /usr/bin/chromium.

import { chromium } from "playwright-core";

const STEP_TIMEOUT_MS = 15_000;
const OVERALL_TIMEOUT_MS = 90_000;

const [url, topic, screenshot, brokerAddr, brokerSet] = process.argv.slice(2);
if (!url || !topic || !screenshot || !brokerAddr) {
  console.error("usage: node page.mjs URL TOPIC SCREENSHOT_PATH EXPECTED_BROKER_ADDR [EXPECTED_BROKER_SET]");
  process.exit(2);
}
const shot = (suffix) => screenshot.replace(/(\.png)?$/i, `-${suffix}.png`);
const phoneShot = shot("phone");

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
const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
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

// The API as the test sees it, beside the page.
async function api(path) {
  const r = await fetch(new URL(path, url), { cache: "no-store" });
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return r.json();
}

// Polls `check` (which returns a mismatch, or nothing when the page agrees)
// until it agrees: the page refreshes every 5 s, so it may lag the API.
async function until(check, what, timeoutMs = STEP_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  let mismatch;
  for (;;) {
    mismatch = await check();
    if (!mismatch) return;
    if (Date.now() > deadline) throw new Error(`${what}: ${mismatch}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const near = (a, b) => Math.abs(Number(a) - Number(b)) < 1e-9;
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

  await run("controller section against /api/v1/controller", async () => {
    await until(async () => {
      const c = await api("/api/v1/controller");
      if (brokerSet && !c.brokerSets?.some((s) => s.brokerName === brokerSet && s.masterBrokerId != null)) {
        return `the API has no broker set ${brokerSet} with a master yet`;
      }
      // Read in one go, so one refresh of the page cannot split it.
      const shown = await page.evaluate(() => {
        const rows = (sel) => [...document.querySelectorAll(sel)].map((tr) => [...tr.cells].map((td) => td.innerText.trim()));
        return {
          text: document.getElementById("controller").innerText,
          leader: document.getElementById("controller-leader")?.innerText.trim() ?? null,
          members: rows("#controller-members tbody tr"),
          sets: rows("#controller-sets tbody tr"),
        };
      });
      if (!c.enabled) return /No embedded controller/.test(shown.text) ? null : `says ${shown.text}`;
      if (!c.leader || !shown.leader?.startsWith(c.leader.id)) return `leader ${shown.leader} vs ${JSON.stringify(c.leader)}`;
      const members = shown.members.map((r) => [r[0], r[1], r[2]]);
      const want = c.members.map((m) => [m.id, m.addr, m.leader ? "leader" : m.voter ? "voter" : "learner"]);
      if (!same(members, want)) return `members ${JSON.stringify(members)} vs ${JSON.stringify(want)}`;
      const sets = shown.sets.map((r) => r.slice(0, 7));
      const wantSets = c.brokerSets.map((s) => [s.cluster, s.brokerName, s.masterBrokerId == null ? "none" : String(s.masterBrokerId),
        s.masterAddress ?? "–", String(s.masterEpoch), String(s.syncStateSetEpoch), s.syncStateSet.join(", ")]);
      if (!same(sets, wantSets)) return `broker sets ${JSON.stringify(sets)} vs ${JSON.stringify(wantSets)}`;
      seen.controller = { leader: shown.leader, members, sets };
      return null;
    }, "the controller section", 60_000);
  });

  await run("charts against /api/v1/history", async () => {
    await until(async () => {
      const charts = await page.evaluate(() => [...document.querySelectorAll("#history .chart")].map((c) => {
        const svg = c.querySelector("svg");
        return {
          id: c.id,
          points: Number(svg.dataset.points),
          lastT: Number(svg.dataset.lastT),
          lines: [...svg.querySelectorAll("polyline")].map((l) => ({
            series: l.dataset.series,
            coords: l.getAttribute("points").trim().split(/\s+/).filter(Boolean).map((xy) => xy.split(",").map(Number)),
          })),
          legend: [...c.querySelectorAll(".legend li")].map((li) => [li.dataset.series, li.dataset.last]),
        };
      }));
      const ids = charts.map((c) => c.id);
      if (!same(ids, ["chart-requests", "chart-registrations", "chart-brokers", "chart-heartbeats"])) return `charts ${ids}`;
      if (charts.some((c) => c.points < 3)) return `too few points yet: ${charts.map((c) => c.points)}`;
      const h = await api("/api/v1/history");
      const point = h.points.find((p) => p.t === charts[0].lastT);
      if (!point) return `the page's last point ${charts[0].lastT} is not in the API's`;
      for (const c of charts) {
        if (c.lastT !== point.t) return `${c.id} ends at ${c.lastT}, not ${point.t}`;
        for (const l of c.lines) {
          if (l.coords.length < 2) return `${c.id} ${l.series}: ${l.coords.length} points drawn`;
          if (l.coords.some(([x, y]) => !(x >= 0 && x <= 320 && y >= 0 && y <= 130))) return `${c.id} ${l.series} leaves the chart`;
        }
      }
      const legend = Object.fromEntries(charts.map((c) => [c.id, Object.fromEntries(c.legend)]));
      const check = (id, name, want) => (near(legend[id][name], want) ? null : `${id} ${name}: ${legend[id][name]} vs ${want}`);
      const problem = [
        check("chart-brokers", "alive", point.brokersAlive),
        check("chart-heartbeats", "max", point.heartbeatAgeMaxMs),
        check("chart-heartbeats", "median", point.heartbeatAgeMedianMs),
        ...Object.keys(legend["chart-requests"]).filter((k) => k !== "other")
          .map((k) => check("chart-requests", k, point.requestsPerSecond[k] || 0)),
        ...Object.keys(legend["chart-registrations"]).filter((k) => k !== "other")
          .map((k) => check("chart-registrations", k, point.registrationsPerSecond[k] || 0)),
      ].find(Boolean);
      if (problem) return problem;
      const brokers = charts.find((c) => c.id === "chart-brokers");
      if (brokers.lines[0].coords.length !== brokers.points) return `brokers alive: ${brokers.lines[0].coords.length} of ${brokers.points} drawn`;
      if (!Object.keys(legend["chart-requests"]).length) return "no request series";
      seen.history = { points: charts[0].points, last: point, legend };
      return null;
    }, "the charts", 45_000);
  });

  await run("topic browser against /api/v1/topics", async () => {
    const list = () => page.evaluate(() => ({
      topics: [...document.querySelectorAll("#topics-list a")].map((a) => a.dataset.topic),
      info: document.getElementById("topics-info").innerText,
      prev: document.getElementById("topics-prev").disabled,
      next: document.getElementById("topics-next").disabled,
    }));
    const agrees = (query, pageNo) => async () => {
      const want = await api(`/api/v1/topics?${query}&size=5&page=${pageNo}`);
      const got = await list();
      if (!same(got.topics, want.topics)) return `shows ${JSON.stringify(got.topics)}, the API ${JSON.stringify(want.topics)}`;
      const pages = Math.max(1, Math.ceil(want.total / 5));
      if (got.prev !== pageNo <= 1 || got.next !== pageNo >= pages) return `prev/next ${got.prev}/${got.next} on page ${pageNo} of ${pages}`;
      if (want.total && !got.info.includes(`page ${pageNo} of ${pages}`)) return `info ${got.info}`;
      return null;
    };
    await page.locator("#topic-size").selectOption("5");
    await until(agrees("", 1), "page 1 of all topics");
    const all = await api("/api/v1/topics?size=1000");
    if (all.total <= 5) throw new Error(`only ${all.total} topics: no second page to show`);
    await page.locator("#topics-next").click();
    await until(agrees("", 2), "page 2 of all topics");
    await page.locator("#topics-prev").click();
    await until(agrees("", 1), "back to page 1");
    // A filter that matches more than a page when one does, so it pages too.
    const count = (f) => all.topics.filter((t) => t.includes(f)).length;
    const candidates = ["RMQ_SYS", "SYS", "TOPIC", topic];
    const filter = candidates.find((f) => count(f) > 5) ?? candidates.reduce((a, b) => (count(b) > count(a) ? b : a));
    await page.locator("#topic-filter").fill(filter);
    const q = `name=${encodeURIComponent(filter)}`;
    await until(agrees(q, 1), `page 1 of topics matching ${filter}`);
    if (count(filter) > 5) {
      await page.locator("#topics-next").click();
      await until(agrees(q, 2), `page 2 of topics matching ${filter}`);
      await page.locator("#topics-prev").click();
      await until(agrees(q, 1), `back to page 1 matching ${filter}`);
    }
    seen.topicBrowser = { filter, matching: count(filter), total: all.total, ...(await list()) };
    // A topic of the list shows its route.
    const first = seen.topicBrowser.topics[0];
    await page.locator("#topics-list a").first().click();
    await page.locator("#route-title", { hasText: `Route of ${first}` }).waitFor({ state: "visible" });
  });

  await run(`search topic ${topic}`, async () => {
    await page.locator("#topic").fill(topic);
    await page.locator("#search button[type=submit]").click();
    // The route of the topic clicked before may still be shown: wait for this one's.
    const title = page.locator("#route-title", { hasText: `Route of ${topic}` });
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
    for (const [name, id] of [["controller", "#controller"], ["history", "#history"], ["topics", "#topics-list"]]) {
      await page.locator("section", { has: page.locator(id) }).screenshot({ path: shot(name) });
    }
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
const sections = ["controller", "history", "topics"].map(shot);
console.log(JSON.stringify({ ok: true, screenshot, phoneScreenshot: phoneShot, sections, seen }, null, 2));
process.exit(0);
