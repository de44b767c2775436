// 2. A file made to fail (an emulator fault) shows a card with the cause;
// Retry makes it succeed; the card goes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { launch, openPage, startDemo, until, rowStatus } from "./lib.mjs";

const FAILS = "SC02_TITRE_0010_V001.mov";

test("a failure is a card with its cause until Retry makes it succeed", async () => {
  const demo = await startDemo({ renders: [FAILS], pace: 0.2, scale: 0.1 });
  const browser = await launch();
  try {
    const { page, errors } = await openPage(browser, demo.url);
    const card = page.locator(`[data-testid=attention-card][data-file="${FAILS}"]`);
    await card.waitFor({ timeout: 60_000 });
    const text = await card.innerText();
    assert.match(text, /The upload failed/);
    assert.match(text, /422/, "the cause in Frame.io's words");
    assert.match(text, /gave up/);
    // The header never says all is well while something fails (it follows
    // the card within a moment: the snapshot is read when a failure comes).
    const state = await until(
      "the header to say so",
      async () => {
        const text = await page.locator("[data-testid=service-state]").innerText();
        return /needs? attention/i.test(text) ? text : null;
      },
      3000,
      50,
    );
    assert.doesNotMatch(state, /Watching BY_SHOT/);
    await card.getByRole("button", { name: "Retry" }).click();
    await until("the retried file to reach Frame.io", async () => (await rowStatus(page, FAILS)) === "done", 60_000);
    await until("the card to go", async () => (await card.count()) === 0, 10_000);
    await until(
      "the header to say all is well again",
      async () => /Watching BY_SHOT/.test(await page.locator("[data-testid=service-state]").innerText()),
      3000,
      50,
    );
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await demo.stop();
  }
});
