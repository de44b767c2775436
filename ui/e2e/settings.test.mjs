// 4. A bad value in Settings is refused with the key's message and fix,
// and the file on disk is unchanged; a good value is saved with the
// file's comments kept.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { launch, openPage, startDemo, originOf } from "./lib.mjs";

test("a bad value is refused whole; a good one is saved, comments kept", async () => {
  const demo = await startDemo({ noRenders: true });
  const browser = await launch();
  try {
    const before = readFileSync(demo.config_file, "utf8");
    assert.match(before, /^# PostFlow demo settings/);
    const { page, errors } = await openPage(browser, `${originOf(demo)}/#/settings?section=transfers`);
    // Open the page through the keyed URL first (it sets the key cookie).
    await page.goto(demo.url);
    await page.goto(`${originOf(demo)}/#/settings?section=transfers`);
    const files = page.locator("[data-key='transfers.parallel_files']");
    await files.locator("input").waitFor();
    await files.locator("input").fill("0");
    await page.locator("[data-testid=settings-save]").click();
    const summary = page.locator("[data-testid=settings-problems]");
    await summary.waitFor({ timeout: 10_000 });
    const said = await files.innerText();
    assert.match(said, /out of range/, said);
    assert.match(said, /transfers\.parallel_files/);
    assert.match(await summary.innerText(), /transfers\.parallel_files/);
    assert.equal(await summary.getAttribute("role"), "alert");
    assert.equal(readFileSync(demo.config_file, "utf8"), before, "nothing was written");

    // A good value: saved, and the rest of the file (comments) untouched.
    await files.locator("input").fill("3");
    await page.locator("[data-testid=settings-save]").click();
    await page.locator("[data-testid=settings-saved]").waitFor({ timeout: 10_000 });
    const after = readFileSync(demo.config_file, "utf8");
    assert.match(after, /parallel_files = 3/);
    assert.match(after, /^# PostFlow demo settings/);
    assert.match(after, /# Add patterns here \(or in the Settings view\)/);
    assert.equal(after.replace("parallel_files = 3", "parallel_files = 2"), before, "only that value changed");
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await demo.stop();
  }
});
