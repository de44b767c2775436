import type { ApiError } from "../bindings/ApiError";
import type { Commands, CommandName } from "../bindings/commands";
import type { Event } from "../bindings/Event";

/**
 * How the UI reaches PostFlow: the same views run on either host.
 * - In the desktop app: Tauri IPC (`invoke("api", …)`) and Tauri events.
 * - In a browser: the headless service's loopback HTTP API and its
 *   Server-Sent Events.
 */
export interface Transport {
  /** Which host this is (the app has a native folder picker). */
  readonly kind: "tauri" | "http";
  /** Runs one command of the API; rejects with an {@link ApiFailure}. */
  call<K extends CommandName>(
    command: K,
    args: Commands[K]["args"],
  ): Promise<Commands[K]["result"]>;
  /** Every event from now on; returns the function that stops listening. */
  subscribe(onEvent: (event: Event) => void, onState: (connected: boolean) => void): () => void;
  /** A native folder picker where there is one (the app); `null` otherwise. */
  pickFolder(): Promise<string | null>;
  /** Opens a link outside PostFlow (the system browser). */
  openUrl(url: string): Promise<void>;
  /**
   * Starts the built-in demo (sample renders on the Frame.io emulator), in
   * the app only; a browser page rejects it (`postflow demo` runs it).
   */
  tryDemo(): Promise<void>;
}

/** A refused command: the API's error, with its disposition and fix. */
export class ApiFailure extends Error {
  readonly error: ApiError;
  constructor(error: ApiError) {
    super(error.message);
    this.error = error;
  }
}

/** Anything a call rejected with, as an API error. */
export function asApiError(e: unknown): ApiError {
  if (e instanceof ApiFailure) return e.error;
  const message = e instanceof Error ? e.message : String(e);
  return { disposition: "transient", message, fix: null, problems: [] };
}
