// Shared pieces of the browser tests: Debian's Chromium driven by
// playwright-core (no browser download), and `postflow demo` as the
// service under test (the Frame.io emulator and a fake Discord inside it,
// all on loopback).
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, existsSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
export const repo = resolve(here, "../..");

/** The postflow binary cargo built (CARGO_TARGET_DIR honoured). */
export function postflowBinary() {
  if (process.env.POSTFLOW_BIN) return process.env.POSTFLOW_BIN;
  const target = process.env.CARGO_TARGET_DIR ?? join(repo, "target");
  const bin = join(target, "debug", "postflow");
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run cargo build first`);
  return bin;
}

/** The Frame.io emulator's binary (CARGO_TARGET_DIR honoured). */
export function emulatorBinary() {
  const target = process.env.CARGO_TARGET_DIR ?? join(repo, "target");
  const bin = join(target, "debug", "postflow-frameio-emulator");
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run cargo build first`);
  return bin;
}

/**
 * The UI the service serves: this checkout's ui/dist (what the next cargo
 * build embeds), so the tests see the UI as built, not as last compiled in.
 */
function uiDirEnv() {
  if (process.env.POSTFLOW_UI_DIR) return {};
  const dist = join(repo, "ui", "dist");
  return existsSync(join(dist, "index.html")) ? { POSTFLOW_UI_DIR: dist } : {};
}

/** Chromium as the machine has it: headless, no network but loopback. */
export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/**
 * Starts `postflow demo` and resolves with what it printed: the UI's URL
 * and what lies behind it (emulator, fake Discord, files). `stop()` ends it.
 */
export async function startDemo({
  lang = "en",
  pace = 1,
  scale = 0.05,
  renders = [],
  seed = 0,
  bandwidth = 160,
  parallel = 2,
  noRenders = false,
} = {}) {
  const dir = mkdtempSync(join(tmpdir(), "postflow-e2e-"));
  const args = [
    "demo",
    "--listen",
    "127.0.0.1:0",
    "--json",
    "--no-browser",
    "--dir",
    dir,
    "--pace",
    String(pace),
    "--size-scale",
    String(scale),
    "--lang",
    lang,
    "--bandwidth",
    String(bandwidth),
    "--seed-items",
    String(seed),
    "--parallel-files",
    String(parallel),
  ];
  if (noRenders) args.push("--no-renders");
  else if (renders.length) args.push("--renders", renders.join(","));
  const child = spawn(postflowBinary(), args, {
    env: { ...process.env, ...uiDirEnv(), NO_COLOR: "1", RUST_LOG: process.env.RUST_LOG ?? "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d.toString();
  });
  const info = await new Promise((ok, fail) => {
    let out = "";
    const timer = setTimeout(() => fail(new Error(`the demo did not start:\n${stderr}`)), 60_000);
    child.stdout.on("data", (d) => {
      out += d.toString();
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (line) {
        clearTimeout(timer);
        ok(JSON.parse(line));
      }
    });
    child.on("exit", (code) => fail(new Error(`the demo exited (${code}):\n${stderr}`)));
  });
  return {
    ...info,
    logs: () => stderr,
    /** `postflow <args>` against the demo's queue, as another process. */
    cli: (...cliArgs) => {
      const r = spawnSync(postflowBinary(), ["--config", info.config_file, ...cliArgs], {
        env: { ...process.env, POSTFLOW_DATA_DIR: info.data_dir, NO_COLOR: "1" },
        encoding: "utf8",
      });
      if (r.status !== 0) throw new Error(`postflow ${cliArgs.join(" ")}: ${r.stderr}`);
      return r.stdout;
    },
    stop: async () => {
      child.kill("SIGTERM");
      await new Promise((ok) => {
        if (child.exitCode !== null) ok();
        else child.on("exit", ok);
      });
    },
  };
}

/** A page on the demo's UI, in light or dark. */
export async function openPage(browser, url, { dark = false, width = 1366, height = 860 } = {}) {
  const context = await browser.newContext({
    viewport: { width, height },
    colorScheme: dark ? "dark" : "light",
    deviceScaleFactor: 1,
  });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e));
  await page.goto(url);
  return { page, context, errors };
}

export function tempDir() {
  return mkdtempSync(join(tmpdir(), "postflow-shot-"));
}

/** The demo's API key (from its keyed URL). */
export function keyOf(demo) {
  return new URL(demo.url).searchParams.get("key");
}

/** The UI's origin (`http://127.0.0.1:PORT`). */
export function originOf(demo) {
  return new URL(demo.url).origin;
}

