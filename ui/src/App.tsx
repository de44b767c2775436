import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { ApiError } from "./bindings/ApiError";
import { I18nContext, i18nFor } from "./i18n";
import { useNewStore, useStore } from "./lib/store";
import { asApiError, type Transport } from "./transport";
import { Header } from "./views/Header";
import { Board } from "./views/Board";
import { ItemDetailDialog } from "./views/ItemDetail";
import { Settings } from "./views/Settings";
import { Health } from "./views/Health";
import { ErrorBanner } from "./views/ErrorBanner";
import { FirstRun, needsFirstRun } from "./views/FirstRun";

export type View = "board" | "settings" | "health" | "welcome";

/** Where the window is: a view, and (on the board) an item's detail. */
function viewFromHash(): { view: View; item: number | null; test: string | null } {
  const hash = window.location.hash.replace(/^#\/?/, "");
  const [path = "", query = ""] = hash.split("?");
  const params = new URLSearchParams(query);
  const view: View =
    path === "settings" ? "settings" : path === "health" ? "health" : path === "welcome" ? "welcome" : "board";
  const item = Number(params.get("item"));
  return {
    view,
    item: Number.isFinite(item) && item > 0 ? item : null,
    test: params.get("test"),
  };
}

export interface Actions {
  /** Runs a command; an error shows in the banner (and is returned). */
  run: <R>(work: () => Promise<R>) => Promise<R | null>;
  openItem: (id: number | null) => void;
  go: (view: View, params?: Record<string, string>) => void;
}

export function App({ transport }: { transport: Transport }) {
  const store = useNewStore(transport);
  const snapshot = useStore(store, (s) => s.snapshot);
  const [where, setWhere] = useState(viewFromHash);
  const [error, setError] = useState<ApiError | null>(null);
  const storeError = useStore(store, (s) => s.error);
  const i18n = i18nFor(snapshot?.language ?? "en");

  useEffect(() => {
    const onHash = () => setWhere(viewFromHash());
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);
  useEffect(() => {
    document.documentElement.lang = i18n.lang;
    document.title = i18n.t.appName;
  }, [i18n]);

  // A first run (no folder or no project yet) opens on the welcome flow,
  // once per window: the board, Settings and Health stay a click away.
  const firstRunChecked = useRef(false);
  useEffect(() => {
    if (!snapshot || firstRunChecked.current) return;
    firstRunChecked.current = true;
    if (needsFirstRun(snapshot) && where.view === "board" && where.item === null) {
      // No new history entry; `hashchange` moves the view.
      window.location.replace("#/welcome");
    }
  }, [snapshot, where]);

  const go = useCallback((view: View, params?: Record<string, string>) => {
    const query = params ? `?${new URLSearchParams(params).toString()}` : "";
    window.location.hash = `/${view === "board" ? "" : view}${query}`;
  }, []);
  const actions: Actions = useMemo(
    () => ({
      run: async (work) => {
        try {
          const result = await work();
          setError(null);
          return result;
        } catch (e) {
          setError(asApiError(e));
          return null;
        }
      },
      openItem: (id) => go("board", id === null ? undefined : { item: String(id) }),
      go,
    }),
    [go],
  );

  return (
    <I18nContext.Provider value={i18n}>
      <a className="skip" href="#main">
        {i18n.t.skipToContent}
      </a>
      <Header store={store} actions={actions} view={where.view} />
      <main id="main" tabIndex={-1}>
        <ErrorBanner error={error ?? storeError} onDismiss={() => setError(null)} />
        {where.view === "board" && <Board store={store} actions={actions} />}
        {where.view === "settings" && (
          <Settings store={store} actions={actions} transport={transport} testName={where.test} />
        )}
        {where.view === "health" && <Health transport={transport} store={store} />}
        {where.view === "welcome" && <FirstRun store={store} actions={actions} transport={transport} />}
      </main>
      {where.view === "board" && where.item !== null && (
        <ItemDetailDialog
          id={where.item}
          store={store}
          actions={actions}
          onClose={() => actions.openItem(null)}
        />
      )}
    </I18nContext.Provider>
  );
}
