//! What the team sees: notices composed, sent to the fake Discord, and
//! checked on the JSON it received.

mod support;

use postflow_discord::{compose, Action, Cause, Language, Notice, Upload, Webhook};
use postflow_discord_fake::DiscordFake;
use serde_json::{json, Value};
use support::*;

/// Composes `notices` and sends every message; returns what the fake got.
async fn post(
    notices: &[Notice],
    lang: Language,
    mention: Option<&str>,
) -> (DiscordFake, Vec<Value>) {
    let (fake, webhook) = fake_and_webhook().await;
    send_all(&webhook, notices, lang, mention).await;
    let received = fake.messages();
    (fake, received)
}

async fn send_all(webhook: &Webhook, notices: &[Notice], lang: Language, mention: Option<&str>) {
    for message in compose(notices, lang, mention) {
        webhook.send(&message).await.unwrap();
    }
}

/// The value of the field named `name`.
fn field<'e>(embed: &'e Value, name: &str) -> &'e str {
    embed["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no field {name} in {embed}"))["value"]
        .as_str()
        .unwrap()
}

fn stacked() -> Upload {
    Upload {
        previous_version: Some("V001".into()),
        rerender: false,
        ..upload()
    }
}

#[tokio::test]
async fn an_upload_card_shows_scene_shot_version_size_link_and_path_in_english() {
    let (_fake, received) = post(&[Notice::Uploaded(upload())], Language::En, Some("<@1>")).await;
    assert_eq!(received.len(), 1);
    let message = &received[0];
    assert_eq!(message.get("content"), None, "uploads never ping");
    assert_eq!(message["allowed_mentions"], json!({"parse": []}));
    let card = &message["embeds"][0];
    assert_eq!(card["title"], "SC01_UNDLM_00412_V002.mov");
    assert_eq!(card["url"], "https://next.frame.io/project/p1/view/f412");
    assert_eq!(card["description"], "Uploaded to Frame.io");
    assert_eq!(field(card, "Scene"), "SC01");
    assert_eq!(field(card, "Shot"), "00412");
    assert_eq!(field(card, "Version"), "V002");
    assert_eq!(field(card, "Size"), "1.2 GB");
    assert_eq!(field(card, "Path"), "SCENES/SC01/00412");
    assert_eq!(field(card, "Workstation"), "edit-3");
    assert_eq!(card["timestamp"], "2023-11-14T22:13:20Z");
}

#[tokio::test]
async fn an_upload_card_reads_in_french() {
    let (_fake, received) = post(&[Notice::Uploaded(upload())], Language::Fr, None).await;
    let card = &received[0]["embeds"][0];
    assert_eq!(card["title"], "SC01_UNDLM_00412_V002.mov");
    assert_eq!(card["url"], "https://next.frame.io/project/p1/view/f412");
    assert_eq!(card["description"], "Envoyé sur Frame.io");
    assert_eq!(field(card, "Scène"), "SC01");
    assert_eq!(field(card, "Plan"), "00412");
    assert_eq!(field(card, "Version"), "V002");
    assert_eq!(field(card, "Taille"), "1,2 Go");
    assert_eq!(field(card, "Chemin"), "SCENES/SC01/00412");
    assert_eq!(field(card, "Poste"), "edit-3");
}

#[tokio::test]
async fn a_new_version_has_its_own_colour_and_names_the_version_it_replaces() {
    let first = Notice::Uploaded(upload());
    let (_fake, received) = post(&[first, Notice::Uploaded(stacked())], Language::En, None).await;
    let cards = received[0]["embeds"].as_array().unwrap();
    assert_ne!(cards[0]["color"], cards[1]["color"]);
    assert!(!cards[0]["description"].as_str().unwrap().contains("V001"));
    assert_eq!(cards[1]["description"], "New version: V002 replaces V001");

    let (_fake, received) = post(&[Notice::Uploaded(stacked())], Language::Fr, None).await;
    assert_eq!(
        received[0]["embeds"][0]["description"],
        "Nouvelle version : V002 remplace V001"
    );
}

