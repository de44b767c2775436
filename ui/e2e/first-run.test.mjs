// 10. The first run, as an editor who just installed PostFlow meets it:
// the real headless service (`postflow run --listen`) on a settings file
// holding only the Frame.io emulator's addresses (no folder, no project,
// no tokens), a real gnome-keyring in a private session. The window opens
// on the welcome flow; the folder is typed, the sign-in goes through the
// emulator's IMS back to PostFlow's loopback callback, the project is
// picked, Discord skipped; a render written into the folder then reaches
// Frame.io. Screenshots of the steps in English and French, light and dark.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { join } from "node:path";
import {
  freePort,
  launch,
  openPage,
  rowStatus,
  screenshotDir,
  startEmulator,
  startService,
  until,
} from "./lib.mjs";

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** Serious or critical axe-core violations on the page as it is. */
async function violations(page) {
  await page.evaluate(axeSource);
  const found = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5) }));
  });
  return found.filter((v) => v.impact === "serious" || v.impact === "critical");
}

/** The settings a fresh install has: only where Frame.io (here: the
 * emulator) is. Short readiness and rescan times keep the test quick. */
async function freshSettings(emulator, { lang = "en" } = {}) {
  const port = await freePort();
  return [
    "[watch]",
    "readiness_window_secs = 2",
    "rescan_interval_secs = 2",
    "",
    "[frameio]",
    `api_base_url = "${emulator.base_url}"`,
    `ims_base_url = "${emulator.base_url}"`,
    `client_id = "${emulator.clientId}"`,
    `redirect_uri = "http://127.0.0.1:${port}/callback"`,
    "",
    "[ui]",
    `language = "${lang}"`,
    "",
  ].join("\n");
}

/** A stand-in for Discord's webhook endpoint on loopback (PostFlow's
 * POSTFLOW_DISCORD_API_BASE override): takes every message, answers like
 * Discord's `?wait=true`, and keeps what it got. */
async function fakeDiscord() {
  const messages = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      messages.push({ path: req.url, body: JSON.parse(body || "null") });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ id: String(1_300_000_000_000_000_000n + BigInt(messages.length)) }));
    });
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  return {
    base: `http://127.0.0.1:${server.address().port}`,
    messages,
    stop: () => new Promise((ok) => server.close(ok)),
  };
}

const step = (page, name) => page.locator(`#first-run [data-step=${name}]`);

/** The heading that has the focus (the flow moves it to each new step). */
const focusedHeading = (page) =>
  page.evaluate(() => {
    const el = document.activeElement;
    return el && el.tagName === "H3" ? el.textContent : null;
  });

async function shoot(page, out, name) {
  const file = join(out, name);
  await page.waitForTimeout(300);
  await page.screenshot({ path: file });
  assert.ok(statSync(file).size > 20_000, `${file} looks empty`);
  return file;
}

/**
 * The whole flow in one language. Screenshots of the folder, project and
 * summary steps: light from the page that drives the flow, dark from a
 * second page opened on the same service.
 */
