// 1. Three renders appear on the shot board under their scene and shot,
// show progress, end "team told" with a working Frame.io link; the fake
// Discord got the message.
import { test } from "node:test";
import assert from "node:assert/strict";
import { launch, openPage, startDemo, until, rowStatus, discordMessages } from "./lib.mjs";

const BRIEF = [
  ["SC01_UNDLM_00412_V002.mov", "SC01", "UNDLM_00412"],
  ["13H49_-_RECUPERATION_DES_2_SURVIVANTS_S01_V001.mov", "13H49_-_RECUPERATION_DES_2_SURVIVANTS", "S01"],
  ["2EME_MAYDAY_EXT_-_NUIT_AMERICAINE_S03_V005.mp4", "2EME_MAYDAY_EXT_-_NUIT_AMERICAINE", "S03"],
];

test("three renders go from the board to Frame.io and the team channel", async () => {
  // 12 MB at 24 Mbit/s: a few seconds of visible progress each.
  const demo = await startDemo({ renders: BRIEF.map(([n]) => n), pace: 0.5, scale: 0.5, bandwidth: 24 });
  const browser = await launch();
  try {
    const { page, errors } = await openPage(browser, demo.url);
    // Progress shows while a file uploads: a progress bar between 0 and 100.
    const seen = await until(
      "an upload in progress on the board",
      async () => {
        const bars = page.locator("[data-testid=item-row] progress");
        for (let i = 0; i < (await bars.count()); i += 1) {
          const v = Number(await bars.nth(i).getAttribute("value"));
          if (v > 0 && v < 100) return v;
        }
        return null;
      },
      90_000,
      100,
    );
    assert.ok(seen > 0 && seen < 100);
    for (const [name] of BRIEF) {
      await until(`${name} told to the team`, async () => (await rowStatus(page, name)) === "done", 120_000);
    }
    // Under its scene and shot: the rows come right after their headers.
    const text = await page.locator("[data-testid=board-list]").innerText();
    for (const [name, scene, shot] of BRIEF) {
      const s = text.indexOf(`Scene ${scene}`);
      const h = text.indexOf(shot, s);
      const f = text.indexOf(name, h);
      assert.ok(s >= 0 && h > s && f > h, `${name} under ${scene} / ${shot}:\n${text}`);
    }
    // The Frame.io link works (the emulator's page of that file).
    for (const [name] of BRIEF) {
      const row = page.locator(`[data-testid=item-row][data-file="${name}"]`);
      assert.match(await row.innerText(), /Team told/);
      const href = await row.locator("a.frameio-link").getAttribute("href");
      const r = await fetch(href);
      assert.equal(r.status, 200, href);
      assert.match(await r.text(), new RegExp(name.replace(/[.]/g, "\\.")));
    }
    // The team channel got every file.
    const messages = await until(
      "the fake Discord to get the uploads",
      async () => {
        const all = JSON.stringify(await discordMessages(demo));
        return BRIEF.every(([n]) => all.includes(n)) ? all : null;
      },
      30_000,
    );
    assert.ok(messages.includes("SCENES/SC01/UNDLM_00412"));
    assert.deepEqual(errors, [], "no script error on the page");
  } finally {
    await browser.close();
    await demo.stop();
  }
});
