// 7. Security: /api without the key → 401; a foreign Host → 403; a
// cross-origin POST → refused; no response body of the session carries
// the webhook URL, a token or a signed upload URL.
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { launch, openPage, startDemo, until, rowStatus, keyOf, originOf, api } from "./lib.mjs";

/** A raw request (fetch cannot forge Host). */
function raw(demo, { method = "GET", path = "/", headers = {}, body = "" }) {
  const { hostname, port } = new URL(demo.url);
  return new Promise((ok, fail) => {
    const req = http.request({ hostname, port, method, path, headers }, (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => ok({ status: res.statusCode, headers: res.headers, text }));
    });
    req.on("error", fail);
    req.end(body);
  });
}

test("the API is locked to its key, its host and its origin, and leaks no secret", async () => {
  const demo = await startDemo({ renders: ["SC01_UNDLM_00412_V002.mov", "MAGASIN-0042-v7.mov"], pace: 0.2, scale: 0.05 });
  const browser = await launch();
  const bodies = [];
  try {
    assert.equal((await raw(demo, { method: "POST", path: "/api/snapshot" })).status, 401);
    assert.equal((await raw(demo, { path: "/api/events" })).status, 401);
    const foreign = await raw(demo, {
      method: "POST",
      path: "/api/snapshot",
      headers: { host: "evil.example", "x-postflow-key": keyOf(demo) },
    });
    assert.equal(foreign.status, 403);
    assert.match(foreign.text, /Host check error/);
    const cross = await raw(demo, {
      method: "POST",
      path: "/api/pause",
      headers: {
        host: new URL(demo.url).host,
        origin: "https://evil.example",
        "x-postflow-key": keyOf(demo),
        "content-type": "application/json",
      },
      body: "{}",
    });
    assert.equal(cross.status, 403);
    assert.equal(cross.headers["access-control-allow-origin"], undefined);
    assert.equal((await api(demo, "snapshot")).run_state, "running", "the refused pause did nothing");

    // A whole session in the browser; every answer is kept.
    const { page } = await openPage(browser, demo.url);
    page.on("response", async (r) => {
      if (!r.url().startsWith(originOf(demo))) return;
      try {
        bodies.push(await r.text());
      } catch {
        // The event stream has no end: its events are checked below.
      }
    });
    await until("the upload", async () => (await rowStatus(page, "SC01_UNDLM_00412_V002.mov")) === "done", 60_000);
    for (const hash of ["#/settings", "#/health", "#/"]) {
      await page.goto(`${originOf(demo)}/${hash}`);
      await page.waitForTimeout(800);
    }
    const events = await page.evaluate(async (url) => {
      const source = new EventSource(url);
      const got = [];
      source.onmessage = (m) => got.push(m.data);
      await new Promise((ok) => setTimeout(ok, 1500));
      source.close();
      return got;
    }, `/api/events?key=${keyOf(demo)}`);
    bodies.push(...events);
    for (const command of ["settings_view", "snapshot", "health", "items"]) {
      bodies.push(JSON.stringify(await api(demo, command, command === "items" ? { query: {} } : {})));
    }
    const all = bodies.join("\n");
    assert.ok(all.length > 1000, "answers were seen");
    assert.ok(!all.includes(demo.frameio_token), "the Frame.io token is in an answer");
    assert.ok(!all.includes("fake-token_abc"), "the webhook's token is in an answer");
    assert.ok(!all.includes("/api/webhooks/123456789012345678/"), "the webhook URL is in an answer");
    assert.ok(!all.includes("X-Amz-Signature"), "a signed upload URL is in an answer");
    assert.match(all, /discord\.com\/api\/webhooks\/1234…\/••••|••••/, "the webhook is shown masked");
  } finally {
    await browser.close();
    await demo.stop();
  }
});
