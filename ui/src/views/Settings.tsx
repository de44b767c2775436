import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import type { ApiError } from "../bindings/ApiError";
import type { Language } from "../bindings/Language";
import type { TrayIcons } from "../bindings/TrayIcons";
import type { Problem } from "../bindings/Problem";
import type { Settings as SettingsData } from "../bindings/Settings";
import type { SettingsView } from "../bindings/SettingsView";
import type { Actions } from "../App";
import { useI18n } from "../i18n";
import type { SettingKey, SettingsSection } from "../i18n/settings.en";
import { bytes } from "../lib/format";
import { useStore, type Store } from "../lib/store";
import { asApiError, type Transport } from "../transport";
import { Icon } from "./Icon";
import { DiscordSection } from "./settings/Discord";
import { CheckField, FormContext, ListField, NumberField, ProblemList, SelectField, TextField, type FormState } from "./settings/fields";
import { FrameioSection } from "./settings/Frameio";
import { changedKeys, controlId, dedupe, fieldOf, patternIndex, rebase, type Update } from "./settings/model";
import { NomenclatureSection } from "./settings/Nomenclature";
import "./settings.css";

type SectionId = "watch" | "nomenclature" | "frameio" | "discord" | "transfers" | "notifications" | "general";

/** Which section of the page holds a key's field. */
function sectionOf(key: SettingKey): SectionId {
  const [section] = key.split(".") as [SettingsSection];
  return section === "ui" ? "general" : section;
}

interface Data {
  /** The settings as saved, their problems, where secrets stand. */
  view: SettingsView;
  /** The settings being edited. */
  draft: SettingsData;
}

/** Every key of config/default.toml, grouped, with their problems and a
 * live name tester. Edits stay local until Save; a refused save changes
 * nothing and says why, field by field. */
