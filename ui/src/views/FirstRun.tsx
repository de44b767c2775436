import { useCallback, useEffect, useRef, useState, type ReactNode, type RefObject } from "react";
import type { ApiError } from "../bindings/ApiError";
import type { Problem } from "../bindings/Problem";
import type { SettingsView } from "../bindings/SettingsView";
import type { Snapshot } from "../bindings/Snapshot";
import type { WebhookTest } from "../bindings/WebhookTest";
import type { Actions } from "../App";
import { useI18n } from "../i18n";
import { useStore, type Store } from "../lib/store";
import { asApiError, type Transport } from "../transport";
import { Icon } from "./Icon";
import { CommandError, ProblemList } from "./settings/fields";
import { ProjectPicker, useProjectTree, useSignIn } from "./settings/ProjectPicker";
import "./settings.css";
import "./first-run.css";

export type Step = "folder" | "signin" | "project" | "discord" | "summary";
const STEPS: Step[] = ["folder", "signin", "project", "discord", "summary"];

/** The keys the first run fills in: a `not_set_up` for one of them is a
 * first run; for another (a broken pattern) Settings is where it is fixed. */
const FIRST_RUN_KEYS = ["watch.root", "frameio.account_id", "frameio.workspace_id", "frameio.project_id"];

/** Whether the snapshot says PostFlow still needs its first run: no folder
 * or no project yet, or signed out while no project is chosen. */
export function needsFirstRun(snapshot: Snapshot | null): boolean {
  if (!snapshot) return false;
  const s = snapshot.state;
  if (s.state === "not_set_up") return s.problems.some((p) => FIRST_RUN_KEYS.includes(p.key));
  return s.state === "signed_out" && snapshot.project === null;
}

/** What each step needs done, from the settings (and the snapshot's
 * account: signed in as the snapshot knows it). */
function doneOf(
  view: SettingsView | null,
  signedIn: boolean,
  discordDone: "skipped" | "done" | null,
): Record<Step, boolean> {
  return {
    folder: Boolean(view && view.settings.watch.root !== ""),
    signin: signedIn,
    project: Boolean(view && view.settings.frameio.project_id !== "" && view.settings.frameio.account_id !== ""),
    discord: discordDone !== null || Boolean(view?.webhook),
    summary: false,
  };
}

const firstTodoOf = (done: Record<Step, boolean>): Step => STEPS.find((s) => !done[s]) ?? "summary";

/** The last part of a path (`/Volumes/fs/BY_SHOT` → `BY_SHOT`). */
function folderName(path: string): string {
  const parts = path.replace(/[\\/]+$/, "").split(/[\\/]/);
  return parts[parts.length - 1] || path;
}

/**
 * The first run, in the window: the BY_SHOT folder, the Frame.io sign-in,
 * the project, Discord (optional), and what PostFlow now does. Each step
 * saves through the API as it goes (a step done stays done after a
 * restart); a visible step list says what is done, in words, and takes
 * you back to any step.
 */
