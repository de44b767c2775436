import { HttpTransport } from "./http";
import { TauriTransport } from "./tauri";
import type { Transport } from "./types";

export type { Transport } from "./types";
export { ApiFailure, asApiError } from "./types";

/** The app's IPC inside Tauri's webview, the HTTP API in a browser. */
export function pickTransport(): Transport {
  return "__TAURI_INTERNALS__" in window ? new TauriTransport() : new HttpTransport();
}
