import { useContext, useEffect, useRef, useState } from "react";
import type { ApiError } from "../../bindings/ApiError";
import type { NameTests } from "../../bindings/NameTests";
import type { ParseReport } from "../../bindings/ParseReport";
import type { PatternSpec } from "../../bindings/PatternSpec";
import type { Problem } from "../../bindings/Problem";
import type { Settings } from "../../bindings/Settings";
import type { Status } from "../../bindings/Status";
import { useI18n } from "../../i18n";
import { asApiError, type Transport } from "../../transport";
import { Icon, type IconName } from "../Icon";
import { CheckField, CommandError, FormContext, ProblemList, TextField } from "./fields";
import { controlId, dedupe, patternIndex, type Update } from "./model";

/** Folders, patterns, and the live name tester. */
export function NomenclatureSection({
  draft,
  update,
  transport,
  testName,
}: {
  draft: Settings;
  update: Update;
  transport: Transport;
  testName: string | null;
}) {
  const { t } = useI18n();
  const n = draft.nomenclature;
  const [live, setLive] = useState<Problem[]>([]);
  return (
    <>
      <fieldset>
        <legend>{t.fsFolders}</legend>
        <TextField
          k="nomenclature.structure_root"
          value={n.structure_root}
          onChange={(v) => update("nomenclature", { structure_root: v })}
        />
      </fieldset>
      <fieldset>
        <legend>{t.fsPatterns}</legend>
        <PatternsField
          patterns={n.patterns}
          live={live}
          onChange={(patterns) => update("nomenclature", { patterns })}
        />
        <CheckField
          k="nomenclature.use_builtin_patterns"
          value={n.use_builtin_patterns}
          onChange={(v) => update("nomenclature", { use_builtin_patterns: v })}
        />
      </fieldset>
      <NameTester
        key={testName ?? ""}
        transport={transport}
        candidate={draft}
        initial={testName}
        onProblems={setLive}
      />
    </>
  );
}

/** The custom patterns: add, remove, edit, reorder. Problems found by the
 * save or, live, by the tester sit beside their pattern. */
