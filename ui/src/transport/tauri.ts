import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import type { ApiError } from "../bindings/ApiError";
import type { CommandName, Commands } from "../bindings/commands";
import type { Event } from "../bindings/Event";
import { ApiFailure, type Transport } from "./types";

/** The desktop app: one IPC command (`api`) over the same command list. */
export class TauriTransport implements Transport {
  readonly kind = "tauri" as const;

  constructor() {
    // Web links (Frame.io pages, the sign-in) open in the system browser,
    // from Rust: a webview has no browser to open them in.
    document.addEventListener("click", (e) => {
      const link = e.target instanceof Element ? e.target.closest("a[href]") : null;
      if (!(link instanceof HTMLAnchorElement) || !/^https?:/.test(link.href)) return;
      // The app's own pages (http://tauri.localhost on Windows) stay here.
      if (link.origin === window.location.origin) return;
      e.preventDefault();
      void this.openUrl(link.href).catch((error: unknown) => {
        console.warn("cannot open", link.href, error);
      });
    });
  }

  async call<K extends CommandName>(
    command: K,
    args: Commands[K]["args"],
  ): Promise<Commands[K]["result"]> {
    try {
      return await invoke<Commands[K]["result"]>("api", { command, args });
    } catch (e) {
      const error: ApiError =
        typeof e === "object" && e !== null && "message" in e
          ? (e as ApiError)
          : { disposition: "transient", message: String(e), fix: null, problems: [] };
      throw new ApiFailure(error);
    }
  }

  subscribe(onEvent: (event: Event) => void, onState: (connected: boolean) => void): () => void {
    let stop: (() => void) | null = null;
    let stopped = false;
    listen<Event>("postflow://event", (e) => onEvent(e.payload)).then(
      (unlisten) => {
        if (stopped) unlisten();
        else {
          stop = unlisten;
          onState(true);
        }
      },
      () => onState(false),
    );
    return () => {
      stopped = true;
      stop?.();
    };
  }

  /** The native folder picker (the app's `pick_folder` command); `null`
   * when it is cancelled. */
  async pickFolder(): Promise<string | null> {
    return invoke<string | null>("pick_folder");
  }

  /** Opened from Rust (the app's `open_url` command): the webview needs no
   * opener permission. */
  async openUrl(url: string): Promise<void> {
    await invoke("open_url", { url });
  }

  /** The app's `try_demo` command: PostFlow restarts on the demo. */
  async tryDemo(): Promise<void> {
    await invoke("try_demo");
  }
}
