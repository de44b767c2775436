import { memo, useMemo, useRef, useState } from "react";
import { useVirtualizer } from "@tanstack/react-virtual";
import type { ItemView } from "../bindings/ItemView";
import type { StatusKind } from "../bindings/StatusKind";
import type { Actions } from "../App";
import { useI18n } from "../i18n";
import { bytes, duration, percent, speed, time } from "../lib/format";
import { useStore, type Store } from "../lib/store";
import { Icon, type IconName } from "./Icon";

type FilterId = "all" | "active" | "attention" | "done" | "cancelled";

const FINAL: StatusKind[] = ["done", "already_in_frameio", "cancelled"];

function matches(filter: FilterId, item: ItemView): boolean {
  switch (filter) {
    case "all":
      return true;
    case "active":
      return !FINAL.includes(item.status) && item.status !== "held" && item.status !== "failed";
    case "attention":
      return item.status === "held" || item.status === "failed";
    case "done":
      return item.status === "done" || item.status === "already_in_frameio";
    case "cancelled":
      return item.status === "cancelled";
  }
}

type Row =
  | { kind: "scene"; key: string; scene: string | null; shots: number; files: number }
  | { kind: "shot"; key: string; scene: string; shot: string; items: ItemView[] }
  | { kind: "item"; key: string; item: ItemView };

/** Fixed heights: rows never jump while progress updates. */
const HEIGHT: Record<Row["kind"], number> = { scene: 44, shot: 52, item: 76 };

/** Scenes → shots → versions, in the API's board order. */
function rowsOf(items: ItemView[]): Row[] {
  const rows: Row[] = [];
  let i = 0;
  while (i < items.length) {
    const scene = items[i]?.scene ?? null;
    const sceneRow: Row & { kind: "scene" } = { kind: "scene", key: `s:${scene ?? ""}`, scene, shots: 0, files: 0 };
    rows.push(sceneRow);
    while (i < items.length && (items[i]?.scene ?? null) === scene) {
      const shot = items[i]?.shot ?? null;
      const group: ItemView[] = [];
      while (i < items.length && (items[i]?.scene ?? null) === scene && (items[i]?.shot ?? null) === shot) {
        const item = items[i];
        if (item) group.push(item);
        i += 1;
      }
      sceneRow.files += group.length;
      if (scene !== null && shot !== null) {
        sceneRow.shots += 1;
        rows.push({ kind: "shot", key: `h:${scene}\u0000${shot}`, scene, shot, items: group });
      }
      for (const item of group) rows.push({ kind: "item", key: `i:${item.id}`, item });
    }
  }
  return rows;
}

export function Board({ store, actions }: { store: Store; actions: Actions }) {
  const { t } = useI18n();
  const items = useStore(store, (s) => s.items);
  const loaded = useStore(store, (s) => s.loaded);
  const [filter, setFilter] = useState<FilterId>("all");
  const [search, setSearch] = useState("");
  const shown = useMemo(() => {
    const needle = search.trim().toLowerCase();
    return items.filter((i) => matches(filter, i) && (!needle || i.rel_path.toLowerCase().includes(needle)));
  }, [items, filter, search]);
  const rows = useMemo(() => rowsOf(shown), [shown]);
  const filters: [FilterId, string][] = [
    ["all", t.filterAll],
    ["active", t.filterActive],
    ["attention", t.filterAttention],
    ["done", t.filterDone],
    ["cancelled", t.filterCancelled],
  ];
  return (
    <section aria-labelledby="board-title" className="board">
      <Attention store={store} actions={actions} items={items} />
      <div className="board-head">
        <h2 id="board-title">{t.boardTitle}</h2>
        <div className="filters" role="group" aria-label={t.filter}>
          {filters.map(([id, label]) => (
            <button
              key={id}
              type="button"
              className="chip"
              aria-pressed={filter === id}
              onClick={() => setFilter(id)}
            >
              {label}
            </button>
          ))}
        </div>
        <label className="search">
          <span className="sr-only">{t.search}</span>
          <input
            type="search"
            value={search}
            placeholder={t.searchPlaceholder}
            aria-label={t.search}
            onChange={(e) => setSearch(e.target.value)}
          />
        </label>
        <span className="muted count" aria-live="polite">
          {t.itemCount(shown.length)}
        </span>
      </div>
      {!loaded ? (
        <p>{t.loading}</p>
      ) : items.length === 0 ? (
        <p className="empty">{t.emptyBoard}</p>
      ) : rows.length === 0 ? (
        <p className="empty">{t.emptyFilter}</p>
      ) : (
        <VirtualRows rows={rows} store={store} actions={actions} />
      )}
    </section>
  );
}

