import { useState } from "react";
import type { BandwidthView } from "../bindings/BandwidthView";
import type { ServiceState } from "../bindings/ServiceState";
import type { Snapshot } from "../bindings/Snapshot";
import type { Actions, View } from "../App";
import { useI18n, type T } from "../i18n";
import { speed } from "../lib/format";
import { useStore, type Store } from "../lib/store";
import { Icon, type IconName } from "./Icon";
import { needsFirstRun } from "./FirstRun";

/** The state as words, an icon and a tone (the tone only adds to them). */
export function describeState(
  state: ServiceState,
  t: T,
): { title: string; detail: string; icon: IconName; tone: "ok" | "busy" | "warn" | "bad" | "idle" } {
  switch (state.state) {
    case "not_set_up":
      return {
        title: t.stateNotSetUp,
        detail: state.problems[0] ? `${state.problems[0].key}: ${state.problems[0].message}` : t.stateNotSetUpDetail,
        icon: "warning",
        tone: "warn",
      };
    case "signed_out":
      return { title: t.stateSignedOut, detail: t.stateSignedOutDetail, icon: "person", tone: "bad" };
    case "needs_you":
      return { title: t.stateNeedsYou, detail: state.reason, icon: "person", tone: "bad" };
    case "offline":
      return {
        title: state.what === "filespace" ? t.stateOfflineFilespace : t.stateOfflineFrameio,
        detail: state.detail ?? t.stateOfflineDetail,
        icon: "offline",
        tone: "warn",
      };
    case "paused":
      return {
        title: state.until === null ? t.statePaused : t.statePausedUntil(new Date(Number(state.until))),
        detail: t.statePausedDetail,
        icon: "pause",
        tone: "idle",
      };
    case "uploading":
      return { title: t.stateUploading(state.active, state.queued), detail: "", icon: "upload", tone: "busy" };
    case "attention":
      return {
        title: t.stateAttention(Number(state.failed) + Number(state.held)),
        detail: t.stateAttentionDetail(Number(state.failed), Number(state.held)),
        icon: "warning",
        tone: "warn",
      };
    case "watching":
      return { title: t.stateWatching, detail: t.stateWatchingDetail, icon: "check", tone: "ok" };
    case "stopped":
      return { title: t.stateStopped, detail: state.detail, icon: "stop", tone: "bad" };
  }
}

