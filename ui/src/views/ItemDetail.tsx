import { useEffect, useRef, useState } from "react";
import type { ItemDetail } from "../bindings/ItemDetail";
import type { Actions } from "../App";
import { useI18n } from "../i18n";
import { bytes, time } from "../lib/format";
import { useStore, type Store } from "../lib/store";
import { Stages } from "./Board";
import { Icon } from "./Icon";

/** One item: where it is, where it goes, what happened, what to do. A
 * modal dialog: focus stays inside, Escape closes it. */
export function ItemDetailDialog({
  id,
  store,
  actions,
  onClose,
}: {
  id: number;
  store: Store;
  actions: Actions;
  onClose: () => void;
}) {
  const { t, lang, status } = useI18n();
  const dialog = useRef<HTMLDialogElement>(null);
  const [detail, setDetail] = useState<ItemDetail | null>(null);
  // Re-read when the item changes on the board (its status moved).
  const version = useStore(store, (s) => {
    const i = s.byId.get(id);
    return i === undefined ? null : s.items[i]?.updated_at ?? null;
  });
  useEffect(() => {
    let live = true;
    void actions.run(async () => {
      const d = await store.transport.call("item", { id });
      if (live) setDetail(d);
    });
    return () => {
      live = false;
    };
  }, [id, version, store, actions]);
  useEffect(() => {
    const d = dialog.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);
  const item = detail?.item;
  return (
    <dialog ref={dialog} className="detail" aria-labelledby="detail-title" onClose={onClose} data-testid="item-detail">
      <div className="detail-head">
        <h2 id="detail-title">{item ? t.detailTitle(item.file_name) : t.loading}</h2>
        <button type="button" className="ghost" onClick={onClose} aria-label={t.close}>
          <Icon name="x" />
        </button>
      </div>
      {item && detail && (
        <>
          <p className="detail-status">
            <strong>{status(item.status)}</strong>
          </p>
          <Stages status={item.status} />
          <dl className="facts">
            <dt>{t.localPath}</dt>
            <dd>
              <code>{detail.local_path}</code>
            </dd>
            <dt>{t.frameioPath}</dt>
            <dd>{detail.frameio_path ? <code>{detail.frameio_path}</code> : t.none}</dd>
            <dt>{t.size}</dt>
            <dd>{bytes(item.size, lang)}</dd>
            <dt>{t.attempts}</dt>
            <dd>{item.attempts}</dd>
            <dt>{t.uploadedBy}</dt>
            <dd>
              {item.uploaded_by?.by === "this_workstation"
                ? t.thisWorkstation(item.uploaded_by.name)
                : item.uploaded_by?.by === "another_workstation"
                  ? t.anotherWorkstation
                  : t.none}
            </dd>
            <dt>{t.link}</dt>
            <dd>
              {item.view_url ? (
                <a href={item.view_url} target="_blank" rel="noreferrer noopener">
                  {t.openInFrameio}
                </a>
              ) : (
                t.none
              )}
            </dd>
          </dl>
          {detail.last_error && (
            <section className="last-error" aria-labelledby="error-title">
              <h3 id="error-title">
                <Icon name="warning" /> {t.lastError}
              </h3>
              <p>{detail.last_error.message}</p>
              <h4>{t.whatToDo}</h4>
              <p>{detail.last_error.fix}</p>
            </section>
          )}
          <h3>{t.timeline}</h3>
          <ol className="timeline">
            {detail.timeline.map((e, i) => (
              <li key={`${e.at}-${i}`}>
                <time dateTime={new Date(e.at).toISOString()}>{time(e.at, lang)}</time> {status(e.status)}
                {e.detail && <span className="muted"> — {e.detail}</span>}
              </li>
            ))}
          </ol>
          <div className="detail-actions">
            {(item.status === "failed" || item.status === "held" || item.status === "cancelled") && (
              <button
                type="button"
                onClick={() =>
                  void actions.run(async () => store.applyItem(await store.transport.call("retry", { id: item.id })))
                }
              >
                {t.retry}
              </button>
            )}
            {(item.status === "waiting_for_stability" ||
              item.status === "queued" ||
              item.status === "held" ||
              item.status === "failed") && (
              <button
                type="button"
                className="ghost"
                onClick={() =>
                  void actions.run(async () => store.applyItem(await store.transport.call("cancel", { id: item.id })))
                }
              >
                {t.cancelItem}
              </button>
            )}
            <button type="button" className="ghost" onClick={onClose}>
              {t.close}
            </button>
          </div>
        </>
      )}
    </dialog>
  );
}
