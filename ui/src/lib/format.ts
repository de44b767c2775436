/** Sizes, speeds and durations in the user's language. */

export function bytes(n: number, lang: string): string {
  const units = lang === "fr" ? ["o", "Ko", "Mo", "Go", "To"] : ["B", "KB", "MB", "GB", "TB"];
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toLocaleString(lang, { maximumFractionDigits: digits, minimumFractionDigits: digits })} ${units[unit]}`;
}

export function speed(bytesPerSec: number, lang: string): string {
  return `${bytes(bytesPerSec, lang)}/s`;
}

export function duration(secs: number, lang: string): string {
  const s = Math.max(0, Math.round(secs));
  if (s < 60) return lang === "fr" ? `${s} s` : `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}

export function time(ms: number, lang: string): string {
  return new Date(ms).toLocaleString(lang, {
    dateStyle: "short",
    timeStyle: "medium",
  });
}

export function percent(done: number, total: number): number {
  if (total <= 0) return 0;
  return Math.min(100, Math.floor((done / total) * 100));
}
