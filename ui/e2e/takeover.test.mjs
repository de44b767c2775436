// Two workstations on one filespace, as the board shows it: workstation A
// uploads a render (slowly: capped), B finds A's upload in flight and
// waits for it, saying whose and the last sign of life; when A is done, B
// shows the render as already in Frame.io. English and French, light and
// dark screenshots of B's board while it waits (in $POSTFLOW_SCREENSHOTS
// when set, else a temp dir).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launch, openPage, rowStatus, screenshotDir, startEmulator, startService, until } from "./lib.mjs";

const NAME = "SC44_WAIT_0010_V001.mov";

function settings(emulator, root, { lang, extra = "", readiness = 1 }) {
  return [
    "[watch]",
    `root = ${JSON.stringify(root)}`,
    `readiness_window_secs = ${readiness}`,
    "rescan_interval_secs = 1",
    "[frameio]",
    `api_base_url = "${emulator.base_url}"`,
    `ims_base_url = "${emulator.base_url}"`,
    `account_id = "${emulator.account_id}"`,
    `project_id = "${emulator.project_id}"`,
    "[transfers]",
    "takeover_after_secs = 600",
    extra,
    "[ui]",
    `language = "${lang}"`,
    "",
  ].join("\n");
}

for (const lang of ["en", "fr"]) {
  test(`a render another workstation is uploading shows as waiting for it (${lang})`, async () => {
    const out = screenshotDir();
    const emulator = await startEmulator();
    const root = join(mkdtempSync(join(tmpdir(), "postflow-takeover-")), "BY_SHOT");
    mkdirSync(root, { recursive: true });
    const token = { POSTFLOW_FRAMEIO_TOKEN: emulator.token };
    // A sends 24 MB at 16 Mbit/s: 12 s, long enough to look at B.
    const a = await startService({
      settings: settings(emulator, root, { lang, extra: "bandwidth_limit_mbps = 16" }),
      env: { ...token, POSTFLOW_WORKSTATION: "WS-EDIT-A" },
    });
    let b;
    const browser = await launch();
    try {
      writeFileSync(join(root, NAME), Buffer.alloc(24_000_000, 7));
      const { page: pa } = await openPage(browser, a.url);
      await until("A uploading", async () => (await rowStatus(pa, NAME)) === "uploading", 60_000, 100);
      // B waits 5 s for the render to settle, so its board is open before
      // it defers: the waiting shows through the live events, not only on
      // a fresh load (a CI run found the events left it out).
      b = await startService({
        settings: settings(emulator, root, { lang, readiness: 5 }),
        env: { ...token, POSTFLOW_WORKSTATION: "WS-EDIT-B" },
      });
      const { page } = await openPage(browser, b.url);
      assert.notEqual(await rowStatus(page, NAME), "deferring", "the board must be open before B defers");
      await until("B waiting for A", async () => (await rowStatus(page, NAME)) === "deferring", 60_000, 100);
      const waiting = page.locator(`[data-testid=item-row][data-file="${NAME}"] [data-testid=waiting-for]`);
      const text = await waiting.innerText();
      assert.match(text, /WS-EDIT-A/, text);
      assert.match(text, lang === "en" ? /last sign of life \d+ s ago/ : /dernier signe de vie il y a \d+ s/, text);
      const label = await page.locator(`[data-testid=item-row][data-file="${NAME}"] .item-status`).innerText();
      assert.match(label, lang === "en" ? /Waiting for another workstation/ : /En attente d’un autre poste/, label);
      for (const dark of [false, true]) {
        const { page: p, context } = await openPage(browser, b.url, { dark, width: 1100, height: 640 });
        await p.locator(`[data-testid=item-row][data-file="${NAME}"] [data-testid=waiting-for]`).waitFor();
        await p.waitForTimeout(400);
        await p.screenshot({ path: join(out, `waiting-for-${lang}-${dark ? "dark" : "light"}.png`) });
        await context.close();
      }
      // A finishes; B never uploads it, and says it is in Frame.io.
      await until("B: already in Frame.io", async () => (await rowStatus(page, NAME)) === "already_in_frameio", 60_000, 200);
      assert.equal(await rowStatus(pa, NAME), "done");
    } finally {
      await browser.close();
      await a.stop();
      if (b) await b.stop();
      await emulator.stop();
    }
  });
}
