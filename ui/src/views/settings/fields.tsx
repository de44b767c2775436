import { createContext, useContext, useState, type ReactNode } from "react";
import type { ApiError } from "../../bindings/ApiError";
import type { Problem } from "../../bindings/Problem";
import { useI18n } from "../../i18n";
import type { SettingKey } from "../../i18n/settings.en";
import { Icon } from "../Icon";
import { controlId } from "./model";

/** What every field of the form needs to know about itself. */
export interface FormState {
  problemsOf: (key: SettingKey) => Problem[];
  fromEnvironment: ReadonlySet<string>;
  changed: ReadonlySet<string>;
  /** A field's text that is not a value yet (a number being typed). */
  setLocalError: (key: SettingKey, bad: boolean) => void;
  /** Bumped when the form takes values from outside (revert, reload). */
  revision: number;
}

export const FormContext = createContext<FormState>({
  problemsOf: () => [],
  fromEnvironment: new Set(),
  changed: new Set(),
  setLocalError: () => undefined,
  revision: 0,
});

/** Problems as words: what is wrong, and the fix. */
export function ProblemList({ problems, id }: { problems: Problem[]; id?: string }) {
  const { t } = useI18n();
  if (problems.length === 0) return null;
  return (
    <ul className="problems" id={id}>
      {problems.map((p) => (
        <li key={`${p.key}\u0000${p.message}`}>
          <Icon name="warning" /> <strong>{t.problemLabel}{t.colon}</strong> {p.message}
          <span className="problem-fix">
            {" "}
            <strong>{t.fixLabel}{t.colon}</strong> {p.fix}
          </span>
        </li>
      ))}
    </ul>
  );
}

/** A refused command, next to the control that gave it. */
export function CommandError({ error }: { error: ApiError | null }) {
  const { t } = useI18n();
  if (!error) return null;
  return (
    <div className="command-error" role="alert">
      <Icon name="warning" /> <strong>{t.errorTitle}{t.colon}</strong> {error.message}
      {error.fix && (
        <span>
          {" "}
          <strong>{t.fixLabel}{t.colon}</strong> {error.fix}
        </span>
      )}
      <ProblemList problems={error.problems} />
    </div>
  );
}

export interface ControlProps {
  id: string;
  "aria-describedby": string;
  "aria-invalid": true | undefined;
}

/**
 * One setting: its label, the dotted key as a hint, a line of help, the
 * problems with it and their fixes, and a note when an environment
 * variable sets it. `data-key` carries the dotted key.
 */
export function Field({
  k,
  kind = "text",
  children,
  extra,
}: {
  k: SettingKey;
  kind?: "text" | "check";
  children: (control: ControlProps, readOnly: boolean) => ReactNode;
  extra?: ReactNode;
}) {
  const { t } = useI18n();
  const form = useContext(FormContext);
  const id = controlId(k);
  const problems = form.problemsOf(k);
  const env = form.fromEnvironment.has(k);
  const changed = form.changed.has(k);
  const describedBy = [`${id}-key`, `${id}-help`, env ? `${id}-env` : "", problems.length ? `${id}-err` : ""]
    .filter(Boolean)
    .join(" ");
  const control: ControlProps = {
    id,
    "aria-describedby": describedBy,
    "aria-invalid": problems.length ? true : undefined,
  };
  const text = t.fields[k];
  const label = (
    <label htmlFor={id} className="field-label">
      {text.label}
    </label>
  );
  return (
    <div
      className={`field field-kind-${kind}${problems.length ? " has-problem" : ""}${changed ? " is-changed" : ""}`}
      data-key={k}
    >
      {kind === "check" ? (
        <div className="field-check">
          {children(control, env)}
          {label}
        </div>
      ) : (
        <>
          {label}
          <div className="field-control">{children(control, env)}</div>
        </>
      )}
      <div className="field-meta">
        <code className="field-key" id={`${id}-key`}>
          {k}
        </code>
        {changed && <span className="changed-badge">{t.changed}</span>}
      </div>
      <p className="field-help" id={`${id}-help`}>
        {text.help}
      </p>
      {extra}
      {env && (
        <p className="field-env" id={`${id}-env`}>
          <Icon name="link" /> {t.fromEnvironment}
        </p>
      )}
      <ProblemList problems={problems} id={problems.length ? `${id}-err` : undefined} />
    </div>
  );
}