export function FirstRun({ store, actions, transport }: { store: Store; actions: Actions; transport: Transport }) {
  const { t } = useI18n();
  const snapshot = useStore(store, (s) => s.snapshot);
  const settingsVersion = useStore(store, (s) => s.settingsVersion);
  const [view, setView] = useState<SettingsView | null>(null);
  const [loadError, setLoadError] = useState<ApiError | null>(null);
  const [step, setStep] = useState<Step | null>(null);
  const [discordDone, setDiscordDone] = useState<"skipped" | "done" | null>(null);
  // The project's name as picked (the snapshot names it once the service
  // has read it from Frame.io).
  const [picked, setPicked] = useState<{ id: string; name: string } | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  // Bumped by every move to a step: the focus follows.
  const [moves, setMoves] = useState(0);

  const reload = useCallback(async () => {
    try {
      setView(await transport.call("settings_view", {}));
      setLoadError(null);
    } catch (e) {
      setLoadError(asApiError(e));
    }
  }, [transport]);
  // Read again whenever the settings move (a save, a finished sign-in).
  const account = snapshot?.account ?? null;
  useEffect(() => {
    let live = true;
    transport.call("settings_view", {}).then(
      (v) => {
        if (!live) return;
        setView(v);
        setLoadError(null);
        // The step shown is chosen once: a reload (the event of our own
        // save) does not move the flow under the person.
        setStep((s) => s ?? firstTodoOf(doneOf(v, v.signed_in, null)));
      },
      (e: unknown) => {
        if (live) setLoadError(asApiError(e));
      },
    );
    return () => {
      live = false;
    };
  }, [transport, settingsVersion, account?.name, account?.email]);

  const signedIn = Boolean(view?.signed_in || account);
  const done = doneOf(view, signedIn, discordDone);
  const firstTodo = firstTodoOf(done);
  const current: Step = step ?? firstTodo;

  const go = useCallback((next: Step) => {
    setStep(next);
    setMoves((n) => n + 1);
  }, []);
  /** After a step is done: the next one still to do (the summary last). */
  const advance = (from: Step, nowDone: Partial<Record<Step, boolean>> = {}) => {
    const d = { ...done, ...nowDone };
    const after = STEPS.slice(STEPS.indexOf(from) + 1).find((s) => !d[s]);
    go(after ?? STEPS.find((s) => !d[s]) ?? "summary");
  };
  // Keyboard and screen-reader users land on each new step's heading.
  useEffect(() => {
    if (moves > 0) heading.current?.focus();
  }, [moves]);

  if (!view) {
    return (
      <section className="first-run" id="first-run" aria-labelledby="first-run-title">
        <h2 id="first-run-title">{t.frTitle}</h2>
        {loadError ? (
          <>
            <CommandError error={loadError} />
            <button type="button" className="ghost" onClick={() => void reload()}>
              {t.tryAgain}
            </button>
          </>
        ) : (
          <p>{t.loading}</p>
        )}
      </section>
    );
  }

  const reachable = (s: Step) =>
    s === "summary" ? done.folder && done.signin && done.project : STEPS.indexOf(s) <= STEPS.indexOf(firstTodo) || done[s];
  const labels: Record<Step, string> = {
    folder: t.frStepFolder,
    signin: t.frStepSignIn,
    project: t.frStepProject,
    discord: t.frStepDiscord,
    summary: t.frStepSummary,
  };
  const stateOf = (s: Step) =>
    s === current
      ? t.frStepNow
      : s === "discord" && discordDone === "skipped" && !view.webhook
        ? t.frStepSkipped
        : done[s]
          ? t.frStepDone
          : t.frStepTodo;
  const common = { view, transport, heading, onView: setView };

  return (
    <section className="first-run" id="first-run" aria-labelledby="first-run-title">
      <div className="first-run-head">
        <h2 id="first-run-title">{t.frTitle}</h2>
        <p className="muted">{t.frIntro}</p>
      </div>
      <nav aria-label={t.frSteps} className="first-run-steps">
        <ol>
          {STEPS.map((s, i) => {
            const state = stateOf(s);
            return (
              <li key={s} className={`fr-step${s === current ? " is-current" : ""}${done[s] ? " is-done" : ""}`}>
                <button
                  type="button"
                  className="fr-step-button"
                  aria-current={s === current ? "step" : undefined}
                  disabled={!reachable(s) && s !== current}
                  data-step-link={s}
                  onClick={() => go(s)}
                >
                  <span className="fr-step-mark" aria-hidden="true">
                    {done[s] && s !== current ? <Icon name="check" /> : i + 1}
                  </span>
                  <span className="fr-step-text">
                    <span className="fr-step-name">{labels[s]}</span>
                    <span className="fr-step-state">{state}</span>
                  </span>
                </button>
              </li>
            );
          })}
        </ol>
      </nav>

      {current === "folder" && (
        <FolderStep
          {...common}
          onDone={(v) => {
            setView(v);
            void store.refreshSnapshot();
            advance("folder", { folder: true });
          }}
          actions={actions}
        />
      )}
      {current === "signin" && (
        <SignInStep
          {...common}
          snapshot={snapshot}
          signedIn={signedIn}
          onBack={() => go("folder")}
          onDone={() => advance("signin", { signin: true })}
        />
      )}
      {current === "project" && (
        <ProjectStep
          {...common}
          snapshot={snapshot}
          signedIn={signedIn}
          onBack={() => go("signin")}
          onDone={(v, name) => {
            setView(v);
            setPicked({ id: v.settings.frameio.project_id, name });
            void store.refreshSnapshot();
            advance("project", { project: true });
          }}
        />
      )}
      {current === "discord" && (
        <DiscordStep
          {...common}
          onBack={() => go("project")}
          onDone={(how) => {
            setDiscordDone(how);
            advance("discord", { discord: true });
          }}
        />
      )}
      {current === "summary" && (
        <SummaryStep {...common} snapshot={snapshot} picked={picked} onOpenBoard={() => actions.go("board")} />
      )}
    </section>
  );
}

