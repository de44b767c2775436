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
  private catchUpTimer: ReturnType<typeof setTimeout> | null = null;
  /** When the items were last read (the server's clock), for catching up. */
  private readAt: number | null = null;
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
    if (this.catchUpTimer) clearTimeout(this.catchUpTimer);
    if (this.snapshotTimer) clearTimeout(this.snapshotTimer);
  }

  /** Reads the snapshot and every item again. */
  async refresh() {
    try {
      const [snapshot, page] = await Promise.all([
        this.transport.call("snapshot", {}),
        this.transport.call("items", {
          query: { filter: "all", statuses: null, search: null, updated_since: null, offset: 0, limit: 20000 },
        }),
      ]);
      const byId = new Map<number, number>();
      page.items.forEach((item, i) => byId.set(item.id, i));
      this.readAt = page.read_at;
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

  /**
   * Reads only the items changed since the last read and merges them in
   * board order: a board of 10,000 items follows events without reading
   * them all again.
   */
  async catchUp() {
    if (this.readAt === null) return this.refresh();
    try {
      // A second of overlap: a change written just before the last read
      // is read again rather than missed.
      const page = await this.transport.call("items", {
        query: {
          filter: "all",
          statuses: null,
          search: null,
          updated_since: this.readAt - 1000,
          offset: 0,
          limit: 20000,
        },
      });
      this.readAt = page.read_at;
      if (page.items.length === 0) return;
      const items = this.state.items.slice();
      let added = false;
      for (const item of page.items) {
        const i = this.state.byId.get(item.id);
        if (i === undefined) {
          items.push(item);
          added = true;
        } else {
          items[i] = item;
        }
      }
      let byId = this.state.byId;
      if (added) {
        items.sort(boardOrder);
        byId = new Map();
        items.forEach((item, i) => byId.set(item.id, i));
      }
      this.set({ items, byId, version: this.state.version + 1, error: null });
    } catch (e) {
      this.set({ error: asApiError(e) });
    }
  }

  catchUpSoon(delay = 300) {
    if (this.catchUpTimer) return;
    this.catchUpTimer = setTimeout(() => {
      this.catchUpTimer = null;
      void this.catchUp();
    }, delay);
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
      this.catchUpSoon(0);
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
          this.catchUpSoon();
        } else {
          const items = this.state.items.slice();
          const old = items[i];
          if (old) {
            // Whom a deferring item waits for is only true while it defers.
            const waiting_for = e.status === "deferring" ? old.waiting_for : null;
            items[i] = { ...old, status: e.status, detail: e.detail, waiting_for, updated_at: Date.now() };
            this.set({ items, version: this.state.version + 1 });
          }
          // Details the event does not carry (links, attempts, a scene
          // found for a held name, whom a deferring item waits for and its
          // last sign of life) follow. A CI run caught the board showing
          // "deferring" without whom for: the catch-up after "queued" had
          // read the item while it was still preparing folders.
          if (["done", "already_in_frameio", "failed", "queued", "deferring"].includes(e.status)) {
            this.catchUpSoon(600);
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
        this.catchUpSoon();
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

/** The API's board order: names not recognised first, then scene, shot,
 * version, path (as SQLite compares text: by code unit), id. */
function boardOrder(a: ItemView, b: ItemView): number {
  const cmp = (x: string | null, y: string | null) => (x === y ? 0 : x === null ? -1 : y === null ? 1 : x < y ? -1 : 1);
  if ((a.scene === null) !== (b.scene === null)) return a.scene === null ? -1 : 1;
  return cmp(a.scene, b.scene) || cmp(a.shot, b.shot) || cmp(a.version, b.version) || cmp(a.rel_path, b.rel_path) || a.id - b.id;
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
