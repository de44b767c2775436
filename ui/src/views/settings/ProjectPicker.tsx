import { useCallback, useState } from "react";
import type { AccountTree } from "../../bindings/AccountTree";
import { useI18n } from "../../i18n";
import type { Transport } from "../../transport";
import { Icon } from "../Icon";

/** Where uploads go: the three ids `use_project` takes. */
export type ProjectIds = { account_id: string; workspace_id: string; project_id: string };

/** The signed-in user's accounts, workspaces and projects, read on demand
 * (`projects`); `load` rejects with the API's error. */
export function useProjectTree(transport: Transport) {
  const [tree, setTree] = useState<AccountTree[] | null>(null);
  const [loading, setLoading] = useState(false);
  const load = useCallback(async () => {
    setLoading(true);
    try {
      setTree(await transport.call("projects", {}));
    } finally {
      setLoading(false);
    }
  }, [transport]);
  const clear = useCallback(() => setTree(null), []);
  return { tree, loading, load, clear };
}

/** A Frame.io sign-in begun: `start` asks the API for the address, keeps
 * it (the fallback link) and opens it in the browser. */
export function useSignIn(transport: Transport) {
  const [url, setUrl] = useState<string | null>(null);
  const start = useCallback(async () => {
    const started = await transport.call("sign_in", {});
    setUrl(started.url);
    await transport.openUrl(started.url);
  }, [transport]);
  const reset = useCallback(() => setUrl(null), []);
  return { url, start, reset };
}

/**
 * Account → workspace → project, three labelled selects and the button
 * that chooses. Each level falls back to the saved id, then to the first.
 * `idPrefix` names the controls (`<prefix>-account`, `-workspace`,
 * `-project`); `useId` names the button. Give it a new `key` when the tree
 * is read again, to forget a choice in progress.
 */
export function ProjectPicker({
  tree,
  saved,
  idPrefix,
  useId,
  busy = false,
  onUse,
}: {
  tree: AccountTree[];
  saved: Partial<ProjectIds>;
  idPrefix: string;
  useId?: string;
  busy?: boolean;
  onUse: (ids: ProjectIds, name: string) => void;
}) {
  const { t } = useI18n();
  const [pick, setPick] = useState<Partial<ProjectIds>>({});
  const account = tree.find((a) => a.id === (pick.account_id ?? saved.account_id)) ?? tree[0];
  const workspace =
    account?.workspaces.find((w) => w.id === (pick.workspace_id ?? saved.workspace_id)) ?? account?.workspaces[0];
  const project =
    workspace?.projects.find((p) => p.id === (pick.project_id ?? saved.project_id)) ?? workspace?.projects[0];
  return (
    <div className="picker">
      <div className="picker-level">
        <label htmlFor={`${idPrefix}-account`}>{t.account}</label>
        <select
          id={`${idPrefix}-account`}
          value={account?.id ?? ""}
          onChange={(e) => setPick({ account_id: e.target.value })}
        >
          {tree.map((a) => (
            <option key={a.id} value={a.id}>
              {a.name ?? a.id}
            </option>
          ))}
        </select>
      </div>
      <div className="picker-level">
        <label htmlFor={`${idPrefix}-workspace`}>{t.workspace}</label>
        <select
          id={`${idPrefix}-workspace`}
          value={workspace?.id ?? ""}
          disabled={!account || account.workspaces.length === 0}
          onChange={(e) => setPick({ account_id: account?.id, workspace_id: e.target.value })}
        >
          {account?.workspaces.map((w) => (
            <option key={w.id} value={w.id}>
              {w.name}
            </option>
          ))}
        </select>
      </div>
      <div className="picker-level">
        <label htmlFor={`${idPrefix}-project`}>{t.projectLabel}</label>
        <select
          id={`${idPrefix}-project`}
          value={project?.id ?? ""}
          disabled={!workspace || workspace.projects.length === 0}
          onChange={(e) => setPick({ account_id: account?.id, workspace_id: workspace?.id, project_id: e.target.value })}
        >
          {workspace?.projects.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </select>
      </div>
      <button
        type="button"
        id={useId}
        disabled={busy || !account || !workspace || !project}
        onClick={() => {
          if (!account || !workspace || !project) return;
          onUse({ account_id: account.id, workspace_id: workspace.id, project_id: project.id }, project.name);
        }}
      >
        <Icon name="upload" /> {t.useProject}
      </button>
    </div>
  );
}