interface StepProps {
  view: SettingsView;
  transport: Transport;
  heading: RefObject<HTMLHeadingElement | null>;
  onView: (v: SettingsView) => void;
}

/** One step: its container (`data-step`), heading (focused on arrival)
 * and intro. */
function StepFrame({
  step,
  id,
  title,
  intro,
  heading,
  children,
}: {
  step: Step;
  id?: string;
  title: string;
  intro?: ReactNode;
  heading: StepProps["heading"];
  children: ReactNode;
}) {
  const { t } = useI18n();
  const n = STEPS.indexOf(step) + 1;
  return (
    <section className="fr-panel" data-step={step} id={id} aria-labelledby="fr-step-title">
      <p className="fr-panel-count muted">{t.frStepNumber(n, STEPS.length)}</p>
      <h3 id="fr-step-title" tabIndex={-1} ref={heading}>
        {title}
      </h3>
      {intro && <p className="fr-panel-intro">{intro}</p>}
      {children}
    </section>
  );
}

/** A spoken, visible line for what just happened (results, waiting). */
function Live({ children }: { children: ReactNode }) {
  return (
    <div role="status" aria-live="polite" className="live fr-live">
      {children}
    </div>
  );
}

function problemsFor(error: ApiError | null, key: string): { mine: Problem[]; rest: ApiError | null } {
  if (!error) return { mine: [], rest: null };
  const mine = error.problems.filter((p) => p.key === key);
  const others = error.problems.filter((p) => p.key !== key);
  // The refusal was about this field only: the field says it all.
  if (mine.length > 0 && others.length === 0) return { mine, rest: null };
  return { mine, rest: { ...error, problems: others } };
}

