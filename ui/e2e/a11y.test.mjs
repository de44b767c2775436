// 8. axe-core: no serious or critical violation on any view, light and
// dark, English and French.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { launch, openPage, startDemo, until, originOf } from "./lib.mjs";

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

async function violations(page) {
  // Evaluated by the browser's debugger, not as a page script: the page's
  // CSP (no inline script) stays on.
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5) }));
  });
  return result.filter((v) => v.impact === "serious" || v.impact === "critical");
}

for (const lang of ["en", "fr"]) {
  test(`no serious accessibility violation on any view (${lang})`, async () => {
    const demo = await startDemo({
      lang,
      renders: ["SC01_UNDLM_00412_V002.mov", "MAGASIN-0042-v7.mov", "SC02_TITRE_0010_V001.mov"],
      pace: 0.2,
      scale: 0.05,
    });
    const browser = await launch();
    try {
      for (const dark of [false, true]) {
        const { page, context } = await openPage(browser, demo.url, { dark });
        await until("three rows", async () => (await page.locator("[data-testid=item-row]").count()) === 3, 60_000);
        await until("the cards", async () => (await page.locator("[data-testid=attention-card]").count()) === 2, 60_000);
        const found = {};
        for (const hash of ["#/", "#/settings", "#/health"]) {
          await page.goto(`${originOf(demo)}/${hash}`);
          await page.waitForTimeout(1200);
          found[hash] = await violations(page);
        }
        await page.goto(`${originOf(demo)}/#/`);
        await page.locator("[data-testid=item-row] button.item-name").first().click();
        await page.locator("[data-testid=item-detail] h2").waitFor();
        await page.waitForTimeout(500);
        found.detail = await violations(page);
        await context.close();
        for (const [view, v] of Object.entries(found)) {
          assert.deepEqual(v, [], `${lang} ${dark ? "dark" : "light"} ${view}: ${JSON.stringify(v, null, 1)}`);
        }
      }
    } finally {
      await browser.close();
      await demo.stop();
    }
  });
}