export function Settings({
  store,
  transport,
  testName,
}: {
  store: Store;
  actions: Actions;
  transport: Transport;
  testName: string | null;
}) {
  const { t, lang } = useI18n();
  const [data, setData] = useState<Data | null>(null);
  const [loadError, setLoadError] = useState<ApiError | null>(null);
  const [refused, setRefused] = useState<ApiError | null>(null);
  const [localErrors, setLocalErrors] = useState<ReadonlySet<string>>(new Set());
  const [showLocal, setShowLocal] = useState(false);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);
  const [revision, setRevision] = useState(0);
  const summary = useRef<HTMLDivElement>(null);

  /** Takes settings from PostFlow; edits in progress are kept (the saved
   * side moves under them) unless `replace`. */
  const take = useCallback((view: SettingsView, replace: boolean) => {
    setData((prev) =>
      !prev || replace
        ? { view, draft: view.settings }
        : { view, draft: rebase(prev.draft, prev.view.settings, view.settings) },
    );
  }, []);

  const reload = useCallback(async () => {
    try {
      take(await transport.call("settings_view", {}), false);
      setLoadError(null);
    } catch (e) {
      setLoadError(asApiError(e));
    }
  }, [transport, take]);

  // Read again when what the snapshot says about the settings moves (a
  // sign-in finished, another window saved, `settings_changed`).
  const fingerprint = useStore(store, (s) => {
    const n = s.snapshot;
    if (!n) return "";
    return [
      n.state.state,
      n.account?.name,
      n.account?.email,
      n.project?.id,
      n.discord.webhook,
      n.discord.enabled,
      n.language,
      n.watch_root,
    ].join("\u0000");
  });
  useEffect(() => {
    let live = true;
    transport
      .call("settings_view", {})
      .then((v) => {
        if (!live) return;
        take(v, false);
        setLoadError(null);
      })
      .catch((e: unknown) => {
        if (live) setLoadError(asApiError(e));
      });
    return () => {
      live = false;
    };
  }, [fingerprint, transport, take]);

  // Another window, the CLI or a finished sign-in changed the settings
  // (the store counts `settings_changed` events and reconnections).
  const settingsVersion = useStore(store, (s) => s.settingsVersion);
  const firstVersion = useRef(settingsVersion);
  useEffect(() => {
    if (settingsVersion === firstVersion.current) return;
    const timer = setTimeout(() => void reload(), 150);
    return () => clearTimeout(timer);
  }, [settingsVersion, reload]);

  // `?section=` (or a name to test) scrolls there once the form is shown.
  const scrolledFor = useRef<string | null>(null);
  const loaded = data !== null;
  useEffect(() => {
    if (!loaded || scrolledFor.current === (testName ?? "")) return;
    scrolledFor.current = testName ?? "";
    const params = new URLSearchParams(window.location.hash.split("?")[1] ?? "");
    const section = params.get("section") ?? (testName ? "nomenclature" : null);
    if (!section) return;
    requestAnimationFrame(() => {
      if (testName && section === "nomenclature") {
        document.getElementById("name-tester")?.scrollIntoView({ block: "start" });
        document.getElementById("tester-names")?.focus({ preventScroll: true });
      } else {
        document.getElementById(section)?.scrollIntoView({ block: "start" });
        document.getElementById(`${section}-title`)?.focus({ preventScroll: true });
      }
    });
  }, [loaded, testName]);

  const update: Update = useCallback((section, patch) => {
    setData((prev) =>
      prev && {
        ...prev,
        draft: { ...prev.draft, [section]: { ...prev.draft[section], ...patch } } as SettingsData,
      },
    );
    setSaved(false);
    // A refused value that is edited is no longer the one refused.
    const keys = Object.keys(patch).map((k) => `${section}.${k}`);
    setRefused((r) =>
      r && {
        ...r,
        problems: r.problems.filter((p) => !keys.includes(fieldOf(p) ?? p.key)),
      },
    );
  }, []);

  const setLocalError = useCallback((key: SettingKey, bad: boolean) => {
    setLocalErrors((prev) => {
      if (prev.has(key) === bad) return prev;
      const next = new Set(prev);
      if (bad) next.add(key);
      else next.delete(key);
      return next;
    });
  }, []);

  const changed = useMemo(() => (data ? changedKeys(data.draft, data.view.settings) : []), [data]);
  const problems: Problem[] = useMemo(() => {
    if (!data) return [];
    // The saved settings' problems, but for the fields edited since (their
    // new value is judged when saved).
    if (!refused) {
      return data.view.problems.filter((p) => {
        const field = fieldOf(p);
        return field === null || !changed.includes(field);
      });
    }
    // The file's own problems (unknown keys) stay; the rest is the refusal's.
    return dedupe([...refused.problems, ...data.view.problems.filter((p) => fieldOf(p) === null)]);
  }, [data, refused, changed]);
  const form: FormState = useMemo(
    () => ({
      problemsOf: (key) => problems.filter((p) => fieldOf(p) === key),
      fromEnvironment: new Set(data?.view.from_environment ?? []),
      changed: new Set(changed),
      setLocalError,
      revision,
    }),
    [problems, data, changed, setLocalError, revision],
  );

  if (!data) {
    return (
      <section aria-labelledby="settings-title" className="settings">
        <h2 id="settings-title">{t.settingsTitle}</h2>
        {loadError ? (
          <div className="command-error" role="alert">
            <Icon name="warning" /> <strong>{t.loadFailed}{t.colon}</strong> {loadError.message}
            {loadError.fix && <span> {loadError.fix}</span>}{" "}
            <button type="button" className="ghost" onClick={() => void reload()}>
              {t.tryAgain}
            </button>
          </div>
        ) : (
          <p>{t.loading}</p>
        )}
      </section>
    );
  }

  const { view, draft } = data;
  const fileProblems = problems.filter((p) => fieldOf(p) === null);
  const showSummary = refused !== null || (showLocal && localErrors.size > 0);
  const summaryProblems: Problem[] = [
    ...(refused?.problems ?? []),
    ...(showLocal ? [...localErrors].map((key) => ({ key, message: t.notANumber, fix: t.notANumberFix })) : []),
  ];

  const save = async () => {
    if (localErrors.size > 0) {
      setShowLocal(true);
      setRefused(null);
      requestAnimationFrame(() => summary.current?.focus());
      return;
    }
    setShowLocal(false);
    setSaving(true);
    setSaved(false);
    try {
      const next = await transport.call("save_settings", { settings: draft });
      setData({ view: next, draft: next.settings });
      setRefused(null);
      setSaved(true);
      // The header and the language follow the new settings.
      void store.refreshSnapshot();
    } catch (e) {
      setRefused(asApiError(e));
      requestAnimationFrame(() => summary.current?.focus());
    } finally {
      setSaving(false);
    }
  };
  const revert = () => {
    setData({ view, draft: view.settings });
    setRefused(null);
    setLocalErrors(new Set());
    setShowLocal(false);
    setSaved(false);
    setRevision((r) => r + 1);
  };
  const focusField = (p: Problem) => {
    const field = fieldOf(p);
    if (!field) return;
    const i = patternIndex(p);
    const id = i !== null ? controlId(`pattern-${i}-name`) : controlId(field);
    const el = document.getElementById(id) ?? document.querySelector<HTMLElement>(`[data-key="${field}"]`);
    el?.scrollIntoView({ block: "center" });
    el?.focus({ preventScroll: true });
  };

  const sections: [SectionId, string][] = [
    ["watch", t.secWatch],
    ["nomenclature", t.secNomenclature],
    ["frameio", t.secFrameio],
    ["discord", t.secDiscord],
    ["transfers", t.secTransfers],
    ["notifications", t.secNotifications],
    ["general", t.secGeneral],
  ];
  const problemsIn = (id: SectionId) =>
    problems.filter((p) => {
      const f = fieldOf(p);
      return f !== null && sectionOf(f) === id;
    }).length;
  const languages: [Language, string][] = [
    ["en", t.english],
    ["fr", t.french],
  ];
  const trayIcons: [TrayIcons, string][] = [
    ["color", t.trayColor],
    ["light", t.trayLight],
    ["dark", t.trayDark],
  ];
  const w = draft.watch;
  const tr = draft.transfers;
  const no = draft.notifications;
  const ui = draft.ui;
  const envRoot = form.fromEnvironment.has("watch.root");

  return (
    <FormContext.Provider value={form}>
      <section aria-labelledby="settings-title" className="settings" data-testid="settings">
        <div className="settings-head">
          <h2 id="settings-title">{t.settingsTitle}</h2>
          <p className="muted settings-file">
            {t.settingsFile}{t.colon} <code>{view.path}</code>
          </p>
        </div>
        <nav aria-label={t.sectionsNav} className="toc">
          <ol>
            {sections.map(([id, label]) => {
              const n = problemsIn(id);
              const edits = changed.filter((k) => sectionOf(k) === id).length;
              return (
                <li key={id}>
                  <a
                    href={`#/settings?section=${id}`}
                    onClick={(e) => {
                      e.preventDefault();
                      history.replaceState(null, "", `#/settings?section=${id}`);
                      document.getElementById(id)?.scrollIntoView({ block: "start" });
                      document.getElementById(`${id}-title`)?.focus({ preventScroll: true });
                    }}
                  >
                    {label}
                  </a>
                  {n > 0 && (
                    <span className="toc-note toc-bad">
                      <Icon name="warning" /> {t.problemCount(n)}
                    </span>
                  )}
                  {edits > 0 && <span className="changed-badge">{t.changed}</span>}
                </li>
              );
            })}
          </ol>
        </nav>

        {showSummary && (
          <div
            className="save-summary"
            role="alert"
            ref={summary}
            tabIndex={-1}
            data-testid="settings-problems"
          >
            <h3>
              <Icon name="warning" /> {t.refusedTitle}
            </h3>
            <p>{summaryProblems.length > 0 ? t.refusedIntro(summaryProblems.length) : refused?.message}</p>
            {refused && refused.problems.length === 0 && refused.fix && <p>{refused.fix}</p>}
            {summaryProblems.length > 0 && (
              <ul>
                {summaryProblems.map((p) => (
                  <li key={`${p.key}\u0000${p.message}`}>
                    {fieldOf(p) ? (
                      <button type="button" className="link" onClick={() => focusField(p)} aria-label={t.goToField(p.key)}>
                        <code>{p.key}</code>
                      </button>
                    ) : (
                      <code>{p.key}</code>
                    )}
                    {t.colon} {p.message} — <strong>{t.fixLabel}{t.colon}</strong> {p.fix}
                  </li>
                ))}
              </ul>
            )}
          </div>
        )}

        {fileProblems.length > 0 && (
          <div className="file-problems" data-key="(file)">
            <h3>
              <Icon name="warning" /> {t.fileProblems}
            </h3>
            <ProblemList problems={fileProblems} />
          </div>
        )}

        <Section id="watch" title={t.secWatch}>
          <fieldset>
            <legend>{t.fsWatchWhere}</legend>
            <TextField
              k="watch.root"
              value={w.root}
              placeholder="/Volumes/filespace/BY_SHOT"
              onChange={(v) => update("watch", { root: v })}
              after={
                transport.kind === "tauri" ? (
                  <button
                    type="button"
                    className="ghost"
                    disabled={envRoot}
                    aria-label={t.browseLabel}
                    onClick={() =>
                      void transport.pickFolder().then((path) => {
                        if (path !== null) update("watch", { root: path });
                      })
                    }
                  >
                    {t.browse}
                  </button>
                ) : undefined
              }
            />
            <ListField k="watch.extensions" value={w.extensions} onChange={(v) => update("watch", { extensions: v })} />
          </fieldset>
          <fieldset>
            <legend>{t.fsWatchWhen}</legend>
            <NumberField
              k="watch.readiness_window_secs"
              value={w.readiness_window_secs}
              min={1}
              max={3600}
              unit="s"
              onChange={(v) => update("watch", { readiness_window_secs: v })}
            />
            <NumberField
              k="watch.rescan_interval_secs"
              value={w.rescan_interval_secs}
              min={1}
              max={3600}
              unit="s"
              onChange={(v) => update("watch", { rescan_interval_secs: v })}
            />
          </fieldset>
        </Section>

        <Section id="nomenclature" title={t.secNomenclature}>
          <NomenclatureSection draft={draft} update={update} transport={transport} testName={testName} />
        </Section>

        <Section id="frameio" title={t.secFrameio}>
          <FrameioSection
            view={view}
            draft={draft}
            update={update}
            transport={transport}
            store={store}
            reload={reload}
            onProject={(v) => {
              // The project is saved; other edits in progress stay.
              setData((prev) => {
                if (!prev) return { view: v, draft: v.settings };
                const draft = rebase(prev.draft, prev.view.settings, v.settings);
                return { view: v, draft: { ...draft, frameio: { ...draft.frameio, ...pickIds(v.settings) } } };
              });
              void store.refreshSnapshot();
            }}
            onProjectRefused={(ids, error) => {
              update("frameio", ids);
              setRefused(error);
              setSaved(false);
            }}
          />
        </Section>

        <Section id="discord" title={t.secDiscord}>
          <DiscordSection
            view={view}
            draft={draft}
            update={update}
            transport={transport}
            onView={(v) => {
              take(v, false);
              void store.refreshSnapshot();
            }}
          />
        </Section>

        <Section id="transfers" title={t.secTransfers}>
          <fieldset>
            <legend>{t.fsSpeed}</legend>
            <NumberField
              k="transfers.parallel_files"
              value={tr.parallel_files}
              min={1}
              max={16}
              onChange={(v) => update("transfers", { parallel_files: v })}
            />
            <NumberField
              k="transfers.parallel_parts"
              value={tr.parallel_parts}
              min={1}
              max={32}
              onChange={(v) => update("transfers", { parallel_parts: v })}
            />
            <NumberField
              k="transfers.bandwidth_limit_mbps"
              value={tr.bandwidth_limit_mbps}
              unit="Mbit/s"
              onChange={(v) => update("transfers", { bandwidth_limit_mbps: v })}
              extra={
                <p className="field-value-note" data-testid="bandwidth-words">
                  {tr.bandwidth_limit_mbps === 0
                    ? t.noCap
                    : t.capAbout(tr.bandwidth_limit_mbps, bytes(tr.bandwidth_limit_mbps * 125_000, lang))}
                </p>
              }
            />
            <TextField
              k="transfers.bandwidth_timetable"
              value={tr.bandwidth_timetable}
              placeholder={t.timetableExample}
              onChange={(v) => update("transfers", { bandwidth_timetable: v })}
            />
            <NumberField
              k="transfers.takeover_after_secs"
              value={tr.takeover_after_secs}
              min={2}
              max={86400}
              unit="s"
              onChange={(v) => update("transfers", { takeover_after_secs: v })}
            />
          </fieldset>
          <fieldset>
            <legend>{t.fsRetries}</legend>
            <NumberField
              k="transfers.max_attempts"
              value={tr.max_attempts}
              min={1}
              max={100}
              onChange={(v) => update("transfers", { max_attempts: v })}
            />
            <NumberField
              k="transfers.retry_base_secs"
              value={tr.retry_base_secs}
              min={1}
              max={3600}
              unit="s"
              onChange={(v) => update("transfers", { retry_base_secs: v })}
            />
            <CheckField
              k="transfers.stack_versions"
              value={tr.stack_versions}
              onChange={(v) => update("transfers", { stack_versions: v })}
            />
          </fieldset>
        </Section>

        <Section id="notifications" title={t.secNotifications}>
          <fieldset>
            <legend>{t.fsDesktop}</legend>
            <CheckField
              k="notifications.enabled"
              value={no.enabled}
              onChange={(v) => update("notifications", { enabled: v })}
            />
            <CheckField
              k="notifications.on_upload"
              value={no.on_upload}
              onChange={(v) => update("notifications", { on_upload: v })}
            />
            <CheckField
              k="notifications.on_failure"
              value={no.on_failure}
              onChange={(v) => update("notifications", { on_failure: v })}
            />
          </fieldset>
        </Section>

        <Section id="general" title={t.secGeneral}>
          <fieldset>
            <legend>{t.fsLanguage}</legend>
            <SelectField
              k="ui.language"
              value={ui.language}
              options={languages}
              onChange={(v) => update("ui", { language: v })}
            />
          </fieldset>
          <fieldset>
            <legend>{t.fsStartup}</legend>
            <CheckField k="ui.start_at_login" value={ui.start_at_login} onChange={(v) => update("ui", { start_at_login: v })} />
            <CheckField
              k="ui.start_minimized"
              value={ui.start_minimized}
              onChange={(v) => update("ui", { start_minimized: v })}
            />
            <SelectField
              k="ui.tray_icons"
              value={ui.tray_icons}
              options={trayIcons}
              onChange={(v) => update("ui", { tray_icons: v })}
            />
          </fieldset>
          <fieldset>
            <legend>{t.fsWeb}</legend>
            <TextField
              k="ui.listen"
              value={ui.listen}
              placeholder="127.0.0.1:8484"
              onChange={(v) => update("ui", { listen: v })}
            />
            <CheckField k="ui.allow_remote" value={ui.allow_remote} onChange={(v) => update("ui", { allow_remote: v })} />
          </fieldset>
          <fieldset>
            <legend>{t.fsFile}</legend>
            <div className="field field-readonly" data-key="version">
              <span className="field-label" id="set-version-label">
                {t.fileVersion}
              </span>
              <p className="field-fixed" aria-labelledby="set-version-label">
                {draft.version}
              </p>
              <div className="field-meta">
                <code className="field-key">version</code>
              </div>
              <p className="field-help">{t.fileVersionHelp}</p>
            </div>
          </fieldset>
        </Section>

        <div className="save-bar" data-testid="settings-bar">
          <div className="save-state">
            {changed.length > 0 ? (
              <p className="unsaved" data-testid="settings-unsaved">
                <Icon name="clock" /> <strong>{t.unsavedChanges(changed.length)}</strong>{" "}
                {changed.map((k, i) => (
                  <span key={k}>
                    {i > 0 && ", "}
                    <code>{k}</code>
                  </span>
                ))}
              </p>
            ) : (
              <p className="muted">{t.noChanges}</p>
            )}
            <p aria-live="polite" role="status" className="live">
              {saved && (
                <span className="saved" data-testid="settings-saved">
                  <Icon name="check" /> {t.saved}
                </span>
              )}
            </p>
          </div>
          <div className="save-actions">
            <button type="button" className="ghost" onClick={revert} disabled={changed.length === 0 && !refused && localErrors.size === 0}>
              {t.revert}
            </button>
            <button type="button" data-testid="settings-save" onClick={() => void save()} disabled={saving}>
              {saving ? t.saving : t.save}
            </button>
          </div>
        </div>
      </section>
    </FormContext.Provider>
  );
}

function pickIds(s: SettingsData) {
  return {
    account_id: s.frameio.account_id,
    workspace_id: s.frameio.workspace_id,
    project_id: s.frameio.project_id,
  };
}

function Section({ id, title, children }: { id: SectionId; title: string; children: ReactNode }) {
  return (
    <section id={id} aria-labelledby={`${id}-title`} className="settings-section">
      <h3 id={`${id}-title`} tabIndex={-1}>
        {title}
      </h3>
      {children}
    </section>
  );
}