function FolderStep({
  view,
  transport,
  heading,
  onDone,
  actions,
}: StepProps & { onDone: (v: SettingsView) => void; actions: Actions }) {
  const { t } = useI18n();
  const saved = view.settings.watch.root;
  const [path, setPath] = useState(saved);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const fromEnv = view.from_environment.includes("watch.root");
  // The saved folder's own problems (set, but gone since), while unedited.
  // (Not set yet is what this step is for: no problem to show for it.)
  const savedProblems = path === saved && saved !== "" ? view.problems.filter((p) => p.key === "watch.root") : [];
  const { mine, rest } = problemsFor(error, "watch.root");
  const problems = error ? mine : savedProblems;

  const save = async () => {
    if (busy) return;
    const root = path.trim();
    if (root === "") {
      setError({
        disposition: "needs_user",
        message: t.frFolderEmpty,
        fix: null,
        problems: [{ key: "watch.root", message: t.frFolderEmpty, fix: t.frFolderEmptyFix }],
      });
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const next =
        root === saved && savedProblems.length === 0
          ? view
          : await transport.call("save_settings", {
              settings: { ...view.settings, watch: { ...view.settings.watch, root } },
            });
      onDone(next);
    } catch (e) {
      // What was typed stays: the problem shows next to it.
      setError(asApiError(e));
    } finally {
      setBusy(false);
    }
  };
  const describedBy = ["first-run-folder-help", fromEnv ? "first-run-folder-env" : "", problems.length ? "first-run-folder-err" : ""]
    .filter(Boolean)
    .join(" ");

  return (
    <StepFrame step="folder" title={t.frFolderHeading} intro={t.frFolderIntro} heading={heading}>
      <form
        className="fr-form"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <div className={`field${problems.length ? " has-problem" : ""}`}>
          <label htmlFor="first-run-folder" className="field-label">
            {t.frFolderLabel}
          </label>
          <div className="field-control">
            <input
              id="first-run-folder"
              type="text"
              value={path}
              readOnly={fromEnv}
              spellCheck={false}
              autoComplete="off"
              placeholder="/Volumes/filespace/BY_SHOT"
              aria-describedby={describedBy}
              aria-invalid={problems.length ? true : undefined}
              onChange={(e) => {
                setPath(e.target.value);
                setError(null);
              }}
            />
            {transport.kind === "tauri" && (
              <button
                type="button"
                className="ghost"
                id="first-run-folder-choose"
                aria-label={t.frFolderChooseLabel}
                disabled={fromEnv}
                onClick={() =>
                  void transport.pickFolder().then(
                    (chosen) => {
                      if (chosen !== null) {
                        setPath(chosen);
                        setError(null);
                      }
                    },
                    (e: unknown) => setError(asApiError(e)),
                  )
                }
              >
                {t.frFolderChoose}
              </button>
            )}
          </div>
          <p className="field-help" id="first-run-folder-help">
            {t.frFolderHelp}
          </p>
          {fromEnv && (
            <p className="field-env" id="first-run-folder-env">
              <Icon name="link" /> {t.frFolderFromEnv}
            </p>
          )}
          <ProblemList problems={problems} id={problems.length ? "first-run-folder-err" : undefined} />
        </div>
        <CommandError error={rest} />
        <div className="actions fr-actions">
          <button type="submit" id="first-run-folder-save" aria-disabled={busy || undefined}>
            {t.frContinue}
          </button>
        </div>
      </form>
      {transport.kind === "tauri" && (
        <aside className="fr-demo" aria-labelledby="fr-demo-title">
          <h4 id="fr-demo-title">{t.frDemoTitle}</h4>
          <p>{t.frDemoText}</p>
          <button
            type="button"
            className="ghost"
            id="first-run-demo"
            onClick={() => void actions.run(() => transport.tryDemo())}
          >
            <Icon name="play" /> {t.frDemo}
          </button>
        </aside>
      )}
    </StepFrame>
  );
}

