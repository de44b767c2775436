import type { Problem } from "../../bindings/Problem";
import type { Settings } from "../../bindings/Settings";
import type { SettingKey, SettingsSection } from "../../i18n/settings.en";

/** Every key the view edits, in the order of the form. */
export const KEYS = [
  "watch.root",
  "watch.extensions",
  "watch.readiness_window_secs",
  "watch.rescan_interval_secs",
  "nomenclature.structure_root",
  "nomenclature.use_builtin_patterns",
  "nomenclature.patterns",
  "frameio.api_base_url",
  "frameio.ims_base_url",
  "frameio.client_id",
  "frameio.redirect_uri",
  "frameio.account_id",
  "frameio.workspace_id",
  "frameio.project_id",
  "discord.enabled",
  "discord.language",
  "discord.batching_window_secs",
  "discord.mention",
  "transfers.parallel_files",
  "transfers.parallel_parts",
  "transfers.bandwidth_limit_mbps",
  "transfers.bandwidth_timetable",
  "transfers.max_attempts",
  "transfers.retry_base_secs",
  "transfers.stack_versions",
  "transfers.takeover_after_secs",
  "notifications.enabled",
  "notifications.on_upload",
  "notifications.on_failure",
  "ui.language",
  "ui.start_at_login",
  "ui.start_minimized",
  "ui.listen",
  "ui.allow_remote",
  "ui.tray_icons",
] as const satisfies readonly SettingKey[];

// A key of the settings left out of KEYS does not compile.
type Missing = Exclude<SettingKey, (typeof KEYS)[number]>;
const everyKey: [Missing] extends [never] ? true : Missing = true;
void everyKey;

/** The value of one dotted key. */
export function valueAt(settings: Settings, key: SettingKey): unknown {
  const [section, field] = key.split(".") as [SettingsSection, string];
  const values: Record<string, unknown> = settings[section];
  return values[field];
}

/** The keys whose value differs between two settings. */
export function changedKeys(draft: Settings, saved: Settings): SettingKey[] {
  return KEYS.filter((k) => JSON.stringify(valueAt(draft, k)) !== JSON.stringify(valueAt(saved, k)));
}

const KNOWN = new Set<string>(KEYS);

/** Which field a problem belongs to (`nomenclature.patterns[1]` → the
 * patterns list); `null` for the file as a whole and unknown keys. */
export function fieldOf(problem: Problem): SettingKey | null {
  if (problem.key.startsWith("nomenclature.patterns")) return "nomenclature.patterns";
  return KNOWN.has(problem.key) ? (problem.key as SettingKey) : null;
}

/** The index of a pattern problem (`nomenclature.patterns[1]` → 1). */
export function patternIndex(problem: Problem): number | null {
  const m = /^nomenclature\.patterns\[(\d+)\]/.exec(problem.key);
  return m?.[1] === undefined ? null : Number(m[1]);
}

/** A DOM id for a key's control. */
export function controlId(key: string): string {
  return `set-${key.replace(/[^a-z0-9]+/gi, "-")}`;
}

/** Problems with the same key and message once. */
export function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const id = `${p.key}\u0000${p.message}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/** Changes some keys of one section of the edited settings. */
export type Update = <S extends SettingsSection>(section: S, patch: Partial<Settings[S]>) => void;

/** The settings with one key changed. */
export function withValue(settings: Settings, key: SettingKey, value: unknown): Settings {
  const [section, field] = key.split(".") as [SettingsSection, string];
  return { ...settings, [section]: { ...settings[section], [field]: value } } as Settings;
}

/** Edits made on `base`, moved onto `next` (saved meanwhile elsewhere):
 * the keys edited keep their edit, the others take the new saved value. */
export function rebase(draft: Settings, base: Settings, next: Settings): Settings {
  return changedKeys(draft, base).reduce((out, k) => withValue(out, k, valueAt(draft, k)), next);
}
