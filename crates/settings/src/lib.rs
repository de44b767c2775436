//! PostFlow's settings: one typed model, stored as TOML in the OS config
//! directory, versioned, validated with every problem reported at once, and
//! written atomically. A broken file never stops the app: it runs on
//! defaults (or on the keys that were readable) and the file is kept.
//!
//! Secrets are not settings: see `postflow-secrets`.

mod load;
mod model;
mod store;
mod timetable;
mod validate;

pub use load::{
    from_toml_str, load, load_with_env, EnvOverride, Loaded, Source, ENV_OVERRIDES, FILE_KEY,
};
pub use model::*;
pub use postflow_core::Problem;
pub use store::{
    save, save_changes, write_default_if_missing, Paths, PathsError, SaveError, SaveOutcome,
    DEFAULT_TOML, SETTINGS_FILE_NAME,
};
pub use timetable::{describe_rate, BandwidthTimetable, EntryError, Rate};

impl Loaded {
    /// Reading problems and validation problems together: what
    /// `postflow config check` prints.
    pub fn all_problems(&self) -> Vec<Problem> {
        let mut all = self.problems.clone();
        all.extend(self.settings.validate());
        all
    }
}

#[cfg(test)]
mod tests;