function SignInStep({
  view,
  transport,
  heading,
  onView,
  snapshot,
  signedIn,
  onBack,
  onDone,
}: StepProps & { snapshot: Snapshot | null; signedIn: boolean; onBack: () => void; onDone: () => void }) {
  const { t } = useI18n();
  const signIn = useSignIn(transport);
  const [clientId, setClientId] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const needsClientId = view.settings.frameio.client_id.trim() === "";
  const account = snapshot?.account ?? view.account;
  const who = account?.name ?? account?.email ?? null;

  // The browser finished while this step waited: on to the project.
  const waiting = useRef(false);
  useEffect(() => {
    if (signedIn && waiting.current) {
      waiting.current = false;
      onDone();
    }
  }, [signedIn, onDone]);

  const failed =
    signIn.url !== null && snapshot?.state.state === "needs_you" && snapshot.state.reason.includes("sign-in")
      ? snapshot.state.reason
      : null;
  const { mine, rest } = problemsFor(error, "frameio.client_id");

  const saveClientId = async () => {
    const id = clientId.trim();
    setNote(null);
    if (id === "") {
      setError({
        disposition: "needs_user",
        message: t.frClientIdEmpty,
        fix: null,
        problems: [{ key: "frameio.client_id", message: t.frClientIdEmpty, fix: t.frClientIdHelp }],
      });
      return;
    }
    try {
      onView(
        await transport.call("save_settings", {
          settings: { ...view.settings, frameio: { ...view.settings.frameio, client_id: id } },
        }),
      );
      setError(null);
      setNote(t.frClientIdSaved);
    } catch (e) {
      setError(asApiError(e));
    }
  };

  return (
    <StepFrame step="signin" title={t.frSignInHeading} intro={t.frSignInIntro} heading={heading}>
      {signedIn && (
        <p className="signin-state state-ok" data-testid="first-run-signed-in">
          <Icon name="check" /> <strong>{who ? t.frSignedInAs(who) : t.frSignedIn}</strong>
          {account?.name && account.email && <span className="muted"> ({account.email})</span>}
        </p>
      )}
      {needsClientId && (
        <form
          className="fr-form"
          onSubmit={(e) => {
            e.preventDefault();
            void saveClientId();
          }}
        >
          <div className={`field${mine.length ? " has-problem" : ""}`}>
            <label htmlFor="first-run-client-id" className="field-label">
              {t.frClientIdLabel}
            </label>
            <div className="field-control">
              <input
                id="first-run-client-id"
                type="text"
                value={clientId}
                spellCheck={false}
                autoComplete="off"
                aria-describedby={`first-run-client-id-help${mine.length ? " first-run-client-id-err" : ""}`}
                aria-invalid={mine.length ? true : undefined}
                onChange={(e) => setClientId(e.target.value)}
              />
              <button type="submit" id="first-run-client-id-save">
                {t.frClientIdSave}
              </button>
            </div>
            <p className="field-help" id="first-run-client-id-help">
              {t.frClientIdHelp}
            </p>
            <ProblemList problems={mine} id={mine.length ? "first-run-client-id-err" : undefined} />
          </div>
        </form>
      )}
      <CommandError error={needsClientId ? rest : error} />
      <div className="actions fr-actions">
        <button type="button" className="ghost" onClick={onBack}>
          {t.frBack}
        </button>
        {!needsClientId && (
          <button
            type="button"
            id="first-run-signin"
            className={signedIn ? "ghost" : undefined}
            onClick={() => {
              setError(null);
              setNote(null);
              // Signed out now: signed in later is this sign-in's doing.
              waiting.current = !signedIn;
              signIn.start().catch((e: unknown) => {
                waiting.current = false;
                setError(asApiError(e));
              });
            }}
          >
            <Icon name="person" /> {signedIn ? t.frSignInOther : t.frSignIn}
          </button>
        )}
        {signedIn && (
          <button type="button" onClick={onDone}>
            {t.frContinue}
          </button>
        )}
      </div>
      <Live>
        {note && (
          <p className="note">
            <Icon name="check" /> {note}
          </p>
        )}
        {signIn.url && !signedIn && !failed && (
          <p className="fr-waiting" data-testid="first-run-waiting">
            <Icon name="clock" /> <strong>{t.frWaiting}</strong>
          </p>
        )}
        {failed && (
          <p className="test-result state-bad">
            <Icon name="warning" /> <strong>{t.frSignInFailed}{t.colon}</strong> {failed}
          </p>
        )}
      </Live>
      {signIn.url && !signedIn && (
        <div className="fr-fallback">
          <p>
            {t.frNoBrowser}{" "}
            <a href={signIn.url} target="_blank" rel="noreferrer noopener" data-testid="first-run-signin-link">
              {t.frSignInLink}
            </a>
          </p>
          <label htmlFor="first-run-signin-url" className="field-label">
            {t.frSignInAddress}
          </label>
          <input
            id="first-run-signin-url"
            type="text"
            readOnly
            value={signIn.url}
            spellCheck={false}
            onFocus={(e) => e.currentTarget.select()}
          />
        </div>
      )}
    </StepFrame>
  );
}