/** A rate in binary units, as the timetable writes it (20M = 20 MiB/s). */
function rate(bytesPerSec: number, t: T, lang: string): string {
  let value = bytesPerSec / 1024;
  let unit = 0;
  while (value >= 1024 && unit < t.bwUnits.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toLocaleString(lang, { maximumFractionDigits: 1 })} ${t.bwUnits[unit]}`;
}

/** A time of the coming week: "19:00" today, "Tue 08:00" another day. */
function when(ms: number, lang: string): string {
  const at = new Date(ms);
  const today = new Date().toDateString() === at.toDateString();
  return at.toLocaleString(lang, {
    weekday: today ? undefined : "short",
    hour: "2-digit",
    minute: "2-digit",
  });
}

/** The upload cap in words; `null` when there is none and none is planned. */
export function describeBandwidth(b: BandwidthView, t: T, lang: string): string | null {
  if (b.cap_bytes_per_sec === null && b.next === null) return null;
  const now = b.cap_bytes_per_sec === null ? t.bwNoCap : t.bwCapped(rate(b.cap_bytes_per_sec, t, lang));
  if (b.next === null) return now;
  const next = b.next.cap_bytes_per_sec === null ? t.bwNextNoCap : rate(b.next.cap_bytes_per_sec, t, lang);
  return t.bwUntil(now, when(b.next.at, lang), next);
}

function StatePill({ snapshot }: { snapshot: Snapshot }) {
  const { t, lang } = useI18n();
  const d = describeState(snapshot.state, t);
  // A first run: what to do, not the key that is missing.
  if (needsFirstRun(snapshot)) d.detail = t.frPillDetail;
  const rate = snapshot.state.state === "uploading" && snapshot.throughput_bps > 0 ? ` · ${speed(snapshot.throughput_bps, lang)}` : "";
  // Busy is not "all good": what needs a person is said while uploading too.
  const attention =
    snapshot.state.state === "uploading" && snapshot.attention > 0 ? t.stateAttention(Number(snapshot.attention)) : "";
  const detail = [d.detail, attention].filter(Boolean).join(" · ");
  return (
    <div className={`pill tone-${d.tone}`} role="status" aria-live="polite" data-testid="service-state">
      <Icon name={d.icon} />
      <span className="pill-title">
        {d.title}
        {rate}
      </span>
      {detail && <span className="pill-detail">{detail}</span>}
    </div>
  );
}

/** The next `hh:mm` (local time) after now: today, or tomorrow once past. */
export function nextLocalTime(hhmm: string, now: Date): number | null {
  const m = /^(\d{1,2}):(\d{2})$/.exec(hhmm);
  if (!m) return null;
  const at = new Date(now);
  at.setHours(Number(m[1]), Number(m[2]), 0, 0);
  if (at.getTime() <= now.getTime()) at.setDate(at.getDate() + 1);
  return at.getTime();
}

/** "Pause for…": a while (30 min, 1 h, 3 h), until tomorrow 8:00, or until
 * a time of day; the service resumes by itself then. */
function PauseFor({ store, actions }: { store: Store; actions: Actions }) {
  const { t } = useI18n();
  const [choosing, setChoosing] = useState(false);
  const [time, setTime] = useState("18:00");
  const pauseUntil = (until: number) =>
    void actions.run(async () => {
      store.setSnapshot(await store.transport.call("pause_until", { until }));
      setChoosing(false);
    });
  return (
    <>
      <select
        aria-label={t.pauseFor}
        data-testid="pause-for"
        value=""
        onChange={(e) => {
          const v = e.target.value;
          const now = new Date();
          if (v === "time") {
            setChoosing(true);
          } else if (v === "tomorrow") {
            const at = new Date(now);
            at.setDate(at.getDate() + 1);
            at.setHours(8, 0, 0, 0);
            pauseUntil(at.getTime());
          } else if (v !== "") {
            pauseUntil(now.getTime() + Number(v) * 60_000);
          }
        }}
      >
        <option value="">{t.pauseForChoose}</option>
        <option value="30">{t.pauseFor30}</option>
        <option value="60">{t.pauseFor60}</option>
        <option value="180">{t.pauseFor180}</option>
        <option value="tomorrow">{t.pauseTomorrow}</option>
        <option value="time">{t.pauseUntilTime}</option>
      </select>
      {choosing && (
        <form
          className="pause-until"
          onSubmit={(e) => {
            e.preventDefault();
            const until = nextLocalTime(time, new Date());
            if (until !== null) pauseUntil(until);
          }}
        >
          <label>
            {t.pauseUntilLabel}{" "}
            <input type="time" data-testid="pause-until-time" value={time} required onChange={(e) => setTime(e.target.value)} />
          </label>
          <button type="submit" data-testid="pause-until-go">
            {t.pauseUntilGo}
          </button>
        </form>
      )}
    </>
  );
}

export function Header({ store, actions, view }: { store: Store; actions: Actions; view: View }) {
  const { t, lang } = useI18n();
  const snapshot = useStore(store, (s) => s.snapshot);
  const connected = useStore(store, (s) => s.connected);
  const paused = snapshot?.run_state === "paused";
  // During the first run the flow is the fix: the header only says where
  // PostFlow stands, and its shortcuts lead back to the flow.
  const welcome = view === "welcome";
  const firstRun = needsFirstRun(snapshot);
  const tabs: [View, string][] = [
    ["board", t.navBoard],
    ["settings", t.navSettings],
    ["health", t.navHealth],
  ];
  return (
    <header className="top">
      {snapshot?.demo && (
        <p className="banner banner-demo" data-testid="demo-banner">
          {t.demoBanner}
        </p>
      )}
      {!connected && snapshot && (
        <p className="banner banner-warn" role="status">
          {t.disconnected}
        </p>
      )}
      <div className="top-row">
        <h1 className="brand">
          <img src="./icon.svg" alt="" width="24" height="24" />
          {t.appName}
        </h1>
        {snapshot ? <StatePill snapshot={snapshot} /> : <span>{t.loading}</span>}
        {!welcome && snapshot && (snapshot.state.state === "signed_out" || snapshot.state.state === "needs_you") && (
          // The one-click fix for what stops every upload.
          <button
            type="button"
            onClick={() => (firstRun ? actions.go("welcome") : actions.go("settings", { section: "frameio" }))}
          >
            <Icon name="person" /> {t.signInAgain}
          </button>
        )}
        {!welcome && snapshot?.state.state === "not_set_up" && (
          <button type="button" onClick={() => (firstRun ? actions.go("welcome") : actions.go("settings"))}>
            <Icon name="warning" /> {firstRun ? t.frTitle : t.finishSetup}
          </button>
        )}
        {!welcome && (
          <div className="top-actions">
            {snapshot && (
              <span className="project" title={snapshot.project?.id}>
                {t.project(snapshot.project?.name ?? snapshot.project?.id ?? t.noProject)}
                {snapshot.account?.name && <span className="muted"> · {t.signedInAs(snapshot.account.name)}</span>}
                <span className="muted"> · {t.health(snapshot.health)}</span>
                {describeBandwidth(snapshot.bandwidth, t, lang) !== null && (
                  <span className="muted" data-testid="bandwidth">
                    {" · "}
                    {describeBandwidth(snapshot.bandwidth, t, lang)}
                  </span>
                )}
              </span>
            )}
            <button
              type="button"
              onClick={() =>
                void actions.run(async () => {
                  const next = paused
                    ? await store.transport.call("resume", {})
                    : await store.transport.call("pause", {});
                  store.setSnapshot(next);
                })
              }
              disabled={!snapshot}
              aria-pressed={paused}
            >
              <Icon name={paused ? "play" : "pause"} /> {paused ? t.resume : t.pause}
            </button>
            {!paused && snapshot && <PauseFor store={store} actions={actions} />}
            <button
              type="button"
              className="ghost"
              onClick={() => void actions.run(() => store.transport.call("rescan", {}))}
              disabled={!snapshot}
            >
              <Icon name="refresh" /> {t.rescan}
            </button>
          </div>
        )}
      </div>
      <nav aria-label={t.mainNav} className="tabs">
        {tabs.map(([id, label]) => (
          <a key={id} href={`#/${id === "board" ? "" : id}`} aria-current={view === id ? "page" : undefined}>
            {label}
          </a>
        ))}
      </nav>
    </header>
  );
}
