// 5. Pause from the UI holds new uploads (and `postflow status` in
// another process says paused); Resume releases them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { launch, openPage, screenshotDir, startDemo, until, rowStatus } from "./lib.mjs";

test("pause holds new uploads, says so everywhere, and resume releases them", async () => {
  const demo = await startDemo({ renders: ["SC01_UNDLM_00412_V002.mov"], pace: 0.2, scale: 0.05 });
  const browser = await launch();
  try {
    const { page } = await openPage(browser, demo.url);
    await until("the first render", async () => (await rowStatus(page, "SC01_UNDLM_00412_V002.mov")) === "done", 60_000);
    await page.getByRole("button", { name: "Pause" }).click();
    await page.getByRole("button", { name: "Resume" }).waitFor();
    assert.match(await page.locator("[data-testid=service-state]").innerText(), /Paused/);
    // Another process sees the pause (the queue database's flag).
    const status = JSON.parse(demo.cli("status", "--json"));
    assert.equal(status.paused, true);

    const name = "SC05_PAUSE_0001_V001.mov";
    writeFileSync(join(demo.watch_root, name), Buffer.alloc(200_000, 7));
    await until("the new render to be queued", async () => (await rowStatus(page, name)) === "queued", 30_000);
    // Held while paused: still queued a few seconds later.
    await new Promise((ok) => setTimeout(ok, 4000));
    assert.equal(await rowStatus(page, name), "queued");

    await page.getByRole("button", { name: "Resume" }).click();
    await until("the released upload", async () => (await rowStatus(page, name)) === "done", 60_000);
    assert.equal(JSON.parse(demo.cli("status", "--json")).paused, false);
  } finally {
    await browser.close();
    await demo.stop();
  }
});

test("pause for a while or until a time of day: the end is shown and kept by the service", async () => {
  const demo = await startDemo({ renders: ["SC01_UNDLM_00412_V002.mov"], pace: 0.2, scale: 0.05 });
  const browser = await launch();
  try {
    const { page } = await openPage(browser, demo.url);
    await page.locator("[data-testid=pause-for]").waitFor();
    // For an hour: paused until about an hour from now.
    const before = Date.now();
    await page.locator("[data-testid=pause-for]").selectOption("60");
    await page.getByRole("button", { name: "Resume" }).waitFor();
    let status = JSON.parse(demo.cli("status", "--json"));
    assert.equal(status.paused, true);
    assert.ok(Math.abs(status.paused_until - (before + 3_600_000)) < 60_000, `${status.paused_until}`);
    assert.match(await page.locator("[data-testid=service-state]").innerText(), /Paused until \d\d:\d\d/);
    await page.getByRole("button", { name: "Resume" }).click();
    await page.locator("[data-testid=pause-for]").waitFor();

    // Until a time of day, chosen with the keyboard: the next 23:45.
    await page.locator("[data-testid=pause-for]").focus();
    await page.locator("[data-testid=pause-for]").selectOption("time");
    const time = page.locator("[data-testid=pause-until-time]");
    await time.fill("23:45");
    await page.screenshot({ path: join(screenshotDir(), "pause-until-en-light.png") });
    await time.press("Enter");
    await page.getByRole("button", { name: "Resume" }).waitFor();
    status = JSON.parse(demo.cli("status", "--json"));
    const until = new Date(status.paused_until);
    assert.equal(`${until.getHours()}:${until.getMinutes()}`, "23:45");
    assert.ok(status.paused_until > Date.now() && status.paused_until - Date.now() <= 24 * 3_600_000);
    assert.match(await page.locator("[data-testid=service-state]").innerText(), /Paused until (23:45|11:45 PM)/);
  } finally {
    await browser.close();
    await demo.stop();
  }
});