async function firstRun(lang, { discord = false } = {}) {
  const out = screenshotDir();
  mkdirSync(out, { recursive: true });
  const emulator = await startEmulator({ clientId: `postflow-e2e-first-run-${lang}` });
  const fake = discord ? await fakeDiscord() : null;
  const service = await startService({
    settings: await freshSettings(emulator, { lang }),
    env: fake ? { POSTFLOW_DISCORD_API_BASE: fake.base } : {},
  });
  const browser = await launch();
  const shots = [];
  const a11y = {};
  const dark = async (name, prepare) => {
    const { page: p, context: c } = await openPage(browser, service.url, { dark: true, width: 1280, height: 820 });
    // Set up by now, a new window opens on the board: the flow stays at #/welcome.
    await p.goto(`${new URL(service.url).origin}/#/welcome`);
    await p.locator("#first-run [data-step]").waitFor();
    if (prepare) await prepare(p);
    shots.push(await shoot(p, out, `first-run-${name}-${lang}-dark.png`));
    a11y[`${name} dark`] = await violations(p);
    await c.close();
  };
  try {
    const { page, errors } = await openPage(browser, service.url, { width: 1280, height: 820 });
    // A first run: the window opens on the welcome flow by itself.
    await step(page, "folder").waitFor({ timeout: 20_000 });
    assert.match(page.url(), /#\/welcome$/);
    assert.equal(await page.locator("#first-run-folder-choose").count(), 0, "no native picker in a browser");
    assert.equal(await page.locator("#first-run-demo").count(), 0, "the demo is offered in the app only");
    assert.equal(await page.locator('[aria-current="step"]').getAttribute("data-step-link"), "folder");
    shots.push(await shoot(page, out, `first-run-folder-${lang}-light.png`));
    a11y["folder light"] = await violations(page);
    await dark("folder");

    // 1. The folder, typed.
    const byShot = join(service.dir, "filespace", "BY_SHOT");
    mkdirSync(byShot, { recursive: true });
    await page.locator("#first-run-folder").fill(byShot);
    await page.locator("#first-run-folder-save").click();
    await step(page, "signin").waitFor();
    await until("the focus on the sign-in heading", async () => (await focusedHeading(page)) !== null, 5_000, 50);
    assert.match(readFileSync(service.config_file, "utf8"), new RegExp(`root = "${byShot.replaceAll("/", "\\/")}"`));
    assert.match(await page.locator('[data-step-link="folder"]').innerText(), lang === "fr" ? /fait/ : /done/);

    // 2. Sign in: the browser transport opens a new page; IMS (the
    // emulator) approves at once and sends it to PostFlow's callback.
    assert.equal(await page.locator("#first-run-client-id").count(), 0, "the client id is in the settings already");
    const [signInPage] = await Promise.all([
      page.context().waitForEvent("page"),
      page.locator("#first-run-signin").click(),
    ]);
    await page.locator("[data-testid=first-run-waiting]").waitFor();
    assert.equal(await page.locator("[data-testid=first-run-waiting]").locator("xpath=..").getAttribute("aria-live"), "polite");
    const fallback = await page.locator("[data-testid=first-run-signin-link]").getAttribute("href");
    assert.match(fallback, /\/ims\/authorize\/v2\?/);
    // IMS sent the browser back to PostFlow's loopback callback.
    await signInPage.waitForURL(/127\.0\.0\.1:\d+\/callback\?/, { timeout: 20_000 });
    await signInPage.close();

    // 3. The project: on to it once signed in, with who is signed in.
    await step(page, "project").waitFor({ timeout: 30_000 });
    assert.match(await step(page, "project").innerText(), /Emulated User/);
    await page.locator("#first-run-project option").first().waitFor({ state: "attached", timeout: 20_000 });
    assert.equal(await page.locator("#first-run-account option:checked").innerText(), "PostFlow Emulator");
    assert.equal(await page.locator("#first-run-workspace option:checked").innerText(), "Emulated Workspace");
    await page.locator("#first-run-project").selectOption(emulator.project_id);
    for (const id of ["first-run-account", "first-run-workspace", "first-run-project"]) {
      assert.ok((await page.locator(`label[for=${id}]`).innerText()).length > 0, `${id} has a label`);
    }
    shots.push(await shoot(page, out, `first-run-project-${lang}-light.png`));
    a11y["project light"] = await violations(page);
    await dark("project", async (p) => {
      await step(p, "project").waitFor();
      await p.locator("#first-run-project option").first().waitFor({ state: "attached", timeout: 20_000 });
    });
    await page.locator("#first-run-project-use").click();

    // 4. Discord: skipped, or a test message sent.
    await step(page, "discord").waitFor();
    const settings = readFileSync(service.config_file, "utf8");
    assert.match(settings, new RegExp(`project_id = "${emulator.project_id}"`));
    assert.match(settings, new RegExp(`account_id = "${emulator.account_id}"`));
    if (fake) {
      const hook = "https://discord.com/api/webhooks/123456789012345678/e2e-first-run-token_abcdefghijklmnop";
      await page.locator("#first-run-webhook").fill(hook);
      await page.locator("#first-run-webhook-test").click();
      const result = page.locator("[data-testid=first-run-webhook-result]");
      await result.waitFor({ timeout: 20_000 });
      assert.match(await result.innerText(), lang === "fr" ? /Discord a accepté/ : /Discord accepted/);
      assert.equal(await result.locator("xpath=..").getAttribute("aria-live"), "polite");
      assert.equal(fake.messages.length, 1, "one test message reached the fake Discord");
      assert.match(fake.messages[0].path, /^\/api\/(v\d+\/)?webhooks\/123456789012345678\//);
      assert.doesNotMatch(readFileSync(service.config_file, "utf8"), /e2e-first-run-token/, "the webhook is not in the file");
      assert.match(readFileSync(service.config_file, "utf8"), /\[discord\]\s*\nenabled = true/);
      await page.locator("#first-run-discord-next").click();
    } else {
      await page.locator("#first-run-discord-skip").click();
    }

    // 5. The summary.
    const summary = page.locator("#first-run-summary");
    await summary.waitFor();
    assert.equal(await summary.getAttribute("data-step"), "summary");
    const line = await page.locator("[data-testid=first-run-summary-line]").innerText();
    assert.equal(
      line.trim(),
      lang === "fr"
        ? "PostFlow surveille BY_SHOT\u00a0; les rendus vont dans Emulated Project/SCENES"
        : "PostFlow is watching BY_SHOT; renders go to Emulated Project/SCENES",
    );
    const stepList = await page.locator('[data-step-link="discord"]').innerText();
    if (fake) assert.match(stepList, lang === "fr" ? /fait/ : /done/);
    else assert.match(stepList, lang === "fr" ? /passé/ : /skipped/, "Discord says it was skipped, in words");
    assert.match(
      await summary.innerText(),
      fake ? /un message pour chaque lot|a message for each batch/ : /désactivé|off \(Settings/,
    );
    shots.push(await shoot(page, out, `first-run-summary-${lang}-light.png`));
    a11y["summary light"] = await violations(page);
    await dark("summary", async (p) => {
      // A webhook stored counts as done: straight to the summary.
      if (!fake) {
        await step(p, "discord").waitFor();
        await p.locator("#first-run-discord-skip").click();
      }
      await p.locator("#first-run-summary").waitFor();
    });

    // Back to a step done, and forward again: nothing is lost.
    await page.locator('[data-step-link="folder"]').click();
    await step(page, "folder").waitFor();
    assert.equal(await page.locator("#first-run-folder").inputValue(), byShot);
    await page.locator('[data-step-link="summary"]').click();
    await summary.waitFor();

    // The header says where PostFlow stands, in words.
    await until(
      "the header to say it watches",
      async () =>
        (lang === "fr" ? /Surveillance de BY_SHOT/ : /Watching BY_SHOT/).test(
          await page.locator("[data-testid=service-state]").innerText(),
        ),
      30_000,
    );

    // A render lands in the folder: the board shows it reach Frame.io.
    const render = "SC01_UNDLM_00412_V002.mov";
    writeFileSync(join(byShot, render), Buffer.alloc(400_000, 7));
    await page.locator("#first-run-open-board").click();
    await page.waitForURL(/#\/$/);
    await until("the render in Frame.io", async () => (await rowStatus(page, render)) === "done", 90_000);

    // Done once: a new window opens on the board, not the flow.
    const { page: again, context } = await openPage(browser, service.url);
    await again.locator(`[data-testid=item-row][data-file="${render}"]`).waitFor({ timeout: 20_000 });
    assert.equal(await again.locator("#first-run").count(), 0);
    await context.close();

    assert.deepEqual(errors, []);
    for (const [where, v] of Object.entries(a11y)) {
      assert.deepEqual(v, [], `${lang} ${where}: ${JSON.stringify(v, null, 1)}`);
    }
    return shots;
  } catch (e) {
    e.message += `\n--- postflow run ---\n${service.logs().slice(-4000)}`;
    throw e;
  } finally {
    await browser.close();
    await service.stop();
    await emulator.stop();
    await fake?.stop();
  }
}

test("first run: folder, sign-in, project, Discord skipped, a render reaches Frame.io (en)", async () => {
  const shots = await firstRun("en");
  assert.equal(shots.length, 6);
});

test("first run: folder, sign-in, project, a Discord test message, a render reaches Frame.io (fr)", async () => {
  const shots = await firstRun("fr", { discord: true });
  assert.equal(shots.length, 6);
});

test("first run: a wrong folder shows the API's problem next to the field, and what was typed stays", async () => {
  const emulator = await startEmulator({ clientId: "postflow-e2e-first-run-folder" });
  const service = await startService({ settings: await freshSettings(emulator) });
  const browser = await launch();
  try {
    const before = readFileSync(service.config_file, "utf8");
    const { page, errors } = await openPage(browser, service.url);
    await step(page, "folder").waitFor({ timeout: 20_000 });
    const input = page.locator("#first-run-folder");

    // A folder that does not exist.
    const missing = join(service.dir, "no", "such", "BY_SHOT");
    await input.fill(missing);
    await page.locator("#first-run-folder-save").click();
    const problem = page.locator("#first-run-folder-err");
    await problem.waitFor();
    assert.match(await problem.innerText(), /does not exist/);
    assert.match(await problem.innerText(), /mount the LucidLink filespace/, "the API's fix too");
    assert.equal(await input.inputValue(), missing, "what was typed stays");
    assert.equal(await input.getAttribute("aria-invalid"), "true");
    assert.match(await input.getAttribute("aria-describedby"), /first-run-folder-err/);
    assert.equal(await step(page, "folder").count(), 1, "still on the folder step");
    assert.equal(readFileSync(service.config_file, "utf8"), before, "nothing was written");

    // A file, not a folder.
    const file = join(service.dir, "BY_SHOT.txt");
    writeFileSync(file, "not a folder");
    await input.fill(file);
    await until("the problem cleared while typing", async () => (await problem.count()) === 0, 5_000, 50);
    await input.press("Enter");
    await problem.waitFor();
    assert.match(await problem.innerText(), /is a file, not a folder/);
    assert.equal(await input.inputValue(), file);
    assert.equal(readFileSync(service.config_file, "utf8"), before, "nothing was written");

    // Nothing typed: said locally, nothing sent.
    await input.fill("");
    await page.locator("#first-run-folder-save").click();
    await problem.waitFor();
    assert.match(await problem.innerText(), /Type the path/);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await service.stop();
    await emulator.stop();
  }
});
