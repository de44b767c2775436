// 3. An unrecognized name is held; the tester shows why; adding a custom
// pattern in Settings uploads it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { launch, openPage, startDemo, until, rowStatus, originOf } from "./lib.mjs";

const HELD = "MAGASIN-0042-v7.mov";

test("a held name, the tester's reason, and a pattern that uploads it", async () => {
  const demo = await startDemo({ renders: [HELD], pace: 0.2, scale: 0.05 });
  const browser = await launch();
  try {
    const { page, errors } = await openPage(browser, demo.url);
    const card = page.locator(`[data-testid=attention-card][data-file="${HELD}"]`);
    await card.waitFor({ timeout: 60_000 });
    assert.match(await card.innerText(), /does not follow the naming rule/);
    await card.getByRole("button", { name: "Test this name" }).click();

    // The tester (the Rust nomenclature) says why, for the typed name and
    // for the file now in BY_SHOT.
    const typed = page.locator("[data-testid=tester-names-results]");
    await until("the tester's verdict", async () => /matches no pattern/.test(await typed.innerText()), 15_000);
    assert.equal(await page.locator("[data-testid=name-tester-input]").inputValue(), HELD);
    const folder = page.locator("[data-testid=tester-folder-results]");
    await until("the folder's files tested", async () => (await folder.innerText()).includes(HELD), 15_000);

    // A custom pattern: the tester recognises the name before it is saved.
    await page.getByRole("button", { name: "Add a pattern" }).click();
    const patterns = page.locator("[data-key='nomenclature.patterns[0]']");
    await patterns.getByLabel("Name").fill("magasin");
    await patterns.getByLabel("Regular expression").fill("^(?P<scene>[A-Z]+)-(?P<shot>[0-9]+)-V(?P<version>[0-9]+)$");
    await until(
      "the tester recognising the name",
      async () => {
        const row = typed.locator(`tr[data-status=parsed]`);
        return (await row.count()) === 1 && /MAGASIN[\s\S]*0042[\s\S]*V007/.test(await row.innerText());
      },
      15_000,
    );
    assert.equal(await rowStatus(page, HELD), null, "the board is another view");
    await page.locator("[data-testid=settings-save]").click();
    await page.locator("[data-testid=settings-saved]").waitFor({ timeout: 15_000 });

    // Saved: the held name goes to Frame.io, under its new scene and shot.
    await page.goto(`${originOf(demo)}/#/`);
    await until("the held name uploaded", async () => (await rowStatus(page, HELD)) === "done", 60_000);
    await until(
      "the name under its new scene and shot",
      async () => /Scene MAGASIN[\s\S]*0042[\s\S]*MAGASIN-0042-v7\.mov/.test(await page.locator("[data-testid=board-list]").innerText()),
      10_000,
    );
    await until("the card to go", async () => (await card.count()) === 0, 10_000);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await demo.stop();
  }
});
