//! The words of the messages, in English and French, and the small text
//! helpers rendering needs (sizes, Markdown escaping, one-line values).

use postflow_settings::Language;

use crate::notice::Cause;

/// Every fixed wording of one language. Wordings with values in them are
/// methods.
pub(crate) struct Texts {
    lang: Language,
    pub scene: &'static str,
    pub shot: &'static str,
    pub version: &'static str,
    pub size: &'static str,
    pub path: &'static str,
    pub workstation: &'static str,
    pub file: &'static str,
    pub attempts: &'static str,
    pub what_to_do: &'static str,
    pub uploaded: &'static str,
    pub needs_attention: &'static str,
    pub test_title: &'static str,
    pub test_description: &'static str,
}

static EN: Texts = Texts {
    lang: Language::En,
    scene: "Scene",
    shot: "Shot",
    version: "Version",
    size: "Size",
    path: "Path",
    workstation: "Workstation",
    file: "File",
    attempts: "Attempts",
    what_to_do: "What to do",
    uploaded: "Uploaded to Frame.io",
    needs_attention: "PostFlow needs attention",
    test_title: "PostFlow test message",
    test_description: "Discord notifications from this workstation work.",
};

static FR: Texts = Texts {
    lang: Language::Fr,
    scene: "Scène",
    shot: "Plan",
    version: "Version",
    size: "Taille",
    path: "Chemin",
    workstation: "Poste",
    file: "Fichier",
    attempts: "Tentatives",
    what_to_do: "À faire",
    uploaded: "Envoyé sur Frame.io",
    needs_attention: "PostFlow a besoin d’une intervention",
    test_title: "Message de test PostFlow",
    test_description: "Les notifications Discord de ce poste fonctionnent.",
};

impl Texts {
    pub fn of(lang: Language) -> &'static Texts {
        match lang {
            Language::En => &EN,
            Language::Fr => &FR,
        }
    }

    /// `replaces V001`.
    pub fn replacing(&self, previous: &str) -> String {
        match self.lang {
            Language::En => format!("replaces {previous}"),
            Language::Fr => format!("remplace {previous}"),
        }
    }

    /// `New version: V002 replaces V001`.
    pub fn new_version(&self, version: &str, previous: &str) -> String {
        let replacing = self.replacing(previous);
        match self.lang {
            Language::En => format!("New version: {version} {replacing}"),
            Language::Fr => format!("Nouvelle version : {version} {replacing}"),
        }
    }

    /// `V002 re-rendered: the fix is on top of its stack`: the same version,
    /// rendered again under the same name, not a new version.
    pub fn rerendered(&self, version: &str) -> String {
        match self.lang {
            Language::En => {
                format!("{version} re-rendered: the new render is on top of the earlier one")
            }
            Language::Fr => {
                format!("Nouveau rendu de {version} : il passe au-dessus du précédent")
            }
        }
    }

    /// The digest's short word for a re-render.
    pub fn rerender_tag(&self) -> &'static str {
        match self.lang {
            Language::En => "re-rendered",
            Language::Fr => "nouveau rendu",
        }
    }

    /// The title of a digest of `count` uploads.
    pub fn digest_title(&self, count: usize) -> String {
        match self.lang {
            Language::En => format!("{count} new files on Frame.io"),
            Language::Fr => format!("{count} nouveaux fichiers sur Frame.io"),
        }
    }

    /// The title of an action notice.
    pub fn cause_title(&self, cause: Cause) -> &'static str {
        match (self.lang, cause) {
            (Language::En, Cause::KeepsFailing { .. }) => "Upload keeps failing",
            (Language::Fr, Cause::KeepsFailing { .. }) => "Échecs d’envoi répétés",
            (Language::En, Cause::SignInExpired) => "Frame.io sign-in expired",
            (Language::Fr, Cause::SignInExpired) => "Connexion Frame.io expirée",
            (Language::En, Cause::NameHeld) => "File name not recognized",
            (Language::Fr, Cause::NameHeld) => "Nom de fichier non reconnu",
            (Language::En, Cause::FrameioAccess) => "No access to the Frame.io project",
            (Language::Fr, Cause::FrameioAccess) => "Pas d’accès au projet Frame.io",
        }
    }

    /// What a person should do about an action notice.
    pub fn cause_hint(&self, cause: Cause) -> &'static str {
        match (self.lang, cause) {
            (Language::En, Cause::KeepsFailing { .. }) => {
                "PostFlow keeps retrying on its own. If it goes on, run `postflow status` on this workstation."
            }
            (Language::Fr, Cause::KeepsFailing { .. }) => {
                "PostFlow continue de réessayer. Si cela persiste, lancez `postflow status` sur ce poste."
            }
            (Language::En, Cause::SignInExpired) => {
                "Uploads are paused on this workstation until someone signs in again (`postflow signin`)."
            }
            (Language::Fr, Cause::SignInExpired) => {
                "Les envois sont en pause sur ce poste jusqu’à une nouvelle connexion (`postflow signin`)."
            }
            (Language::En, Cause::NameHeld) => {
                "The file is held, not uploaded. Rename it to follow the naming convention: it is picked up again automatically."
            }
            (Language::Fr, Cause::NameHeld) => {
                "Le fichier est retenu, il n’est pas envoyé. Renommez-le selon la nomenclature : il sera repris automatiquement."
            }
            (Language::En, Cause::FrameioAccess) => {
                "Ask a Frame.io admin for access to the project, or sign in with another account."
            }
            (Language::Fr, Cause::FrameioAccess) => {
                "Demandez l’accès au projet à un administrateur Frame.io, ou connectez-vous avec un autre compte."
            }
        }
    }

    /// `1.2 GB` / `1,2 Go`: decimal units, as Frame.io and the Finder show
    /// sizes, one decimal from a kilobyte up.
    pub fn size(&self, bytes: u64) -> String {
        const EN_UNITS: [&str; 6] = ["B", "KB", "MB", "GB", "TB", "PB"];
        const FR_UNITS: [&str; 6] = ["o", "ko", "Mo", "Go", "To", "Po"];
        let units = match self.lang {
            Language::En => EN_UNITS,
            Language::Fr => FR_UNITS,
        };
        if bytes < 1000 {
            return format!("{bytes} {}", units[0]);
        }
        let mut value = bytes as f64;
        let mut unit = 0;
        // Move up while the rounded figure would read 1000 or more.
        while unit + 1 < units.len() && (value * 10.0).round() / 10.0 >= 1000.0 {
            value /= 1000.0;
            unit += 1;
        }
        let figure = format!("{value:.1}");
        let figure = match self.lang {
            Language::En => figure,
            Language::Fr => figure.replace('.', ","),
        };
        format!("{figure} {}", units[unit])
    }
}

