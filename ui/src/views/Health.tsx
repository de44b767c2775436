import { useCallback, useEffect, useState, type ReactNode } from "react";
import type { ApiError } from "../bindings/ApiError";
import type { HealthView } from "../bindings/HealthView";
import { useI18n } from "../i18n";
import { bytes, duration, time } from "../lib/format";
import type { Store } from "../lib/store";
import { asApiError, type Transport } from "../transport";
import { Icon, type IconName } from "./Icon";
import "./settings.css";

const EVERY_MS = 5000;

type Tone = "ok" | "warn" | "bad" | "idle";

/** A fact as words and an icon; the tone only adds colour. */
function State({ tone, icon, children }: { tone: Tone; icon: IconName; children: ReactNode }) {
  return (
    <span className={`state state-${tone}`}>
      <Icon name={icon} /> {children}
    </span>
  );
}

/** What `postflow status` shows: the score and what costs points, the
 * service, the queue, the last hour, the disk and Discord. Read on
 * arrival and every 5 seconds. */
export function Health({ transport }: { transport: Transport; store: Store }) {
  const { t, lang, status } = useI18n();
  const [health, setHealth] = useState<HealthView | null>(null);
  const [at, setAt] = useState<number | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  const read = useCallback(async () => {
    try {
      const h = await transport.call("health", {});
      setHealth(h);
      setAt(Date.now());
      setError(null);
    } catch (e) {
      setError(asApiError(e));
    }
  }, [transport]);

  useEffect(() => {
    let live = true;
    const once = () =>
      transport
        .call("health", {})
        .then((h) => {
          if (!live) return;
          setHealth(h);
          setAt(Date.now());
          setError(null);
        })
        .catch((e: unknown) => {
          if (live) setError(asApiError(e));
        });
    void once();
    const timer = setInterval(() => void once(), EVERY_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [transport]);

  const yesNo = (v: boolean | null, yes: string, no: string, badWhenFalse = true) =>
    v === null ? (
      <State tone="idle" icon="clock">
        {t.unknown}
      </State>
    ) : v ? (
      <State tone="ok" icon="check">
        {yes}
      </State>
    ) : (
      <State tone={badWhenFalse ? "bad" : "idle"} icon={badWhenFalse ? "warning" : "x"}>
        {no}
      </State>
    );

  return (
    <section aria-labelledby="health-title" className="health" data-testid="health">
      <div className="health-head">
        <h2 id="health-title">{t.healthTitle}</h2>
        <p className="muted" aria-live="off">
          {at !== null && t.healthUpdated(new Date(at).toLocaleTimeString(lang))}
        </p>
        <button type="button" className="ghost" onClick={() => void read()}>
          <Icon name="refresh" /> {t.healthRefresh}
        </button>
      </div>
      {error && (
        <div className="command-error" role="alert">
          <Icon name="warning" /> <strong>{t.healthFailed}{t.colon}</strong> {error.message}
          {error.fix && <span> {error.fix}</span>}
        </div>
      )}
      {!health ? (
        !error && <p>{t.loading}</p>
      ) : (
        <div className="health-grid">
          <Score health={health} />

          <article className="panel" aria-labelledby="h-service">
            <h3 id="h-service">{t.service}</h3>
            <dl className="facts">
              <dt>{t.serviceState}</dt>
              <dd data-testid="health-running">{yesNo(health.running, t.running, t.notRunning)}</dd>
              <dt>{t.pid}</dt>
              <dd className="tabular">{health.pid ?? t.none}</dd>
              <dt>{t.uptime}</dt>
              <dd className="tabular">{health.uptime_secs === null ? t.none : duration(health.uptime_secs, lang)}</dd>
              <dt>{t.cpu}</dt>
              <dd className="tabular">
                {health.cpu_percent === null
                  ? t.none
                  : `${health.cpu_percent.toLocaleString(lang, { maximumFractionDigits: 1 })} %`}
              </dd>
              <dt>{t.memory}</dt>
              <dd className="tabular">{health.rss_bytes === null ? t.none : bytes(health.rss_bytes, lang)}</dd>
              <dt>{t.runState}</dt>
              <dd>
                {health.paused ? (
                  <State tone="warn" icon="pause">
                    {t.pausedWord}
                  </State>
                ) : (
                  <State tone="ok" icon="play">
                    {t.runningWord}
                  </State>
                )}
              </dd>
              <dt>{t.frameioReach}</dt>
              <dd>{yesNo(health.frameio_online, t.reachable, t.unreachable)}</dd>
              <dt>{t.filespace}</dt>
              <dd>{yesNo(health.filespace_online, t.online, t.offline)}</dd>
              <dt>{t.needingAction}</dt>
              <dd className="tabular">
                {health.failed_needing_action > 0 ? (
                  <State tone="bad" icon="warning">
                    {health.failed_needing_action}
                  </State>
                ) : (
                  0
                )}
              </dd>
            </dl>
          </article>

          <article className="panel" aria-labelledby="h-queue">
            <h3 id="h-queue">{t.queue}</h3>
            {health.counts.length === 0 ? (
              <p className="muted">{t.queueEmpty}</p>
            ) : (
              <table className="counts" data-testid="health-counts">
                <caption className="sr-only">{t.queue}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t.colStatus}</th>
                    <th scope="col" className="num">
                      {t.colFiles}
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {health.counts.map((c) => (
                    <tr key={c.status} data-status={c.status}>
                      <th scope="row">{status(c.status)}</th>
                      <td className="num tabular">{c.count}</td>
                    </tr>
                  ))}
                </tbody>
                <tfoot>
                  <tr>
                    <th scope="row">{t.total}</th>
                    <td className="num tabular">{health.counts.reduce((n, c) => n + c.count, 0)}</td>
                  </tr>
                </tfoot>
              </table>
            )}
          </article>

          <article className="panel" aria-labelledby="h-hour">
            <h3 id="h-hour">{t.lastHour}</h3>
            <dl className="facts">
              <dt>{t.processed}</dt>
              <dd className="tabular">{health.processed_last_hour}</dd>
              <dt>{t.uploaded}</dt>
              <dd className="tabular">{health.uploaded_last_hour}</dd>
              <dt>{t.errors}</dt>
              <dd className="tabular">
                {health.errors_last_hour > 0 ? (
                  <State tone="bad" icon="warning">
                    {health.errors_last_hour}
                  </State>
                ) : (
                  0
                )}
              </dd>
              <dt>{t.lastUpload}</dt>
              <dd>{health.last_upload_at === null ? t.never : time(health.last_upload_at, lang)}</dd>
            </dl>
          </article>

          <article className="panel" aria-labelledby="h-folder">
            <h3 id="h-folder">{t.watched}</h3>
            <p>{health.watch_root ? <code>{health.watch_root}</code> : <span className="muted">{t.notSet}</span>}</p>
            <Disk free={health.disk_free_bytes} total={health.disk_total_bytes} />
          </article>

          <article className="panel" aria-labelledby="h-discord">
            <h3 id="h-discord">Discord</h3>
            <dl className="facts">
              <dt>{t.discordEnabled}</dt>
              <dd>{yesNo(health.discord.enabled, t.enabled, t.disabled, false)}</dd>
              <dt>{t.webhook}</dt>
              <dd>{health.discord.webhook ? <code>{health.discord.webhook}</code> : t.webhookNone}</dd>
              <dt>{t.pending}</dt>
              <dd className="tabular">{health.discord.pending}</dd>
              <dt>{t.sent}</dt>
              <dd className="tabular">{health.discord.sent}</dd>
              <dt>{t.discordProblem}</dt>
              <dd>
                {health.discord.problem ? (
                  <State tone="bad" icon="warning">
                    {health.discord.problem}
                  </State>
                ) : (
                  t.noneWord
                )}
              </dd>
            </dl>
          </article>
        </div>
      )}
    </section>
  );
}

function Score({ health }: { health: HealthView }) {
  const { t } = useI18n();
  const score = health.health;
  const [word, tone, icon]: [string, Tone, IconName] =
    score >= 90 ? [t.healthGood, "ok", "check"] : score >= 60 ? [t.healthLook, "warn", "warning"] : [t.healthBad, "bad", "warning"];
  return (
    <article className={`panel score-panel score-${tone}`} aria-labelledby="h-score">
      <h3 id="h-score">{t.healthScore}</h3>
      <p className="score" data-testid="health-score" data-score={score}>
        <span className="score-number tabular">{score}/100</span>{" "}
        <span className="score-word">
          <Icon name={icon} /> {word}
        </span>
      </p>
      <div className="score-costs">
        <h4 className="sub">{t.costs}</h4>
        {health.problems.length === 0 ? (
        <p className="muted">
          <Icon name="check" /> {t.costsNone}
        </p>
      ) : (
        <ul className="costs" data-testid="health-problems">
          {health.problems.map((p) => (
            <li key={p}>
              <Icon name="warning" /> {p}
            </li>
          ))}
        </ul>
        )}
      </div>
    </article>
  );
}

function Disk({ free, total }: { free: number | null; total: number | null }) {
  const { t, lang } = useI18n();
  if (free === null || total === null || total <= 0) {
    return (
      <p>
        {t.diskFree}{t.colon} <span className="muted">{t.diskUnknown}</span>
      </p>
    );
  }
  const pct = Math.round((free / total) * 100);
  const words = t.diskOf(bytes(free, lang), bytes(total, lang), pct);
  return (
    <div className="disk">
      <p id="disk-words">
        {t.diskFree}{t.colon} {words}
        {free * 20 < total && (
          <>
            {" "}
            <State tone="bad" icon="warning">
              {t.diskLow}
            </State>
          </>
        )}
      </p>
      <meter min={0} max={total} low={total / 20} optimum={total} value={free} aria-labelledby="disk-words" />
    </div>
  );
}