function ProjectStep({
  view,
  transport,
  heading,
  snapshot,
  signedIn,
  onBack,
  onDone,
}: StepProps & {
  snapshot: Snapshot | null;
  signedIn: boolean;
  onBack: () => void;
  onDone: (v: SettingsView, name: string) => void;
}) {
  const { t } = useI18n();
  const projects = useProjectTree(transport);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [version, setVersion] = useState(0);
  const f = view.settings.frameio;
  const account = snapshot?.account ?? view.account;
  const who = account?.name ?? account?.email ?? null;
  const { load } = projects;

  const read = useCallback(() => {
    setError(null);
    load().then(
      () => setVersion((v) => v + 1),
      (e: unknown) => setError(asApiError(e)),
    );
  }, [load]);
  // Read once on arrival (signed in).
  const asked = useRef(false);
  useEffect(() => {
    if (signedIn && !asked.current) {
      asked.current = true;
      read();
    }
  }, [signedIn, read]);

  const chosenName =
    f.project_id === "" ? null : snapshot?.project?.id === f.project_id ? (snapshot.project.name ?? f.project_id) : f.project_id;

  return (
    <StepFrame step="project" title={t.frProjectHeading} intro={t.frProjectIntro} heading={heading}>
      {signedIn && (
        <p className="signin-state state-ok">
          <Icon name="check" /> {who ? t.frSignedInAs(who) : t.frSignedIn}
          {account?.name && account.email && <span className="muted"> ({account.email})</span>}
        </p>
      )}
      {chosenName && (
        <p className="note">
          <Icon name="check" /> {t.frCurrentProject(chosenName)}
        </p>
      )}
      {!signedIn && <p className="note">{t.projectsNeedSignIn}</p>}
      <Live>{projects.loading && <p className="muted">{t.frLoadingProjects}</p>}</Live>
      {projects.tree && projects.tree.length === 0 && <p className="note">{t.frNoProjects}</p>}
      {projects.tree && projects.tree.length > 0 && (
        <ProjectPicker
          key={version}
          tree={projects.tree}
          saved={f}
          idPrefix="first-run"
          useId="first-run-project-use"
          busy={busy}
          onUse={(ids, name) => {
            setBusy(true);
            setError(null);
            transport
              .call("use_project", ids)
              .then(
                (v) => onDone(v, name),
                (e: unknown) => setError(asApiError(e)),
              )
              .finally(() => setBusy(false));
          }}
        />
      )}
      <CommandError error={error} />
      <div className="actions fr-actions">
        <button type="button" className="ghost" onClick={onBack}>
          {t.frBack}
        </button>
        {signedIn && (
          <button type="button" className="ghost" onClick={read} disabled={projects.loading}>
            <Icon name="refresh" /> {t.frReloadProjects}
          </button>
        )}
      </div>
    </StepFrame>
  );
}

function DiscordStep({
  view,
  transport,
  heading,
  onView,
  onBack,
  onDone,
}: StepProps & { onBack: () => void; onDone: (how: "skipped" | "done") => void }) {
  const { t } = useI18n();
  const [url, setUrl] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [test, setTest] = useState<WebhookTest | null>(null);
  const [testing, setTesting] = useState(false);
  const locked = view.secrets_from_environment;

  const sendTest = async () => {
    setError(null);
    setTest(null);
    const hook = url.trim();
    if (hook === "" && !view.webhook) {
      setError({ disposition: "needs_user", message: t.frWebhookEmpty, fix: null, problems: [] });
      return;
    }
    setTesting(true);
    try {
      let v = view;
      if (hook !== "") {
        v = await transport.call("store_webhook", { url: hook });
        setUrl("");
      }
      // A webhook given here is meant to be used: the channel goes on.
      if (!v.settings.discord.enabled) {
        v = await transport.call("save_settings", {
          settings: { ...v.settings, discord: { ...v.settings.discord, enabled: true } },
        });
      }
      onView(v);
      setTest(await transport.call("test_webhook", {}));
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setTesting(false);
    }
  };

  return (
    <StepFrame step="discord" title={t.frDiscordHeading} intro={t.frDiscordIntro} heading={heading}>
      <form
        className="fr-form"
        onSubmit={(e) => {
          e.preventDefault();
          void sendTest();
        }}
      >
        <div className="field" data-secret="discord-webhook">
          <label htmlFor="first-run-webhook" className="field-label">
            {t.frWebhookLabel}
          </label>
          {view.webhook && (
            <p className="webhook-stored">
              <Icon name="check" /> {t.frWebhookStored(view.webhook)}
            </p>
          )}
          <div className="field-control">
            <input
              id="first-run-webhook"
              type="password"
              value={url}
              autoComplete="off"
              spellCheck={false}
              disabled={locked}
              placeholder="https://discord.com/api/webhooks/…"
              aria-describedby="first-run-webhook-help"
              onChange={(e) => setUrl(e.target.value)}
            />
          </div>
          <p className="field-help" id="first-run-webhook-help">
            {t.frWebhookHelp}
          </p>
          {locked && <p className="note">{t.webhookFromEnv}</p>}
        </div>
        <CommandError error={error} />
        <Live>
          {testing && <p className="muted">{t.frWebhookTesting}</p>}
          {test && (
            <p className={`test-result ${test.ok ? "state-ok" : "state-bad"}`} data-testid="first-run-webhook-result">
              <Icon name={test.ok ? "check" : "warning"} /> <strong>{test.ok ? t.frTestOk : t.frTestFailed}{t.colon}</strong>{" "}
              {test.answer}
            </p>
          )}
        </Live>
        <div className="actions fr-actions">
          <button type="button" className="ghost" onClick={onBack}>
            {t.frBack}
          </button>
          <button type="submit" id="first-run-webhook-test" className={test ? "ghost" : undefined} disabled={testing || locked}>
            <Icon name="upload" /> {t.frWebhookTest}
          </button>
          {test ? (
            <button type="button" id="first-run-discord-next" onClick={() => onDone("done")}>
              {t.frDiscordNext}
            </button>
          ) : (
            <button type="button" className="ghost" id="first-run-discord-skip" onClick={() => onDone("skipped")}>
              {t.frDiscordSkip}
            </button>
          )}
        </div>
      </form>
    </StepFrame>
  );
}