/// Shown in place of a blank value (Discord refuses blank field values).
pub(crate) const BLANK: &str = "—";

/// `text` on one line, ready for Markdown: control characters (line breaks
/// included) become spaces and Markdown's special characters are escaped,
/// so a file name shows as itself. `_` is left alone: inside a word (the
/// usual `SC01_UNDLM_00412_V002.mov`) Discord does not read it as italics,
/// and names stay searchable as typed. A blank text becomes [`BLANK`].
pub(crate) fn inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            c if c.is_control() => out.push(' '),
            '\\' | '*' | '~' | '`' | '|' | '[' | ']' | '<' | '>' | '#' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    if out.trim().is_empty() {
        return BLANK.to_string();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_naturally_in_each_language() {
        let en = Texts::of(Language::En);
        let fr = Texts::of(Language::Fr);
        assert_eq!(en.size(1_200_000_000), "1.2 GB");
        assert_eq!(fr.size(1_200_000_000), "1,2 Go");
        assert_eq!(en.size(512), "512 B");
        assert_eq!(fr.size(512), "512 o");
        assert_eq!(en.size(1_500), "1.5 KB");
        assert_eq!(en.size(48_300_000), "48.3 MB");
        // Never "1000.0 MB": rounding up moves to the next unit.
        assert_eq!(en.size(999_960_000), "1.0 GB");
        assert_eq!(fr.size(2_500_000_000_000), "2,5 To");
        assert_eq!(en.size(u64::MAX), "18446.7 PB");
    }

    #[test]
    fn inline_text_shows_as_typed_on_one_line() {
        assert_eq!(
            inline("SC01_UNDLM_00412_V002.mov"),
            "SC01_UNDLM_00412_V002.mov"
        );
        assert_eq!(inline("a*b*\n[x](y)"), "a\\*b\\* \\[x\\](y)");
        assert_eq!(inline(" \n\t"), BLANK);
        assert_eq!(inline(""), BLANK);
    }
}
