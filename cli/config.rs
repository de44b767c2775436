//! `postflow config check | show | path | init`.

use std::process::ExitCode;

use postflow_settings::{Paths, Source};

#[derive(clap::Subcommand)]
pub enum Command {
    /// List every problem in the settings, each with a fix. Exits 1 if any.
    Check {
        /// Print the problems as a JSON array of {key, message, fix}.
        #[arg(long)]
        json: bool,
    },
    /// Print the settings in effect (file, defaults and environment merged).
    Show,
    /// Print where PostFlow keeps its settings, data and logs.
    Path,
    /// Write the commented default settings file, if there is none yet.
    Init,
}

pub fn run(paths: &Paths, command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Check { json } => check(paths, json),
        Command::Show => {
            let loaded = postflow_settings::load(&paths.config_file);
            print!("{}", toml::to_string_pretty(&loaded.settings)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Path => {
            println!("settings  {}", paths.config_file.display());
            println!("data      {}", paths.data_dir.display());
            println!("logs      {}", paths.log_dir.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Init => {
            if postflow_settings::write_default_if_missing(&paths.config_file)? {
                println!("wrote {}", paths.config_file.display());
            } else {
                println!(
                    "{} already exists; left as it is",
                    paths.config_file.display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn check(paths: &Paths, json: bool) -> anyhow::Result<ExitCode> {
    let loaded = postflow_settings::load(&paths.config_file);
    let problems = loaded.all_problems();
    if json {
        println!("{}", serde_json::to_string_pretty(&problems)?);
    } else {
        match &loaded.source {
            Source::File(p) => println!("Settings: {}", p.display()),
            Source::Missing(p) => println!(
                "Settings: {} does not exist; using defaults (`postflow config init` writes a commented one)",
                p.display()
            ),
            Source::Broken(p) => println!(
                "Settings: {} cannot be used; running on defaults until it is fixed (the file is kept as it is)",
                p.display()
            ),
        }
        for o in &loaded.env_overrides {
            println!(
                "Override: {} from the environment variable {}",
                o.key, o.variable
            );
        }
        if problems.is_empty() {
            println!("No problems found.");
        } else {
            let noun = if problems.len() == 1 {
                "problem"
            } else {
                "problems"
            };
            println!("{} {noun}:", problems.len());
            for p in &problems {
                println!("  {}: {}", p.key, p.message);
                println!("      fix: {}", p.fix);
            }
        }
    }
    Ok(if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
