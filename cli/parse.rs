//! `postflow parse [--json] NAME...` (nomenclature spec §5).

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use postflow_nomenclature::{Nomenclature, Status};
use postflow_settings::Paths;

#[derive(clap::Args)]
pub struct Args {
    /// One JSON object per name, one per line, in the order given.
    #[arg(long)]
    json: bool,
    /// File names or paths; only the last path component is read.
    #[arg(required = true, value_name = "NAME")]
    names: Vec<OsString>,
}

pub fn run(paths: &Paths, args: Args) -> anyhow::Result<ExitCode> {
    let nomenclature = configured_nomenclature(paths);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for name in &args.names {
        let report = nomenclature.report(&name.to_string_lossy());
        if args.json {
            serde_json::to_writer(&mut out, &report)?;
            writeln!(out)?;
        } else if report.status == Status::Parsed {
            writeln!(
                out,
                "{}\tparsed\tscene {}  shot {}  version {}  ({})\t-> {}",
                report.name,
                report.scene.unwrap_or_default(),
                report.shot.unwrap_or_default(),
                report.version.unwrap_or_default(),
                report.pattern.unwrap_or_default(),
                report.frameio_path.unwrap_or_default(),
            )?;
        } else {
            writeln!(
                out,
                "{}\t{}\t{}",
                report.name,
                report.status.as_str(),
                report.reason.unwrap_or_default()
            )?;
        }
    }
    // §5: exit 0 whenever every name could be classified, whatever the statuses.
    Ok(ExitCode::SUCCESS)
}

/// The nomenclature of the settings (custom patterns, extensions, structure
/// root). Bad custom patterns are reported and left out rather than making
/// `parse` useless while the user fixes them.
fn configured_nomenclature(paths: &Paths) -> Nomenclature {
    let loaded = postflow_settings::load(&paths.config_file);
    for problem in loaded
        .problems
        .iter()
        .filter(|p| p.key == postflow_settings::FILE_KEY)
    {
        eprintln!("warning: settings: {problem}");
    }
    let (nomenclature, problems) = loaded.settings.nomenclature_lenient();
    for p in &problems {
        eprintln!("warning: settings: {p}; this pattern is left out");
    }
    nomenclature
}
