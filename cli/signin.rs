//! `postflow signin`: signs in to Frame.io in the system browser (Adobe IMS,
//! authorization code with PKCE), receives the answer on the loopback
//! redirect URI, stores the tokens in the OS keychain and checks them.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use postflow_frameio::auth::{OAuthConfig, DEFAULT_SCOPES};
use postflow_frameio::{Client, ClientConfig, Credentials, RetryPolicy, SignIn};
use postflow_secrets::SecretStore;
use postflow_settings::Paths;

#[derive(clap::Args)]
pub struct Args {
    /// Print the sign-in address instead of opening the browser.
    #[arg(long)]
    no_browser: bool,
    /// How long to wait for the browser, in seconds.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
}

pub fn run(paths: &Paths, args: Args) -> anyhow::Result<ExitCode> {
    let settings = postflow_settings::load(&paths.config_file).settings;
    let f = settings.frameio;
    if f.client_id.trim().is_empty() {
        bail!(
            "frameio.client_id is not set in {}: set it to the client id of your organisation's Adobe credential",
            paths.config_file.display()
        );
    }
    let store = SecretStore::open();
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let signin = SignIn::start(OAuthConfig {
            ims_base_url: f.ims_base_url.clone(),
            client_id: f.client_id.clone(),
            client_secret: None,
            redirect_uri: f.redirect_uri.clone(),
            scopes: DEFAULT_SCOPES.into(),
        })?;
        let url = signin.authorize_url.to_string();
        if args.no_browser {
            println!("Open this address in a browser to sign in to Frame.io:\n  {url}");
        } else {
            println!("Opening your browser to sign in to Frame.io...");
            if let Err(e) = webbrowser::open(&url) {
                println!("Could not open a browser ({e}). Open this address instead:\n  {url}");
            }
        }
        let callback = signin
            .receive_on_loopback(Duration::from_secs(args.timeout))
            .await?;
        let http = reqwest::Client::new();
        let tokens = signin.complete(&http, &callback).await?;
        store
            .set_frameio_tokens(&tokens)
            .context("signed in, but the sign-in could not be kept")?;
        let client = Client::new(ClientConfig {
            api_base_url: f.api_base_url.clone(),
            ims_base_url: f.ims_base_url.clone(),
            account_id: f.account_id.clone(),
            credentials: Credentials::OAuth {
                client_id: f.client_id.clone(),
                client_secret: None,
                tokens,
            },
            token_sink: None,
            retry: RetryPolicy::default(),
        })?;
        let me = client
            .me()
            .await
            .context("signed in, but Frame.io refused the new sign-in")?;
        println!(
            "Signed in to Frame.io as {}{}.",
            me.name.as_deref().unwrap_or("(no name)"),
            me.email.map(|e| format!(" <{e}>")).unwrap_or_default()
        );
        Ok(ExitCode::SUCCESS)
    })
}
