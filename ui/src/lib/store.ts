import { useEffect, useMemo, useState, useSyncExternalStore } from "react";
import type { Event } from "../bindings/Event";
import type { ItemProgress } from "../bindings/ItemProgress";
import type { ItemView } from "../bindings/ItemView";
import type { ShotProgress } from "../bindings/ShotProgress";
import type { Snapshot } from "../bindings/Snapshot";
import { asApiError, type Transport } from "../transport";
import type { ApiError } from "../bindings/ApiError";

/**
 * What the window knows: the snapshot, every item, live progress. Events
 * patch it in place (a status change, progress a few times a second); a
 * new item or a lagged stream triggers a fresh read. Components read it
 * through `useStore` selectors, so a progress tick re-renders only what
 * shows progress.
 */
export interface State {
  snapshot: Snapshot | null;
  items: ItemView[];
  byId: Map<number, number>;
  progress: Map<number, ItemProgress>;
  shots: Map<string, ShotProgress>;
  connected: boolean;
  loaded: boolean;
  error: ApiError | null;
  /** Bumped on every change of the item list (for memoised groupings). */
  version: number;
  /** Bumped when the settings changed (saved anywhere, a sign-in finished)
   * or the event stream came back: views holding settings read them again. */
  settingsVersion: number;
}

type Listener = () => void;

export class Store {
  private state: State = {
    snapshot: null,
    items: [],
    byId: new Map(),
    progress: new Map(),
    shots: new Map(),
    connected: false,
    loaded: false,
    error: null,
    version: 0,
    settingsVersion: 0,
  };
  private listeners = new Set<Listener>();
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private snapshotTimer: ReturnType<typeof setTimeout> | null = null;
  private stop: (() => void) | null = null;
  readonly transport: Transport;

  constructor(transport: Transport) {
    this.transport = transport;
  }

  get = (): State => this.state;

  subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  private set(patch: Partial<State>) {
    this.state = { ...this.state, ...patch };
    for (const l of this.listeners) l();
  }

  start() {
    this.stop = this.transport.subscribe(
      (e) => this.onEvent(e),
      (connected) => {
        const was = this.state.connected;
        this.set({ connected });
        // Back after a drop: what happened meanwhile is read afresh.
        if (connected && !was) {
          this.refreshSoon(0);
          this.set({ settingsVersion: this.state.settingsVersion + 1 });
        }
      },
    );
    void this.refresh();
  }

  dispose() {
    this.stop?.();
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    if (this.snapshotTimer) clearTimeout(this.snapshotTimer);
  }

  /** Reads the snapshot and every item again. */
  async refresh() {
    try {
      const [snapshot, page] = await Promise.all([
        this.transport.call("snapshot", {}),
        this.transport.call("items", {
          query: { filter: "all", statuses: null, search: null, offset: 0, limit: 20000 },
        }),
      ]);
      const byId = new Map<number, number>();
      page.items.forEach((item, i) => byId.set(item.id, i));
      this.set({
        snapshot,
        items: page.items,
        byId,
        loaded: true,
        error: null,
        version: this.state.version + 1,
      });
    } catch (e) {
      this.set({ error: asApiError(e), loaded: true });
    }
  }

  refreshSoon(delay = 300) {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      void this.refresh();
    }, delay);
  }

  async refreshSnapshot() {
    try {
      const snapshot = await this.transport.call("snapshot", {});
      this.set({ snapshot });
    } catch (e) {
      this.set({ error: asApiError(e) });
    }
  }

  snapshotSoon() {
    if (this.snapshotTimer) return;
    this.snapshotTimer = setTimeout(() => {
      this.snapshotTimer = null;
      void this.refreshSnapshot();
    }, 250);
  }

  /** Applies an answer that carries an item (retry, cancel). */
  applyItem(item: ItemView) {
    const i = this.state.byId.get(item.id);
    if (i === undefined) {
      this.refreshSoon(0);
      return;
    }
    const items = this.state.items.slice();
    items[i] = item;
    this.set({ items, version: this.state.version + 1 });
    this.snapshotSoon();
  }

  setSnapshot(snapshot: Snapshot) {
    this.set({ snapshot });
  }

  private onEvent(e: Event) {
    switch (e.type) {
      case "progress": {
        const progress = new Map(this.state.progress);
        for (const p of e.items) progress.set(p.id, p);
        const shots = new Map<string, ShotProgress>();
        for (const s of e.shots) shots.set(`${s.scene}\u0000${s.shot}`, s);
        this.set({ progress, shots });
        return;
      }
      case "item_status": {
        const i = this.state.byId.get(e.id);
        if (i === undefined) {
          this.refreshSoon();
        } else {
          const items = this.state.items.slice();
          const old = items[i];
          if (old) {
            items[i] = { ...old, status: e.status, detail: e.detail, updated_at: Date.now() };
            this.set({ items, version: this.state.version + 1 });
          }
          // Details the event does not carry (links, attempts) follow.
          if (["done", "already_in_frameio", "failed", "queued"].includes(e.status)) {
            this.refreshSoon(600);
          }
        }
        if (e.status !== "uploading") {
          const progress = new Map(this.state.progress);
          progress.delete(e.id);
          this.set({ progress });
        }
        // Something needs a person: the header says so at once.
        if (e.status === "failed" || e.status === "held") void this.refreshSnapshot();
        else this.snapshotSoon();
        return;
      }
      case "uploaded":
        this.refreshSoon();
        return;
      case "settings_changed":
        this.set({ settingsVersion: this.state.settingsVersion + 1 });
        this.refreshSoon(0);
        return;
      case "upload_progress":
        return;
      default:
        this.snapshotSoon();
    }
  }
}

/**
 * A slice of the store; re-renders only when the slice changes. Selectors
 * must return stored values (or primitives), not new objects.
 */
export function useStore<T>(store: Store, select: (s: State) => T): T {
  return useSyncExternalStore(store.subscribe, () => select(store.get()));
}

/** The store for this window, started once. */
export function useNewStore(transport: Transport): Store {
  const store = useMemo(() => new Store(transport), [transport]);
  useEffect(() => {
    store.start();
    return () => store.dispose();
  }, [store]);
  return store;
}

/** Re-renders every `ms` (relative times, ETAs). */
export function useTick(ms: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