function VirtualRows({ rows, store, actions }: { rows: Row[]; store: Store; actions: Actions }) {
  const parent = useRef<HTMLDivElement>(null);
  // Rows are virtualized: 10,000 files stay smooth, only what is on
  // screen is in the page.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => parent.current,
    estimateSize: (i) => HEIGHT[rows[i]?.kind ?? "item"],
    overscan: 8,
    getItemKey: (i) => rows[i]?.key ?? i,
  });
  return (
    <div ref={parent} className="board-list" data-testid="board-list">
      <ul className="rows" style={{ height: virtualizer.getTotalSize() }} aria-label="board">
        {virtualizer.getVirtualItems().map((v) => {
          const row = rows[v.index];
          if (!row) return null;
          return (
            <li
              key={v.key}
              className={`row row-${row.kind}`}
              style={{ transform: `translateY(${v.start}px)`, height: HEIGHT[row.kind] }}
            >
              {row.kind === "scene" && <SceneRow row={row} />}
              {row.kind === "shot" && <ShotRow row={row} store={store} />}
              {row.kind === "item" && <ItemRow item={row.item} store={store} actions={actions} />}
            </li>
          );
        })}
      </ul>
    </div>
  );
}

function SceneRow({ row }: { row: Row & { kind: "scene" } }) {
  const { t } = useI18n();
  return (
    <h3 className="scene">
      {row.scene === null ? t.noScene : t.sceneLabel(row.scene)}
      <span className="muted">
        {row.scene !== null && ` · ${t.shots(row.shots)}`} · {t.itemCount(row.files)}
      </span>
    </h3>
  );
}

function ShotRow({ row, store }: { row: Row & { kind: "shot" }; store: Store }) {
  const { t, lang } = useI18n();
  const live = useStore(store, (s) => s.shots.get(`${row.scene}\u0000${row.shot}`));
  const inFrameio = row.items.filter((i) => i.status === "done" || i.status === "already_in_frameio").length;
  const total = row.items.reduce((n, i) => n + i.size, 0);
  const sent = live ? live.bytes_sent : row.items.reduce((n, i) => n + Math.min(i.bytes_sent, i.size), 0);
  const shotTotal = live ? live.total_bytes : total;
  const pct = percent(sent, shotTotal);
  return (
    <div className="shot">
      <h4>
        {row.shot}
        <span className="muted"> · {t.versions(row.items.length)} · {t.inFrameio(inFrameio, row.items.length)}</span>
      </h4>
      <div className="shot-progress">
        <progress
          max={100}
          value={pct}
          aria-label={`${row.scene} ${row.shot}: ${t.inFrameio(inFrameio, row.items.length)}`}
        />
        <span className="muted tabular">
          {pct} %{live && live.bytes_per_sec > 0 ? ` · ${speed(live.bytes_per_sec, lang)}` : ""}
        </span>
      </div>
    </div>
  );
}

/** The six stages of a render's way to Frame.io. */
function stageOf(status: StatusKind): number {
  switch (status) {
    case "waiting_for_stability":
      return 0;
    case "queued":
      return 1;
    case "preparing_folders":
    case "uploading":
    case "deferring":
      return 2;
    case "verifying":
      return 3;
    case "stacking":
      return 4;
    case "notifying":
      return 5;
    case "done":
    case "already_in_frameio":
      return 6;
    default:
      return -1;
  }
}

function statusIcon(status: StatusKind): IconName {
  switch (status) {
    case "done":
    case "already_in_frameio":
      return "check";
    case "failed":
      return "warning";
    case "held":
      return "person";
    case "cancelled":
      return "x";
    case "waiting_for_stability":
    case "queued":
    case "deferring":
      return "clock";
    default:
      return "upload";
  }
}

export function Stages({ status }: { status: StatusKind }) {
  const { t, status: statusText } = useI18n();
  const stage = stageOf(status);
  const names = [t.stageRendering, t.stageQueued, t.stageUploading, t.stageVerifying, t.stageStacked, t.stageTold];
  if (stage < 0) return null;
  return (
    <ol className="stages" aria-label={`${t.stage}: ${statusText(status)}`}>
      {names.map((name, i) => (
        <li
          key={name}
          className={i < stage ? "stage done" : i === stage ? "stage now" : "stage"}
          aria-current={i === stage ? "step" : undefined}
          title={name}
        >
          <span className="sr-only">{name}</span>
        </li>
      ))}
    </ol>
  );
}