/** A command through the HTTP API, as the page sends it. */
export async function api(demo, command, args = {}) {
  const r = await fetch(`${originOf(demo)}/api/${command}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-postflow-key": keyOf(demo), origin: originOf(demo) },
    body: JSON.stringify(args),
  });
  const body = await r.json();
  if (!r.ok) throw new Error(`${command}: ${r.status} ${JSON.stringify(body)}`);
  return body;
}

/** Polls `check` until it returns a truthy value (returned) or times out. */
export async function until(what, check, timeoutMs = 60_000, everyMs = 200) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await new Promise((ok) => setTimeout(ok, everyMs));
  }
}

/** What the fake Discord accepted. */
export async function discordMessages(demo) {
  const r = await fetch(`${demo.discord_base_url}/_fake/messages`);
  return r.json();
}

/** A board row's status (data-status) by file name, or null. */
export async function rowStatus(page, fileName) {
  const row = page.locator(`[data-testid=item-row][data-file="${fileName}"]`);
  if ((await row.count()) === 0) return null;
  return row.getAttribute("data-status");
}

/** Screenshots go here (the test run's scratch folder, or docs/ by scripts/screenshots.sh). */
export function screenshotDir() {
  return process.env.POSTFLOW_SCREENSHOTS ?? tempDir();
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

/** Waits for a child's first stdout line matching `re`; resolves with the match. */
function firstMatch(child, re, what, logs) {
  return new Promise((ok, fail) => {
    let out = "";
    const timer = setTimeout(() => fail(new Error(`${what} did not start:\n${logs()}`)), 60_000);
    child.stdout.on("data", (d) => {
      out += d.toString();
      const m = out.match(re);
      if (m) {
        clearTimeout(timer);
        ok(m);
      }
    });
    child.on("exit", (code) => fail(new Error(`${what} exited (${code}):\n${logs()}`)));
  });
}

/** Ends a child started with `detached` (its own process group) and waits. */
async function stopGroup(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((ok) => child.on("exit", ok));
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // gone already
    }
  }, 10_000);
  await exited;
  clearTimeout(timer);
}

/** The Frame.io emulator binary with an IMS client registered. */
export async function startEmulator({ clientId = "postflow-e2e" } = {}) {
  const child = spawn(emulatorBinary(), ["--client-id", clientId, "--no-rate-limits"], {
    env: { ...process.env, NO_COLOR: "1", RUST_LOG: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d.toString();
  });
  const [line] = await firstMatch(child, /^\{.*\}$/m, "the Frame.io emulator", () => stderr);
  return { ...JSON.parse(line), clientId, logs: () => stderr, stop: () => stopGroup(child) };
}

/** Environment variables that would reach past the test's own settings. */
const LEAKY = /^(POSTFLOW_|FRAMEIO_|LUCIDLINK_|DISCORD_WEBHOOK_URL$)/;

/**
 * `postflow run --listen 127.0.0.1:0`, as a person installs it: `settings`
 * is the whole settings file (TOML), the folders are its own, and the
 * secrets go to a real gnome-keyring in a private D-Bus session with a
 * throwaway HOME (never this user's keyring). Resolves with the keyed URL
 * and the paths; `stop()` ends the service and its session.
 */
export async function startService({ settings, env: extra = {} }) {
  const dir = mkdtempSync(join(tmpdir(), "postflow-run-"));
  const paths = {
    dir,
    home: join(dir, "home"),
    config_file: join(dir, "settings.toml"),
    data_dir: join(dir, "data"),
    log_dir: join(dir, "logs"),
    run_dir: join(dir, "run"),
  };
  for (const d of [paths.home, paths.data_dir, paths.log_dir]) mkdirSync(d, { recursive: true });
  mkdirSync(paths.run_dir, { recursive: true, mode: 0o700 });
  writeFileSync(paths.config_file, settings);
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !LEAKY.test(k)));
  Object.assign(env, uiDirEnv(), {
    HOME: paths.home,
    XDG_CONFIG_HOME: join(paths.home, ".config"),
    XDG_DATA_HOME: join(paths.home, ".local", "share"),
    XDG_CACHE_HOME: join(paths.home, ".cache"),
    XDG_RUNTIME_DIR: paths.run_dir,
    POSTFLOW_CONFIG: paths.config_file,
    POSTFLOW_DATA_DIR: paths.data_dir,
    POSTFLOW_LOG_DIR: paths.log_dir,
    POSTFLOW_KEYCHAIN_SERVICE: `${process.env.POSTFLOW_KEYCHAIN_SERVICE ?? "io.postflow.test.e2e"}.run.${process.pid}.${Date.now()}`,
    NO_COLOR: "1",
    RUST_LOG: process.env.RUST_LOG ?? "info",
  }, extra);
  delete env.DBUS_SESSION_BUS_ADDRESS;
  const script = 'printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null && exec "$@"';
  const child = spawn(
    "dbus-run-session",
    ["--", "bash", "-c", script, "postflow-run", postflowBinary(), "run", "--listen", "127.0.0.1:0"],
    { env, stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d.toString();
  });
  const [, url] = await firstMatch(child, /PostFlow web UI: (\S+)/, "postflow run", () => stderr);
  return { ...paths, url, logs: () => stderr, stop: () => stopGroup(child) };
}
