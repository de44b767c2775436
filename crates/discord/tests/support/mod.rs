//! Shared by the tests that talk to the fake Discord.

#![allow(dead_code)] // each test file uses its own share of these

use postflow_discord::{Upload, Webhook};
use postflow_discord_fake::DiscordFake;

/// A fake Discord and a client posting to it.
pub async fn fake_and_webhook() -> (DiscordFake, Webhook) {
    let fake = DiscordFake::start().await;
    let webhook = Webhook::with_api_base(&fake.hook(), &fake.base_url()).unwrap();
    (fake, webhook)
}

/// `SC01_UNDLM_00412_V002.mov`: 1.2 GB, first upload of its version.
pub fn upload() -> Upload {
    Upload {
        file_name: "SC01_UNDLM_00412_V002.mov".into(),
        scene: "SC01".into(),
        shot: "00412".into(),
        version: "V002".into(),
        size_bytes: 1_200_000_000,
        frameio_path: "SCENES/SC01/00412".into(),
        view_url: Some("https://next.frame.io/project/p1/view/f412".into()),
        workstation: "edit-3".into(),
        uploaded_at: 1_700_000_000,
        previous_version: None,
        rerender: false,
    }
}

/// Upload number `n` of a batch, each with its own shot and name.
pub fn upload_n(n: usize) -> Upload {
    let shot = format!("{:05}", 400 + n);
    Upload {
        file_name: format!("SC01_UNDLM_{shot}_V001.mov"),
        frameio_path: format!("SCENES/SC01/{shot}"),
        view_url: Some(format!("https://next.frame.io/project/p1/view/f{n}")),
        shot,
        version: "V001".into(),
        ..upload()
    }
}