function PatternsField({
  patterns,
  live,
  onChange,
}: {
  patterns: PatternSpec[];
  live: Problem[];
  onChange: (p: PatternSpec[]) => void;
}) {
  const { t } = useI18n();
  const form = useContext(FormContext);
  const list = useRef<HTMLOListElement>(null);
  const [focusNew, setFocusNew] = useState<number | null>(null);
  useEffect(() => {
    if (focusNew === null) return;
    list.current?.querySelector<HTMLInputElement>(`#${controlId(`pattern-${focusNew}-name`)}`)?.focus();
  }, [focusNew]);
  const problems = dedupe([...form.problemsOf("nomenclature.patterns"), ...live]);
  const general = problems.filter((p) => patternIndex(p) === null || (patternIndex(p) ?? 0) >= patterns.length);
  const changed = form.changed.has("nomenclature.patterns");
  const set = (i: number, patch: Partial<PatternSpec>) =>
    onChange(patterns.map((p, j) => (j === i ? { ...p, ...patch } : p)));
  const move = (i: number, by: number) => {
    const next = patterns.slice();
    const [p] = next.splice(i, 1);
    if (p) next.splice(i + by, 0, p);
    onChange(next);
  };
  const id = controlId("nomenclature.patterns");
  const text = t.fields["nomenclature.patterns"];
  return (
    <div
      className={`field field-patterns${problems.length ? " has-problem" : ""}${changed ? " is-changed" : ""}`}
      data-key="nomenclature.patterns"
      role="group"
      aria-labelledby={`${id}-label`}
      aria-describedby={`${id}-key ${id}-help${general.length ? ` ${id}-err` : ""}`}
    >
      <span className="field-label" id={`${id}-label`}>
        {text.label}
      </span>
      <div className="field-meta">
        <code className="field-key" id={`${id}-key`}>
          nomenclature.patterns
        </code>
        {changed && <span className="changed-badge">{t.changed}</span>}
      </div>
      <p className="field-help" id={`${id}-help`}>
        {text.help}
      </p>
      <ProblemList problems={general} id={general.length ? `${id}-err` : undefined} />
      {patterns.length === 0 ? (
        <p className="muted patterns-empty">{t.patternsEmpty}</p>
      ) : (
        <ol className="patterns" ref={list}>
          {patterns.map((p, i) => {
            const mine = problems.filter((x) => patternIndex(x) === i);
            const nameId = controlId(`pattern-${i}-name`);
            const regexId = controlId(`pattern-${i}-regex`);
            const errId = controlId(`pattern-${i}-err`);
            const described = mine.length ? errId : undefined;
            return (
              <li
                key={i}
                className={`pattern${mine.length ? " has-problem" : ""}`}
                data-key={`nomenclature.patterns[${i}]`}
              >
                <span className="pattern-number" aria-hidden="true">
                  {i + 1}
                </span>
                <div className="pattern-name">
                  <label htmlFor={nameId}>
                    {t.patternName}
                    <span className="sr-only"> ({t.patternNumber(i + 1)})</span>
                  </label>
                  <input
                    id={nameId}
                    type="text"
                    value={p.name}
                    spellCheck={false}
                    autoComplete="off"
                    aria-invalid={mine.length ? true : undefined}
                    aria-describedby={described}
                    onChange={(e) => set(i, { name: e.target.value })}
                  />
                </div>
                <div className="pattern-regex">
                  <label htmlFor={regexId}>
                    {t.patternRegex}
                    <span className="sr-only"> ({t.patternNumber(i + 1)})</span>
                  </label>
                  <input
                    id={regexId}
                    type="text"
                    className="mono"
                    value={p.regex}
                    spellCheck={false}
                    autoComplete="off"
                    aria-invalid={mine.length ? true : undefined}
                    aria-describedby={described}
                    onChange={(e) => set(i, { regex: e.target.value })}
                  />
                </div>
                <div className="pattern-actions">
                  <button
                    type="button"
                    className="ghost small"
                    onClick={() => move(i, -1)}
                    disabled={i === 0}
                    aria-label={t.moveUp(i + 1)}
                    title={t.moveUp(i + 1)}
                  >
                    ↑ <span aria-hidden="true">{t.up}</span>
                  </button>
                  <button
                    type="button"
                    className="ghost small"
                    onClick={() => move(i, 1)}
                    disabled={i === patterns.length - 1}
                    aria-label={t.moveDown(i + 1)}
                    title={t.moveDown(i + 1)}
                  >
                    ↓ <span aria-hidden="true">{t.down}</span>
                  </button>
                  <button
                    type="button"
                    className="ghost small danger"
                    onClick={() => onChange(patterns.filter((_, j) => j !== i))}
                    aria-label={t.removePattern(i + 1)}
                  >
                    <Icon name="x" /> <span aria-hidden="true">{t.remove}</span>
                  </button>
                </div>
                {mine.length > 0 && (
                  <div className="pattern-problems">
                    <ProblemList problems={mine} id={errId} />
                  </div>
                )}
              </li>
            );
          })}
        </ol>
      )}
      <button
        type="button"
        className="ghost"
        onClick={() => {
          onChange([...patterns, { name: "", regex: "" }]);
          setFocusNew(patterns.length);
        }}
      >
        + {t.addPattern}
      </button>
    </div>
  );
}

function resultIcon(status: Status): IconName {
  switch (status) {
    case "parsed":
      return "check";
    case "unrecognized":
      return "warning";
    default:
      return "x";
  }
}

/** Names typed (and the files in BY_SHOT) read by PostFlow's own
 * nomenclature, with the settings as edited: never a JavaScript regex. */