/// A re-render of a version already in Frame.io reads as one, in both
/// languages and in digests, never as a new version.
#[tokio::test]
async fn a_rerender_says_so_and_is_not_taken_for_a_new_version() {
    let rerender = Upload {
        previous_version: Some("V002".into()),
        rerender: true,
        ..upload()
    };
    let (_fake, received) = post(
        &[
            Notice::Uploaded(stacked()),
            Notice::Uploaded(rerender.clone()),
        ],
        Language::En,
        None,
    )
    .await;
    let cards = received[0]["embeds"].as_array().unwrap();
    assert_eq!(
        cards[1]["description"],
        "V002 re-rendered: the new render is on top of the earlier one"
    );
    assert_ne!(
        cards[0]["color"], cards[1]["color"],
        "not the new-version colour"
    );
    let (_fake, received) = post(&[Notice::Uploaded(rerender.clone())], Language::Fr, None).await;
    assert_eq!(
        received[0]["embeds"][0]["description"],
        "Nouveau rendu de V002 : il passe au-dessus du précédent"
    );
    // In a digest (more than ten uploads) the line says it too.
    let mut many: Vec<Notice> = (0..11).map(|n| Notice::Uploaded(upload_n(n))).collect();
    many.push(Notice::Uploaded(rerender));
    let (_fake, received) = post(&many, Language::En, None).await;
    let text = serde_json::to_string(&received).unwrap();
    assert!(text.contains("re-rendered"), "{text}");
    assert!(!text.contains("replaces V002"), "{text}");
}

#[tokio::test]
async fn five_uploads_make_one_message_of_five_cards() {
    let notices: Vec<Notice> = (0..5).map(|n| Notice::Uploaded(upload_n(n))).collect();
    let (fake, received) = post(&notices, Language::En, None).await;
    assert_eq!(received.len(), 1);
    let titles: Vec<&str> = received[0]["embeds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|card| card["title"].as_str().unwrap())
        .collect();
    let names: Vec<String> = (0..5).map(|n| upload_n(n).file_name).collect();
    assert_eq!(titles, names);
    assert_eq!(fake.requests(), 1);
}

#[tokio::test]
async fn thirty_uploads_are_all_accepted_and_every_file_is_listed_with_its_link() {
    let notices: Vec<Notice> = (0..30).map(|n| Notice::Uploaded(upload_n(n))).collect();
    let (fake, received) = post(&notices, Language::En, None).await;
    assert_eq!(fake.rejected(), 0);
    assert!(!received.is_empty());
    let descriptions: String = received
        .iter()
        .flat_map(|m| m["embeds"].as_array().unwrap())
        .map(|card| card["description"].as_str().unwrap().to_owned() + "\n")
        .collect();
    assert_eq!(descriptions.lines().count(), 30, "one line per file");
    for n in 0..30 {
        let upload = upload_n(n);
        let url = upload.view_url.unwrap();
        let linked = format!("[{}]({url})", upload.file_name);
        assert!(descriptions.contains(&linked), "{linked} missing");
    }
    assert_eq!(
        received[0]["embeds"][0]["title"],
        "30 new files on Frame.io"
    );
}

#[tokio::test]
async fn a_mention_on_an_action_pings_exactly_that_user_or_role() {
    let action = Notice::NeedsAction(Action {
        cause: Cause::KeepsFailing { attempts: 5 },
        file_name: Some("SC01_UNDLM_00412_V002.mov".into()),
        detail: "Frame.io is unavailable (HTTP 503); will retry".into(),
        workstation: "edit-3".into(),
        at: 1_700_000_000,
    });
    let notices = [Notice::Uploaded(upload()), action];

    let (_fake, received) = post(&notices, Language::En, Some("<@123456789012345678>")).await;
    assert_eq!(received.len(), 2, "the upload and the action go apart");
    assert_eq!(received[0].get("content"), None);
    assert_eq!(received[0]["allowed_mentions"], json!({"parse": []}));
    let alert = &received[1];
    assert_eq!(
        alert["content"],
        "<@123456789012345678> PostFlow needs attention"
    );
    assert_eq!(
        alert["allowed_mentions"],
        json!({"parse": [], "users": ["123456789012345678"]})
    );
    let card = &alert["embeds"][0];
    assert_eq!(card["title"], "Upload keeps failing");
    assert_eq!(field(card, "Attempts"), "5");
    assert_eq!(field(card, "File"), "SC01_UNDLM_00412_V002.mov");

    let (_fake, received) = post(&notices[1..], Language::Fr, Some("<@&456>")).await;
    assert_eq!(
        received[0]["content"],
        "<@&456> PostFlow a besoin d’une intervention"
    );
    assert_eq!(
        received[0]["allowed_mentions"],
        json!({"parse": [], "roles": ["456"]})
    );
    assert_eq!(received[0]["embeds"][0]["title"], "Échecs d’envoi répétés");
}
