import { useState } from "react";
import type { ApiError } from "../../bindings/ApiError";
import type { Language } from "../../bindings/Language";
import type { Settings } from "../../bindings/Settings";
import type { SettingsView } from "../../bindings/SettingsView";
import type { WebhookTest } from "../../bindings/WebhookTest";
import { useI18n } from "../../i18n";
import { asApiError, type Transport } from "../../transport";
import { Icon } from "../Icon";
import { CheckField, CommandError, NumberField, SelectField, TextField } from "./fields";
import { changedKeys, type Update } from "./model";

/** The channel: on or off, the webhook (kept in the keychain, shown
 * masked), a test message, and how messages are written. */
export function DiscordSection({
  view,
  draft,
  update,
  transport,
  onView,
}: {
  view: SettingsView;
  draft: Settings;
  update: Update;
  transport: Transport;
  /** A webhook command answered with fresh settings. */
  onView: (v: SettingsView) => void;
}) {
  const { t } = useI18n();
  const d = draft.discord;
  const [url, setUrl] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [test, setTest] = useState<WebhookTest | null>(null);
  const [testing, setTesting] = useState(false);
  const languages: [Language, string][] = [
    ["en", t.english],
    ["fr", t.french],
  ];
  // Without a keychain the webhook comes from the environment: read-only.
  const locked = view.secrets_from_environment;
  const discordDirty = changedKeys(draft, view.settings).some((k) => k.startsWith("discord."));

  const run = async (work: () => Promise<void>) => {
    setError(null);
    setNote(null);
    try {
      await work();
    } catch (e) {
      setError(asApiError(e));
    }
  };
  const store = () =>
    void run(async () => {
      onView(await transport.call("store_webhook", { url }));
      setUrl("");
      setNote(t.webhookSaved);
    });

  return (
    <>
      <fieldset>
        <legend>{t.fsChannel}</legend>
        <CheckField k="discord.enabled" value={d.enabled} onChange={(v) => update("discord", { enabled: v })} />
        <div className="field webhook" data-secret="discord-webhook" role="group" aria-labelledby="webhook-label">
          <span className="field-label" id="webhook-label">
            {t.webhook}
          </span>
          <p className="webhook-stored" data-testid="webhook-stored">
            {view.webhook ? (
              <>
                <Icon name="check" /> {t.webhookStored}{t.colon} <code>{view.webhook}</code>
              </>
            ) : (
              <>
                <Icon name="x" /> {t.webhookNone}
              </>
            )}
          </p>
          {view.secrets_from_environment && (
            <p className="note" id="webhook-env">
              {t.webhookFromEnv}
            </p>
          )}
          <label htmlFor="webhook-new" className="field-label">
            {t.webhookNew}
          </label>
          <div className="field-control">
            <input
              id="webhook-new"
              type="password"
              value={url}
              autoComplete="off"
              spellCheck={false}
              placeholder="https://discord.com/api/webhooks/…"
              aria-describedby={view.secrets_from_environment ? "webhook-new-help webhook-env" : "webhook-new-help"}
              disabled={locked}
              onChange={(e) => setUrl(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === "Enter" && url.trim()) {
                  e.preventDefault();
                  store();
                }
              }}
            />
            <button type="button" disabled={locked || !url.trim()} onClick={store}>
              {t.storeWebhook}
            </button>
          </div>
          <p className="field-help" id="webhook-new-help">
            {t.webhookNewHelp}
          </p>
          <div className="actions">
            <button
              type="button"
              className="ghost"
              disabled={locked || !view.webhook}
              onClick={() =>
                void run(async () => {
                  onView(await transport.call("delete_webhook", {}));
                  setTest(null);
                  setNote(t.webhookRemoved);
                })
              }
            >
              <Icon name="x" /> {t.removeWebhook}
            </button>
            <button
              type="button"
              className="ghost"
              disabled={testing}
              onClick={() =>
                void run(async () => {
                  setTesting(true);
                  setTest(null);
                  try {
                    setTest(await transport.call("test_webhook", {}));
                  } finally {
                    setTesting(false);
                  }
                })
              }
            >
              <Icon name="upload" /> {testing ? t.sendingTest : t.sendTest}
            </button>
            {discordDirty && <span className="muted">{t.testUsesSaved}</span>}
          </div>
          <div aria-live="polite" role="status" className="live">
            {note && (
              <p className="note">
                <Icon name="check" /> {note}
              </p>
            )}
            {test && (
              <p className={`test-result ${test.ok ? "state-ok" : "state-bad"}`} data-testid="webhook-test">
                <Icon name={test.ok ? "check" : "warning"} /> <strong>{test.ok ? t.testOk : t.testFailed}{t.colon}</strong>{" "}
                {test.answer}
              </p>
            )}
          </div>
          <CommandError error={error} />
        </div>
      </fieldset>
      <fieldset>
        <legend>{t.fsMessages}</legend>
        <SelectField
          k="discord.language"
          value={d.language}
          options={languages}
          onChange={(v) => update("discord", { language: v })}
        />
        <NumberField
          k="discord.batching_window_secs"
          value={d.batching_window_secs}
          max={600}
          unit="s"
          onChange={(v) => update("discord", { batching_window_secs: v })}
        />
        <TextField
          k="discord.mention"
          value={d.mention}
          placeholder="<@&123456789012345678>"
          onChange={(v) => update("discord", { mention: v })}
        />
      </fieldset>
    </>
  );
}