export function TextField({
  k,
  value,
  onChange,
  placeholder,
  type = "text",
  after,
  extra,
}: {
  k: SettingKey;
  value: string;
  onChange: (v: string) => void;
  placeholder?: string;
  type?: "text" | "url";
  after?: ReactNode;
  extra?: ReactNode;
}) {
  return (
    <Field k={k} extra={extra}>
      {(control, readOnly) => (
        <>
          <input
            {...control}
            type={type}
            value={value}
            readOnly={readOnly}
            placeholder={placeholder}
            spellCheck={false}
            autoComplete="off"
            onChange={(e) => onChange(e.target.value)}
          />
          {after}
        </>
      )}
    </Field>
  );
}

/** Keeps a field's text while it is typed, and takes the value again when
 * it changes from outside (revert, reload). */
function useText<V>(value: V, format: (v: V) => string, same: (text: string, v: V) => boolean) {
  const { revision } = useContext(FormContext);
  const [text, setText] = useState(() => format(value));
  const [seen, setSeen] = useState({ value, revision });
  if (seen.value !== value || seen.revision !== revision) {
    setSeen({ value, revision });
    if (seen.revision !== revision || !same(text, value)) setText(format(value));
  }
  return [text, setText] as const;
}

function parseList(text: string): string[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A list of words as comma-separated text. */
export function ListField({ k, value, onChange }: { k: SettingKey; value: string[]; onChange: (v: string[]) => void }) {
  const [text, setText] = useText(
    value,
    (v) => v.join(", "),
    (s, v) => JSON.stringify(parseList(s)) === JSON.stringify(v),
  );
  return (
    <Field k={k}>
      {(control, readOnly) => (
        <input
          {...control}
          type="text"
          value={text}
          readOnly={readOnly}
          spellCheck={false}
          autoComplete="off"
          onChange={(e) => {
            setText(e.target.value);
            onChange(parseList(e.target.value));
          }}
        />
      )}
    </Field>
  );
}

/** A whole number; text that is not one stays in the field, marked. */
export function NumberField({
  k,
  value,
  onChange,
  min = 0,
  max,
  unit,
  extra,
}: {
  k: SettingKey;
  value: number;
  onChange: (v: number) => void;
  min?: number;
  max?: number;
  unit?: string;
  extra?: ReactNode;
}) {
  const { t } = useI18n();
  const form = useContext(FormContext);
  const [text, setText] = useText(
    value,
    (v) => String(v),
    (s, v) => s.trim() !== "" && Number(s) === v,
  );
  const bad = !/^\s*\d+\s*$/.test(text);
  const id = controlId(k);
  return (
    <Field
      k={k}
      extra={
        <>
          {bad && (
            <p className="problems local-problem" id={`${id}-num`}>
              <Icon name="warning" /> <strong>{t.problemLabel}{t.colon}</strong> {t.notANumber}
            </p>
          )}
          {extra}
        </>
      }
    >
      {(control, readOnly) => (
        <>
          <input
            {...control}
            aria-describedby={bad ? `${control["aria-describedby"]} ${id}-num` : control["aria-describedby"]}
            aria-invalid={bad || control["aria-invalid"] ? true : undefined}
            className="number"
            type="number"
            inputMode="numeric"
            min={min}
            max={max}
            step={1}
            value={text}
            readOnly={readOnly}
            onChange={(e) => {
              const next = e.target.value;
              setText(next);
              const ok = /^\s*\d+\s*$/.test(next);
              form.setLocalError(k, !ok);
              if (ok) onChange(Number(next));
            }}
          />
          {unit && <span className="unit">{unit}</span>}
        </>
      )}
    </Field>
  );
}

export function CheckField({ k, value, onChange }: { k: SettingKey; value: boolean; onChange: (v: boolean) => void }) {
  return (
    <Field k={k} kind="check">
      {(control, readOnly) => (
        <input
          {...control}
          type="checkbox"
          checked={value}
          disabled={readOnly}
          onChange={(e) => onChange(e.target.checked)}
        />
      )}
    </Field>
  );
}

export function SelectField<V extends string>({
  k,
  value,
  options,
  onChange,
}: {
  k: SettingKey;
  value: V;
  options: [V, string][];
  onChange: (v: V) => void;
}) {
  return (
    <Field k={k}>
      {(control, readOnly) => (
        <select
          {...control}
          value={value}
          disabled={readOnly}
          onChange={(e) => {
            const found = options.find(([v]) => v === e.target.value);
            if (found) onChange(found[0]);
          }}
        >
          {options.map(([v, label]) => (
            <option key={v} value={v}>
              {label}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}
