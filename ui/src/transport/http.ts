import type { ApiError } from "../bindings/ApiError";
import type { CommandName, Commands } from "../bindings/commands";
import type { Event } from "../bindings/Event";
import { ApiFailure, type Transport } from "./types";

/** The key the page got with its cookie (same origin only). */
function key(): string {
  const found = document.cookie
    .split(";")
    .map((c) => c.trim())
    .find((c) => c.startsWith("postflow_key="));
  return found ? decodeURIComponent(found.slice("postflow_key=".length)) : "";
}

function isApiError(v: unknown): v is ApiError {
  return typeof v === "object" && v !== null && "message" in v && "disposition" in v;
}

/** The headless service's API: POST /api/<command>, events over SSE. */
export class HttpTransport implements Transport {
  readonly kind = "http" as const;

  async call<K extends CommandName>(
    command: K,
    args: Commands[K]["args"],
  ): Promise<Commands[K]["result"]> {
    let response: Response;
    try {
      response = await fetch(`/api/${command}`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-postflow-key": key() },
        body: JSON.stringify(args),
        credentials: "same-origin",
      });
    } catch (e) {
      throw new ApiFailure({
        disposition: "transient",
        message: `PostFlow cannot be reached (${e instanceof Error ? e.message : String(e)})`,
        fix: "check that the PostFlow service is running",
        problems: [],
      });
    }
    const body: unknown = await response.json().catch(() => null);
    if (!response.ok) {
      throw new ApiFailure(
        isApiError(body)
          ? body
          : { disposition: "transient", message: `HTTP ${response.status}`, fix: null, problems: [] },
      );
    }
    return body as Commands[K]["result"];
  }

  subscribe(onEvent: (event: Event) => void, onState: (connected: boolean) => void): () => void {
    // EventSource reconnects by itself; the key rides in the query (it
    // cannot send headers).
    const source = new EventSource(`/api/events?key=${encodeURIComponent(key())}`);
    source.onopen = () => onState(true);
    source.onerror = () => onState(false);
    source.onmessage = (message: MessageEvent<string>) => {
      try {
        onEvent(JSON.parse(message.data) as Event);
      } catch {
        // A malformed message is dropped; the next refresh catches up.
      }
    };
    return () => source.close();
  }

  async pickFolder(): Promise<string | null> {
    // A page has no native picker: the path is typed.
    return null;
  }

  async openUrl(url: string): Promise<void> {
    window.open(url, "_blank", "noopener,noreferrer");
  }

  async tryDemo(): Promise<void> {
    // Not offered in a page: the demo is its own command.
    throw new ApiFailure({
      disposition: "needs_user",
      message: "the demo is not available in a browser page",
      fix: "run `postflow demo` on this machine",
      problems: [],
    });
  }
}
