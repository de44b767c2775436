import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import type { ApiError } from "../bindings/ApiError";
import type { CommandName, Commands } from "../bindings/commands";
import type { Event } from "../bindings/Event";
import { ApiFailure, type Transport } from "./types";

/** The desktop app: one IPC command (`api`) over the same command list. */
export class TauriTransport implements Transport {
  readonly kind = "tauri" as const;

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

  async pickFolder(): Promise<string | null> {
    // UNFINISHED (issue 11): the native picker (tauri-plugin-dialog).
    return null;
  }

  async openUrl(url: string): Promise<void> {
    // UNFINISHED (issue 11): opened from Rust (no opener permission here).
    window.open(url, "_blank", "noopener,noreferrer");
  }
}
