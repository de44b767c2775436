import { useContext, useState } from "react";
import type { ApiError } from "../../bindings/ApiError";
import type { Settings } from "../../bindings/Settings";
import type { SettingsView } from "../../bindings/SettingsView";
import { useI18n } from "../../i18n";
import { useStore, type Store } from "../../lib/store";
import { asApiError, type Transport } from "../../transport";
import { Icon } from "../Icon";
import { CommandError, FormContext, TextField } from "./fields";
import type { Update } from "./model";
import { ProjectPicker, useProjectTree, useSignIn, type ProjectIds } from "./ProjectPicker";

const ADVANCED = [
  "frameio.api_base_url",
  "frameio.ims_base_url",
  "frameio.client_id",
  "frameio.redirect_uri",
  "frameio.account_id",
  "frameio.workspace_id",
  "frameio.project_id",
] as const;

/** Sign-in, the project picker, and the raw keys under "Advanced". */
export function FrameioSection({
  view,
  draft,
  update,
  transport,
  store,
  reload,
  onProject,
  onProjectRefused,
}: {
  view: SettingsView;
  draft: Settings;
  update: Update;
  transport: Transport;
  store: Store;
  reload: () => Promise<void>;
  /** `use_project` answered: the settings as saved with the project. */
  onProject: (v: SettingsView) => void;
  /** `use_project` was refused: the ids go to the form, the problems show. */
  onProjectRefused: (ids: ProjectIds, error: ApiError) => void;
}) {
  const { t } = useI18n();
  const f = draft.frameio;
  const snapshotProject = useStore(store, (s) => s.snapshot?.project ?? null);
  const [error, setError] = useState<ApiError | null>(null);
  const signIn = useSignIn(transport);
  const signInUrl = signIn.url;
  const projects = useProjectTree(transport);
  const { tree, loading } = projects;
  // A new reading of the tree forgets a choice in progress.
  const [treeVersion, setTreeVersion] = useState(0);
  const [done, setDone] = useState<string | null>(null);
  const form = useContext(FormContext);
  const [advancedOpen, setAdvancedOpen] = useState(false);
  const advancedProblems = ADVANCED.reduce((n, k) => n + form.problemsOf(k).length, 0);
  const advancedChanged = ADVANCED.some((k) => form.changed.has(k));

  const run = async (work: () => Promise<void>) => {
    setError(null);
    setDone(null);
    try {
      await work();
    } catch (e) {
      setError(asApiError(e));
    }
  };
  const signInDirty = (["ims_base_url", "client_id", "redirect_uri", "api_base_url"] as const).some(
    (k) => draft.frameio[k] !== view.settings.frameio[k],
  );
  const who = view.account?.name ?? view.account?.email ?? null;

  const currentProject =
    view.settings.frameio.project_id === ""
      ? null
      : snapshotProject?.id === view.settings.frameio.project_id && snapshotProject.name
        ? snapshotProject.name
        : view.settings.frameio.project_id;

  return (
    <>
      <fieldset>
        <legend>{t.fsSignIn}</legend>
        <p className={`signin-state ${view.signed_in ? "state-ok" : "state-bad"}`} data-testid="frameio-signin-state">
          <Icon name={view.signed_in ? "check" : "person"} />{" "}
          <strong>{view.signed_in ? (who ? t.fioSignedInAs(who) : t.signedInUnknown) : t.notSignedIn}</strong>
          {view.signed_in && view.account?.email && view.account.name && (
            <span className="muted"> ({view.account.email})</span>
          )}
        </p>
        {view.secrets_from_environment && <p className="note">{t.secretsFromEnv}</p>}
        {signInDirty && <p className="note">{t.signInNeedsSave}</p>}
        <div className="actions">
          <button
            type="button"
            className={view.signed_in ? "ghost" : undefined}
            onClick={() =>
              void run(signIn.start)
            }
          >
            <Icon name="person" /> {view.signed_in ? t.signInOther : t.signIn}
          </button>
          {view.signed_in && (
            <button
              type="button"
              className="ghost"
              onClick={() =>
                void run(async () => {
                  store.setSnapshot(await transport.call("sign_out", {}));
                  signIn.reset();
                  projects.clear();
                  await reload();
                })
              }
            >
              {t.signOut}
            </button>
          )}
        </div>
        <div aria-live="polite">
          {signInUrl && (
            <p className="note" data-testid="signin-opened">
              <Icon name="link" /> {t.browserOpened}{" "}
              <a href={signInUrl} target="_blank" rel="noreferrer noopener">
                {t.openSignInAgain}
              </a>
            </p>
          )}
        </div>
      </fieldset>

      <fieldset>
        <legend>{t.fsProject}</legend>
        <p>
          {t.uploadsGoTo}{t.colon} <strong>{currentProject ?? t.noProjectYet}</strong>
        </p>
        <div className="actions">
          <button
            type="button"
            className="ghost"
            disabled={loading || !view.signed_in}
            aria-describedby={view.signed_in ? undefined : "projects-need-signin"}
            onClick={() =>
              void run(async () => {
                await projects.load();
                setTreeVersion((v) => v + 1);
              })
            }
          >
            <Icon name="refresh" /> {loading ? t.loadingProjects : t.loadProjects}
          </button>
          {!view.signed_in && (
            <span className="muted" id="projects-need-signin">
              {t.projectsNeedSignIn}
            </span>
          )}
        </div>
        {tree && tree.length === 0 && <p className="note">{t.noProjects}</p>}
        {tree && tree.length > 0 && (
          <ProjectPicker
            key={treeVersion}
            tree={tree}
            saved={f}
            idPrefix="pick"
            onUse={(ids, name) =>
              void run(async () => {
                try {
                  onProject(await transport.call("use_project", ids));
                  setDone(t.projectChosen(name));
                } catch (e) {
                  const refused = asApiError(e);
                  if (refused.problems.length === 0) throw e;
                  onProjectRefused(ids, refused);
                  setDone(t.projectInForm);
                }
              })
            }
          />
        )}
        <div aria-live="polite">
          {done && (
            <p className="note" data-testid="project-chosen">
              <Icon name="check" /> {done}
            </p>
          )}
        </div>
        <CommandError error={error} />
      </fieldset>

      <details
        className="advanced"
        open={advancedOpen || advancedProblems > 0}
        onToggle={(e) => setAdvancedOpen(e.currentTarget.open)}
      >
        <summary>
          {t.advanced}
          {advancedProblems > 0 && (
            <span className="summary-note">
              {" "}
              <Icon name="warning" /> {t.problemCount(advancedProblems)}
            </span>
          )}
          {advancedChanged && <span className="changed-badge">{t.changed}</span>}
        </summary>
        <fieldset>
          <legend>{t.fsConnection}</legend>
          <TextField
            k="frameio.api_base_url"
            type="url"
            value={f.api_base_url}
            onChange={(v) => update("frameio", { api_base_url: v })}
          />
          <TextField
            k="frameio.ims_base_url"
            type="url"
            value={f.ims_base_url}
            onChange={(v) => update("frameio", { ims_base_url: v })}
          />
          <TextField k="frameio.client_id" value={f.client_id} onChange={(v) => update("frameio", { client_id: v })} />
          <TextField
            k="frameio.redirect_uri"
            type="url"
            value={f.redirect_uri}
            onChange={(v) => update("frameio", { redirect_uri: v })}
          />
        </fieldset>
        <fieldset>
          <legend>{t.fsIds}</legend>
          <TextField k="frameio.account_id" value={f.account_id} onChange={(v) => update("frameio", { account_id: v })} />
          <TextField
            k="frameio.workspace_id"
            value={f.workspace_id}
            onChange={(v) => update("frameio", { workspace_id: v })}
          />
          <TextField k="frameio.project_id" value={f.project_id} onChange={(v) => update("frameio", { project_id: v })} />
        </fieldset>
      </details>
    </>
  );
}