const ItemRow = memo(function ItemRow({ item, store, actions }: { item: ItemView; store: Store; actions: Actions }) {
  const { t, lang, status } = useI18n();
  const live = useStore(store, (s) => s.progress.get(item.id));
  const uploading = item.status === "uploading" || item.status === "preparing_folders";
  const sent = live ? live.bytes_sent : item.bytes_sent;
  const rate = live?.bytes_per_sec ?? item.bytes_per_sec;
  const pct = percent(sent, item.size);
  const eta = uploading && rate > 0 ? t.eta(duration((item.size - sent) / rate, lang)) : "";
  const uploader =
    item.uploaded_by?.by === "this_workstation"
      ? t.thisWorkstation(item.uploaded_by.name)
      : item.uploaded_by?.by === "another_workstation"
        ? t.anotherWorkstation
        : null;
  return (
    <div className={`item status-${item.status}`} data-testid="item-row" data-file={item.file_name} data-status={item.status}>
      <div className="item-main">
        <button type="button" className="link item-name" onClick={() => actions.openItem(item.id)}>
          {item.file_name}
        </button>
        {item.version && <span className="badge">{item.version}</span>}
        {item.rerender && <span className="badge badge-info">{t.rerender}</span>}
        <span className="item-status">
          <Icon name={statusIcon(item.status)} /> {status(item.status)}
        </span>
      </div>
      <div className="item-sub">
        <Stages status={item.status} />
        {uploading || item.status === "verifying" ? (
          <span className="item-progress">
            <progress max={100} value={pct} aria-label={t.progressLabel(item.file_name)} />
            <span className="tabular">
              {pct} % · {t.bytesOf(bytes(sent, lang), bytes(item.size, lang))}
              {rate > 0 && uploading ? ` · ${speed(rate, lang)}` : ""}
              {eta ? ` · ${eta}` : ""}
            </span>
          </span>
        ) : (
          <span className="muted tabular">{bytes(item.size, lang)}</span>
        )}
        {item.detail && (item.status === "failed" || item.status === "held" || item.status === "cancelled") && (
          <span className="item-detail" title={item.detail}>
            {item.detail}
          </span>
        )}
        {item.waiting_for && (
          <span className="item-detail" data-testid="waiting-for">
            {t.waitingFor(
              item.waiting_for.workstation,
              // As of the last look at it (the item is written at each).
              Math.max(0, Math.round((item.updated_at - item.waiting_for.last_sign_of_life_at) / 1000)),
            )}
          </span>
        )}
        {uploader && (
          <span className="muted">
            {t.uploadedByLine(uploader)}
          </span>
        )}
        {item.view_url && (
          <a href={item.view_url} target="_blank" rel="noreferrer noopener" className="frameio-link">
            <Icon name="link" /> {t.openInFrameio}
          </a>
        )}
        {item.finished_at && <span className="muted">{time(item.finished_at, lang)}</span>}
      </div>
    </div>
  );
});

/** Failures and held names first, as cards that stay until resolved. */
function Attention({ store, actions, items }: { store: Store; actions: Actions; items: ItemView[] }) {
  const { t, lang } = useI18n();
  const needing = items.filter((i) => i.status === "failed" || i.status === "held");
  const failed = needing.filter((i) => i.status === "failed");
  const scenes = [...new Set(failed.map((i) => i.scene).filter((s): s is string => s !== null))];
  const shown = needing.slice(0, 6);
  const retry = (work: () => Promise<unknown>) =>
    void actions.run(async () => {
      await work();
      store.refreshSoon(0);
    });
  return (
    <section aria-labelledby="attention-title" className="attention">
      <div className="attention-head">
        <h2 id="attention-title">
          <Icon name="warning" /> {t.attentionTitle}
          <span className="count-badge">{needing.length}</span>
        </h2>
        {failed.length > 0 && (
          <button type="button" onClick={() => retry(() => store.transport.call("retry_all_failed", {}))}>
            <Icon name="refresh" /> {t.retryAllFailed(failed.length)}
          </button>
        )}
        {scenes.map((scene) => (
          <button
            key={scene}
            type="button"
            className="ghost"
            onClick={() => retry(() => store.transport.call("retry_scene", { scene }))}
          >
            {t.retryScene(scene)}
          </button>
        ))}
      </div>
      {needing.length === 0 ? (
        <p className="muted">
          <Icon name="check" /> {t.attentionEmpty}
        </p>
      ) : (
        <ul className="cards">
          {shown.map((item) => (
            <li key={item.id} className={`card card-${item.status}`} data-testid="attention-card" data-file={item.file_name}>
              <h3>
                <Icon name={item.status === "held" ? "person" : "warning"} /> {item.file_name}
              </h3>
              <p className="cause">{item.status === "held" ? t.heldCause : t.failedCause}</p>
              {item.detail && <p className="reason">{item.detail}</p>}
              {item.status === "failed" && (
                <p className="muted">
                  {item.needs_action || item.next_retry_at === null
                    ? t.gaveUp(item.attempts)
                    : t.retriesBy(time(item.next_retry_at, lang))}
                </p>
              )}
              <div className="card-actions">
                {item.status === "failed" && (
                  <button
                    type="button"
                    onClick={() =>
                      void actions.run(async () => store.applyItem(await store.transport.call("retry", { id: item.id })))
                    }
                  >
                    {t.retry}
                  </button>
                )}
                {item.status === "held" && (
                  <button
                    type="button"
                    onClick={() => actions.go("settings", { test: item.file_name, section: "nomenclature" })}
                  >
                    {t.testThisName}
                  </button>
                )}
                <button type="button" className="ghost" onClick={() => actions.openItem(item.id)}>
                  {t.details}
                </button>
              </div>
            </li>
          ))}
          {needing.length > shown.length && (
            <li className="card card-more">
              <span>+{needing.length - shown.length}</span>
            </li>
          )}
        </ul>
      )}
    </section>
  );
}
