//! `postflow check`: the setup tested end to end, each result with a fix.

use std::sync::Arc;

use postflow_secrets::SecretStore;
use postflow_settings::Settings;
use serde::Serialize;

use postflow_discord::{Disposition, Webhook};

use crate::{client, WebhookSource};

/// One line of `postflow check`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub what: &'static str,
    pub ok: bool,
    /// What was found (on success) or what is wrong.
    pub detail: String,
    /// What to do, when not ok.
    pub fix: Option<String>,
}

fn pass(what: &'static str, detail: impl Into<String>) -> Check {
    Check {
        what,
        ok: true,
        detail: detail.into(),
        fix: None,
    }
}

fn fail(what: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
    Check {
        what,
        ok: false,
        detail: detail.into(),
        fix: Some(fix.into()),
    }
}

/// Runs every check; later checks that depend on a failed one are skipped
/// with a reason, never left out.
pub async fn check(settings: &Settings, secrets: Arc<SecretStore>) -> Vec<Check> {
    let mut checks = Vec::new();

    let root = &settings.watch.root;
    checks.push(if root.as_os_str().is_empty() {
        fail("watch root", "not set", "set watch.root to the BY_SHOT folder of the LucidLink filespace")
    } else {
        match std::fs::read_dir(root) {
            Ok(_) => pass("watch root", format!("{} is readable", root.display())),
            Err(e) => fail(
                "watch root",
                format!("{}: {e}", root.display()),
                "mount the LucidLink filespace (is LucidLink running and connected?) or correct watch.root",
            ),
        }
    });

    frameio(settings, secrets.clone(), &mut checks).await;
    checks.push(discord(settings, &*secrets).await);
    checks
}

/// The Discord webhook, asked of Discord without posting anything.
async fn discord(settings: &Settings, source: &dyn WebhookSource) -> Check {
    const WHAT: &str = "Discord webhook";
    const SET: &str = "paste the channel's webhook URL into `postflow secrets set discord-webhook` (Discord: Server Settings > Integrations > Webhooks)";
    if !settings.discord.enabled {
        return pass(
            WHAT,
            "Discord messages are off (set discord.enabled = true to send them)",
        );
    }
    let hook = match source.webhook() {
        Ok(Some(hook)) => hook,
        Ok(None) => return fail(WHAT, "no webhook is stored", SET),
        Err(e) => return fail(WHAT, e.message, SET),
    };
    let webhook = match Webhook::from_env_or_real(&hook) {
        Ok(w) => w,
        Err(e) => return fail(WHAT, e.to_string(), SET),
    };
    match webhook.verify().await {
        Ok(info) => pass(
            WHAT,
            format!(
                "{} is valid{}",
                hook.masked(),
                info.name.map(|n| format!(" (\"{n}\")")).unwrap_or_default()
            ),
        ),
        Err(e) => {
            let fix = match e.disposition() {
                Disposition::NeedsUser => SET,
                _ => "check the network; messages wait in the outbox meanwhile",
            };
            fail(WHAT, e.to_string(), fix)
        }
    }
}

/// Frame.io: sign-in, project, structure root; each needs the one before.
async fn frameio(settings: &Settings, secrets: Arc<SecretStore>, checks: &mut Vec<Check>) {
    let client = match client(settings, secrets) {
        Ok(c) => c,
        Err(e) => {
            checks.push(fail(
                "Frame.io sign-in",
                e.to_string(),
                "run `postflow signin`, or set POSTFLOW_FRAMEIO_TOKEN on a server",
            ));
            return;
        }
    };
    match client.me().await {
        Ok(me) => checks.push(pass(
            "Frame.io sign-in",
            format!(
                "reachable; signed in as {}",
                me.email.or(me.name).unwrap_or(me.id)
            ),
        )),
        Err(e) => {
            let fix = match e.disposition() {
                postflow_frameio::Disposition::NeedsUser => "run `postflow signin` again",
                _ => "check the network and frameio.api_base_url",
            };
            checks.push(fail("Frame.io sign-in", e.to_string(), fix));
            return;
        }
    }
    let project = match client.project(&settings.frameio.project_id).await {
        Ok(p) => {
            checks.push(pass("Frame.io project", format!("\"{}\" found", p.name)));
            p
        }
        Err(e) => {
            checks.push(fail(
                "Frame.io project",
                e.to_string(),
                "check frameio.account_id and frameio.project_id, and that this account can open the project",
            ));
            return;
        }
    };
    let structure_root = &settings.nomenclature.structure_root;
    if structure_root.is_empty() {
        checks.push(pass(
            "structure root",
            "scenes go directly under the project root",
        ));
    } else {
        checks.push(match client.child_folders(&project.root_folder_id).await {
            Ok(folders)
                if folders
                    .iter()
                    .any(|f| f.name.eq_ignore_ascii_case(structure_root)) =>
            {
                pass("structure root", format!("{structure_root}/ found"))
            }
            Ok(_) => pass(
                "structure root",
                format!("{structure_root}/ not there yet; it is created with the first upload"),
            ),
            Err(e) => fail(
                "structure root",
                e.to_string(),
                "check access to the project's root folder",
            ),
        });
    }
}
