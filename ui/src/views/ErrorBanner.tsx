import type { ApiError } from "../bindings/ApiError";
import { useI18n } from "../i18n";

/** A refused command or an unreachable service: the cause, the fix, and
 * each settings problem with its key. Announced to screen readers. */
export function ErrorBanner({ error, onDismiss }: { error: ApiError | null; onDismiss: () => void }) {
  const { t } = useI18n();
  if (!error) return null;
  return (
    <div className="banner banner-error" role="alert">
      <div>
        <strong>{t.errorTitle}:</strong> {error.message}
        {error.fix && <div className="fix">{error.fix}</div>}
        {error.problems.length > 1 && (
          <ul>
            {error.problems.map((p) => (
              <li key={`${p.key}${p.message}`}>
                <code>{p.key}</code>: {p.message} — {p.fix}
              </li>
            ))}
          </ul>
        )}
      </div>
      <button type="button" className="ghost" onClick={onDismiss}>
        {t.dismiss}
      </button>
    </div>
  );
}