function NameTester({
  transport,
  candidate,
  initial,
  onProblems,
}: {
  transport: Transport;
  candidate: Settings;
  initial: string | null;
  onProblems: (p: Problem[]) => void;
}) {
  const { t } = useI18n();
  const [text, setText] = useState(initial ?? "");
  const [folder, setFolder] = useState(true);
  const [result, setResult] = useState<NameTests | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const asked = useRef(0);
  useEffect(() => {
    const timer = setTimeout(() => {
      const ask = ++asked.current;
      const names = text
        .split("\n")
        .map((s) => s.trim())
        .filter(Boolean);
      setBusy(true);
      transport
        .call("test_names", { names, candidate, folder })
        .then((r) => {
          if (ask !== asked.current) return;
          setResult(r);
          setError(null);
          onProblems(r.problems);
        })
        .catch((e: unknown) => {
          if (ask !== asked.current) return;
          setError(asApiError(e));
        })
        .finally(() => {
          if (ask === asked.current) setBusy(false);
        });
    }, 300);
    return () => clearTimeout(timer);
  }, [text, folder, candidate, transport, onProblems]);
  const typedParsed = result?.names.filter((r) => r.status === "parsed").length ?? 0;
  const folderParsed = result?.folder.filter((r) => r.status === "parsed").length ?? 0;
  return (
    <fieldset className="tester" id="name-tester">
      <legend>{t.fsTester}</legend>
      <p className="field-help" id="tester-help">
        {t.testerHelp}
      </p>
      <div className="tester-inputs">
        <div className="tester-names">
          <label htmlFor="tester-names">{t.testerNames}</label>
          <textarea
            id="tester-names"
            data-testid="name-tester-input"
            rows={4}
            value={text}
            spellCheck={false}
            aria-describedby="tester-help"
            placeholder="SC01_UNDLM_00412_V002.mov"
            onChange={(e) => setText(e.target.value)}
          />
        </div>
        <div className="field-check">
          <input
            id="tester-folder"
            type="checkbox"
            checked={folder}
            onChange={(e) => setFolder(e.target.checked)}
          />
          <label htmlFor="tester-folder">{t.testerFolder}</label>
        </div>
      </div>
      <p className="tester-status" role="status" aria-live="polite" aria-busy={busy}>
        {result
          ? `${t.testerSummary(result.names.length, typedParsed)}${folder && !result.folder_error ? ` ${t.testerFolderSummary(result.folder.length, folderParsed)}` : ""}`
          : busy
            ? t.testerBusy
            : ""}
      </p>
      {error && (
        <>
          <h4 className="sub">{t.testerFailed}</h4>
          <CommandError error={error} />
        </>
      )}
      {result && result.problems.length > 0 && (
        <div className="tester-problems" data-testid="tester-problems">
          <h4 className="sub">
            <Icon name="warning" /> {t.testerPatternProblems}
          </h4>
          <ProblemList problems={result.problems} />
        </div>
      )}
      {result && result.names.length > 0 && (
        <ReportTable caption={t.testerTyped} rows={result.names} testId="tester-names-results" />
      )}
      {result && folder && (
        <>
          {result.folder_error ? (
            <p className="command-error">
              <Icon name="warning" /> <strong>{t.testerFolderError}{t.colon}</strong> {result.folder_error}
            </p>
          ) : result.folder.length > 0 ? (
            <ReportTable
              caption={`${t.testerFolderTitle} (${result.folder.length})`}
              rows={result.folder}
              testId="tester-folder-results"
              scroll
              note={result.folder.length >= 200 ? t.moreFiles(200) : undefined}
            />
          ) : (
            <p className="muted">{t.testerFolderSummary(0, 0)}</p>
          )}
        </>
      )}
    </fieldset>
  );
}

function ReportTable({
  caption,
  rows,
  testId,
  scroll = false,
  note,
}: {
  caption: string;
  rows: ParseReport[];
  testId: string;
  scroll?: boolean;
  note?: string | undefined;
}) {
  const { t } = useI18n();
  const words: Record<Status, string> = {
    parsed: t.resultParsed,
    ignored: t.resultIgnored,
    unsupported: t.resultUnsupported,
    unrecognized: t.resultUnrecognized,
  };
  const table = (
    <table className="report" data-testid={testId}>
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">{t.colName}</th>
          <th scope="col">{t.colResult}</th>
          <th scope="col">{t.colScene}</th>
          <th scope="col">{t.colShot}</th>
          <th scope="col">{t.colVersion}</th>
          <th scope="col">{t.colWhere}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r, i) => (
          <tr key={`${i}\u0000${r.name}`} className={`result-${r.status}`} data-status={r.status}>
            <th scope="row">
              <code>{r.name}</code>
            </th>
            <td className="result">
              <span className="result-word">
                <Icon name={resultIcon(r.status)} /> {words[r.status]}
              </span>
              {r.pattern && <span className="muted result-pattern">{t.byPattern(r.pattern)}</span>}
            </td>
            <td className="scene-cell">{r.scene ?? <span className="muted">—</span>}</td>
            <td className="nowrap">{r.shot ?? <span className="muted">—</span>}</td>
            <td className="nowrap">{r.version ?? <span className="muted">—</span>}</td>
            <td className="where">{r.frameio_path ? <code>{r.frameio_path}</code> : r.reason}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
  return (
    <>
      {scroll ? (
        <div className="report-scroll" tabIndex={0} role="region" aria-label={caption}>
          {table}
        </div>
      ) : (
        table
      )}
      {note && <p className="muted">{note}</p>}
    </>
  );
}
