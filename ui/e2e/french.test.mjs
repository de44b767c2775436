// 6. The French UI shows French text on every view.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { launch, openPage, startDemo, until, rowStatus, originOf, screenshotDir } from "./lib.mjs";

// Words of the English UI that must not show in French (whole words).
const ENGLISH = [
  "Shot board",
  "Settings",
  "Health",
  "Needs attention",
  "Pause",
  "Rescan now",
  "Watching",
  "Team told",
  "Uploaded by",
  "Open in Frame.io",
  "Retry",
  "Save",
  "Sign in",
  "Watched folder",
  "Queue",
  "Last hour",
  "Details",
  "Close",
  "Timeline",
];

function englishIn(text) {
  return ENGLISH.filter((w) => new RegExp(`(^|[^\\p{L}])${w}([^\\p{L}]|$)`, "u").test(text));
}

test("every view reads in French", async () => {
  const demo = await startDemo({ lang: "fr", renders: ["SC01_UNDLM_00412_V002.mov"], pace: 0.2, scale: 0.05 });
  const browser = await launch();
  try {
    const { page, errors } = await openPage(browser, demo.url);
    await until("the render", async () => (await rowStatus(page, "SC01_UNDLM_00412_V002.mov")) === "done", 60_000);
    assert.equal(await page.getAttribute("html", "lang"), "fr");
    const views = [
      ["#/", ["Tableau des plans", "Équipe prévenue", "Surveillance de BY_SHOT", "Mettre en pause"]],
      ["#/settings", ["Réglages", "Enregistrer"]],
      ["#/health", ["État"]],
    ];
    for (const [hash, french] of views) {
      await page.goto(`${originOf(demo)}/${hash}`);
      await page.waitForTimeout(1200);
      const text = await page.locator("body").innerText();
      for (const word of french) assert.ok(text.includes(word), `${hash}: "${word}" missing:\n${text}`);
      assert.deepEqual(englishIn(text), [], `${hash} shows English:\n${text}`);
    }
    // The item's detail too.
    await page.goto(`${originOf(demo)}/#/`);
    await page.getByRole("button", { name: "SC01_UNDLM_00412_V002.mov" }).click();
    const dialog = page.locator("[data-testid=item-detail]");
    await dialog.getByText("Historique").waitFor();
    const text = await dialog.innerText();
    assert.ok(text.includes("Sur ce poste") && text.includes("Dans Frame.io"), text);
    assert.deepEqual(englishIn(text), [], `the detail shows English:\n${text}`);
    assert.deepEqual(errors, []);

    // The pause menu, until a time of day, in the dark: French, and the
    // header says until when.
    // (The native time field is drawn in the browser's own locale, not the
    // page's: this headless Chromium shows it 12-hour whatever its flags.)
    const { page: dark, context } = await openPage(browser, demo.url, { dark: true, width: 1100, height: 640 });
    const pauseFor = dark.locator("[data-testid=pause-for]");
    await pauseFor.waitFor();
    assert.ok((await pauseFor.innerText()).includes("En pause pendant…"), await pauseFor.innerText());
    await pauseFor.selectOption("time");
    const time = dark.locator("[data-testid=pause-until-time]");
    await time.fill("23:45");
    const header = await dark.locator("header").innerText();
    assert.deepEqual(englishIn(header), [], `the pause menu shows English:\n${header}`);
    await dark.screenshot({ path: join(screenshotDir(), "pause-until-fr-dark.png") });
    await time.press("Enter");
    await dark.getByRole("button", { name: "Reprendre" }).waitFor();
    assert.match(await dark.locator("[data-testid=service-state]").innerText(), /En pause jusqu’à 23:45/);
    await context.close();
  } finally {
    await browser.close();
    await demo.stop();
  }
});
