// Benchmark: the shot board with 10,000 items in Chromium. Budgets (issue
// 10): the first row on screen, and no main-thread task over 50 ms while 8
// files report progress (nor while scrolling the whole board).
//
// Run: `POSTFLOW_BIN=<release postflow> node ui/bench/board.mjs` (after
// `cargo build --release -p postflow`); env ITEMS (10000), FILES (8),
// ROUNDS (3). Prints one line per round and the medians.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { launch, startDemo, until } from "../e2e/lib.mjs";

const items = Number(process.env.ITEMS ?? 10000);
const files = Number(process.env.FILES ?? 8);
const rounds = Number(process.env.ROUNDS ?? 3);

/** Recorded inside the page from its first instant. */
function probe() {
  window.__longtasks = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__longtasks.push(e.duration);
  }).observe({ type: "longtask", buffered: true });
  new MutationObserver((_, observer) => {
    if (document.querySelector("[data-testid=item-row]")) {
      window.__firstRow = performance.now();
      observer.disconnect();
    }
  }).observe(document, { childList: true, subtree: true });
}

const results = [];
for (let round = 0; round < rounds; round += 1) {
  // 8 × 40 MB at 320 Mbit/s in all: about 8 s of progress on every file.
  const demo = await startDemo({ seed: items, noRenders: true, parallel: files, bandwidth: 320 });
  const browser = await launch();
  try {
    const context = await browser.newContext({ viewport: { width: 1366, height: 860 } });
    const page = await context.newPage();
    await page.addInitScript(probe);
    await page.goto(demo.url);
    await page.waitForFunction(() => window.__firstRow !== undefined, null, { timeout: 60_000 });
    const firstRow = await page.evaluate(() => window.__firstRow);
    const loadTasks = await page.evaluate(() => window.__longtasks.slice());

    // Scroll the whole board, a screen at a time.
    await page.evaluate(() => (window.__longtasks = []));
    await page.evaluate(async () => {
      const list = document.querySelector("[data-testid=board-list]");
      while (list.scrollTop + list.clientHeight < list.scrollHeight - 1) {
        list.scrollTop += list.clientHeight;
        await new Promise((ok) => requestAnimationFrame(() => ok()));
      }
      list.scrollTop = 0;
    });
    const scrollTasks = await page.evaluate(() => window.__longtasks.slice());

    // 8 new files arrive, and upload at once, reporting progress.
    await page.evaluate(() => (window.__longtasks = []));
    for (let i = 0; i < files; i += 1) {
      writeFileSync(join(demo.watch_root, `SC900_BENCH_${String(i).padStart(4, "0")}_V001.mov`), Buffer.alloc(40_000_000, i + 1));
    }
    // They sort last (scene SC900): bring the end of the board on screen.
    await until(
      `${files} new rows`,
      async () =>
        page.evaluate((n) => {
          const list = document.querySelector("[data-testid=board-list]");
          list.scrollTop = list.scrollHeight;
          return document.querySelectorAll("[data-testid=item-row][data-file^=SC900_BENCH]").length >= n;
        }, files),
      60_000,
      200,
    );
    await until(
      `${files} files uploading`,
      async () => (await page.locator("[data-testid=item-row][data-status=uploading]").count()) >= files,
      60_000,
      100,
    );
    const arrivalTasks = await page.evaluate(() => window.__longtasks.slice());
    // Now only progress: every file uploading, reporting a few times a second.
    await page.evaluate(() => (window.__longtasks = []));
    const start = Date.now();
    let updates = 0;
    let last = "";
    while (Date.now() - start < 6000) {
      const now = await page.locator("[data-testid=item-row][data-status=uploading] progress").evaluateAll((bars) =>
        bars.map((b) => b.value).join(","),
      );
      if (now !== last) updates += 1;
      last = now;
      await page.waitForTimeout(100);
    }
    const progressTasks = await page.evaluate(() => window.__longtasks.slice());
    const worst = (t) => (t.length ? Math.max(...t) : 0);
    const r = {
      firstRowMs: Math.round(firstRow),
      loadLongest: Math.round(worst(loadTasks)),
      scrollLongTasks: scrollTasks.length,
      scrollLongest: Math.round(worst(scrollTasks)),
      arrivalLongTasks: arrivalTasks.length,
      arrivalLongest: Math.round(worst(arrivalTasks)),
      progressLongTasks: progressTasks.length,
      progressLongest: Math.round(worst(progressTasks)),
      progressUpdatesSeen: updates,
    };
    results.push(r);
    console.log(`round ${round + 1}: ${JSON.stringify(r)}`);
  } finally {
    await browser.close();
    await demo.stop();
  }
}
const med = (k) => {
  const v = results.map((r) => r[k]).sort((a, b) => a - b);
  return v[Math.floor(v.length / 2)];
};
console.log(
  `median over ${rounds}: first row ${med("firstRowMs")} ms; longest task while loading ${med("loadLongest")} ms; ` +
    `long tasks (>50 ms) while scrolling ${med("scrollLongTasks")}, when ${files} new files arrive ${med("arrivalLongTasks")} (longest ${med("arrivalLongest")} ms), ` +
    `while ${files} files report progress ${med("progressLongTasks")} ` +
    `(longest ${med("progressLongest")} ms; ${med("progressUpdatesSeen")} progress changes seen in 6 s)`,
);
