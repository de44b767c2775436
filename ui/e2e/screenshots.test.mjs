// Screenshots of the shot board and the settings, light and dark, English
// and French, from `postflow demo` data: what the README shows. They land
// in $POSTFLOW_SCREENSHOTS (scripts/screenshots.sh: docs/screenshots).
import { test } from "node:test";
import assert from "node:assert/strict";
import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { launch, openPage, startDemo, until, originOf, screenshotDir } from "./lib.mjs";

for (const lang of ["en", "fr"]) {
  test(`screenshots of the board and the settings (${lang})`, async () => {
    const out = screenshotDir();
    // Every render of the demo; the last ones still uploading.
    const demo = await startDemo({ lang, pace: 0.4, scale: 0.6, bandwidth: 60 });
    const browser = await launch();
    try {
      // The board once the held name and the failure show and something uploads.
      const { page } = await openPage(browser, demo.url, { width: 1366, height: 900 });
      await until("two cards", async () => (await page.locator("[data-testid=attention-card]").count()) === 2, 90_000);
      await until("six rows", async () => (await page.locator("[data-testid=item-row]").count()) === 6, 90_000);
      // One more, large enough to be uploading while the pictures are taken.
      writeFileSync(join(demo.watch_root, "10_OUVERTURE_S01_V001.mov"), Buffer.alloc(60_000_000, 3));
      await until(
        "the large render uploading",
        async () => (await page.locator('[data-testid=item-row][data-file="10_OUVERTURE_S01_V001.mov"][data-status=uploading]').count()) > 0,
        60_000,
        100,
      );
      for (const dark of [false, true]) {
        const { page: p, context } = await openPage(browser, demo.url, { dark, width: 1366, height: 900 });
        await p.locator("[data-testid=item-row]").first().waitFor();
        await p.waitForTimeout(700);
        const board = join(out, `board-${lang}-${dark ? "dark" : "light"}.png`);
        await p.screenshot({ path: board });
        await p.goto(`${originOf(demo)}/#/settings`);
        await p.locator("[data-testid=settings-save]").waitFor();
        await p.waitForTimeout(800);
        const settings = join(out, `settings-${lang}-${dark ? "dark" : "light"}.png`);
        await p.screenshot({ path: settings });
        // The name tester, on the held name ("Test this name").
        await p.goto(`${originOf(demo)}/#/settings?section=nomenclature&test=MAGASIN-0042-v7.mov`);
        await p.locator("[data-testid=tester-names-results]").first().waitFor();
        await p.waitForTimeout(1200);
        const tester = join(out, `tester-${lang}-${dark ? "dark" : "light"}.png`);
        await p.screenshot({ path: tester });
        await context.close();
        for (const f of [board, settings, tester]) assert.ok(statSync(f).size > 20_000, `${f} looks empty`);
      }
    } finally {
      await browser.close();
      await demo.stop();
    }
  });
}