function SummaryStep({
  view,
  transport,
  heading,
  snapshot,
  picked,
  onOpenBoard,
}: StepProps & { snapshot: Snapshot | null; picked: { id: string; name: string } | null; onOpenBoard: () => void }) {
  const { t } = useI18n();
  const s = view.settings;
  const folder = folderName(s.watch.root);
  const id = s.frameio.project_id;
  const known =
    (snapshot?.project?.id === id ? snapshot.project.name : null) ?? (picked?.id === id ? picked.name : null);
  // Not known yet (a new window, before the service read it): Frame.io says.
  const [looked, setLooked] = useState<{ id: string; name: string } | null>(null);
  useEffect(() => {
    if (known !== null || id === "") return;
    let live = true;
    transport.call("projects", {}).then(
      (tree) => {
        const found = tree.flatMap((a) => a.workspaces.flatMap((w) => w.projects)).find((p) => p.id === id);
        if (live && found) setLooked({ id, name: found.name });
      },
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [known, id, transport]);
  const project = known ?? (looked?.id === id ? looked.name : null) ?? id;
  const root = s.nomenclature.structure_root;
  const destination = root ? `${project}/${root}` : project;
  const account = snapshot?.account ?? view.account;
  const who = account?.name && account.email ? `${account.name} (${account.email})` : (account?.name ?? account?.email);
  const discordOn = s.discord.enabled && view.webhook !== null;
  return (
    <StepFrame step="summary" id="first-run-summary" title={t.frSummaryHeading} heading={heading}>
      <p className="fr-summary-line" data-testid="first-run-summary-line">
        <Icon name="check" /> <strong>{t.frSummary(folder, destination)}</strong>
      </p>
      <dl className="facts fr-facts">
        <dt>{t.frSummaryFolder}</dt>
        <dd>
          <code>{s.watch.root}</code>
        </dd>
        <dt>{t.frSummaryProject}</dt>
        <dd>
          <code>{destination}</code>
        </dd>
        {who && (
          <>
            <dt>{t.frSummaryAccount}</dt>
            <dd>{who}</dd>
          </>
        )}
        <dt>{t.frSummaryDiscord}</dt>
        <dd>{discordOn ? t.frSummaryDiscordOn : t.frSummaryDiscordOff}</dd>
      </dl>
      <p>{t.frSummaryNext}</p>
      <div className="actions fr-actions">
        <button type="button" id="first-run-open-board" onClick={onOpenBoard}>
          {t.frOpenBoard}
        </button>
      </div>
      <p className="muted">{t.frChangeLater}</p>
    </StepFrame>
  );
}
