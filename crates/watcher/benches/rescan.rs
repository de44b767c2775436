//! Rescan benchmark (issue 4): the watcher's periodic rescan of an unchanged
//! tree, side by side in one run with peers doing the same listing and
//! stats: GNU `find -printf '%s %T@ %P'` and the `walkdir` crate.
//!
//! Driven by `crates/watcher/bench/rescan.sh`, which builds it in release and
//! calls:
//!
//! ```text
//! rescan generate ROOT FILES     # a realistic BY_SHOT tree (once)
//! rescan measure ROOT ROUNDS     # medians, as a Markdown table row set
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use postflow_nomenclature::Nomenclature;
use postflow_watcher::{scan, Readiness, ScanOptions, Scanner};

/// Counts the bytes currently allocated, to weigh a `Readiness` tracker.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: defers every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Scenes × shots: 200 shot folders, as a feature film's BY_SHOT has.
const SCENES: usize = 20;
const SHOTS_PER_SCENE: usize = 10;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `cargo bench` appends `--bench`.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["generate", root, files] => generate(Path::new(root), files.parse()?),
        ["measure", root, rounds] => measure(Path::new(root), rounds.parse()?),
        _ => Err("usage: rescan generate ROOT FILES | rescan measure ROOT ROUNDS".into()),
    }
}

/// `ROOT/SC012/SC012_SHOT_0042/SC012_SHOT_0042_V003.mov`, small files, plus
/// the usual macOS litter: a `.DS_Store` per folder and an AppleDouble twin
/// for one render in fifty.
fn generate(root: &Path, files: usize) -> Result<(), Box<dyn std::error::Error>> {
    let folders = SCENES * SHOTS_PER_SCENE;
    let per_folder = files.div_ceil(folders);
    let mut made = 0;
    'outer: for scene in 1..=SCENES {
        for shot in 1..=SHOTS_PER_SCENE {
            let scene_name = format!("SC{scene:03}");
            let shot_name = format!("{scene_name}_SHOT_{:04}", shot * 10);
            let dir = root.join(&scene_name).join(&shot_name);
            fs::create_dir_all(&dir)?;
            fs::write(dir.join(".DS_Store"), [0u8; 16])?;
            for version in 1..=per_folder {
                if made == files {
                    break 'outer;
                }
                let name = format!("{shot_name}_V{version:03}.mov");
                fs::write(dir.join(&name), [0x42u8; 64])?;
                if version % 50 == 0 {
                    fs::write(dir.join(format!("._{name}")), [0u8; 16])?;
                }
                made += 1;
            }
        }
    }
    println!(
        "generated {made} renders in {folders} shot folders under {}",
        root.display()
    );
    Ok(())
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The peer: GNU find printing size, mtime and path of every file, output
/// discarded (it is what `find` would give a shell-script watcher).
fn run_find(root: &Path) -> Result<Duration, Box<dyn std::error::Error>> {
    let start = Instant::now();
    let status = Command::new("find")
        .arg(root)
        .args(["-type", "f", "-printf", "%s %T@ %P\\n"])
        .stdout(Stdio::null())
        .status()?;
    let took = start.elapsed();
    if !status.success() {
        return Err(format!("find failed: {status}").into());
    }
    Ok(took)
}

/// The other peer: `walkdir` (single-threaded), `lstat` of every regular
/// file, no name filtering: what a naive Rust watcher would do.
fn run_walkdir(root: &Path) -> (Duration, usize) {
    let start = Instant::now();
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(root).into_iter().flatten() {
        if entry.file_type().is_file() {
            if let Ok(meta) = entry.metadata() {
                files.push((entry.into_path(), meta.len(), meta.modified().ok()));
            }
        }
    }
    (start.elapsed(), files.len())
}

fn measure(root: &Path, rounds: usize) -> Result<(), Box<dyn std::error::Error>> {
    let nomenclature = Nomenclature::default();
    let default_threads = ScanOptions::default().threads;
    // The default first; the others show what the thread count buys.
    let scanners: Vec<(usize, Scanner)> = [default_threads, 1, 2, 8]
        .into_iter()
        .map(|threads| {
            let options = ScanOptions {
                threads,
                ..ScanOptions::default()
            };
            (threads, Scanner::new(nomenclature.clone(), options))
        })
        .collect();
    // Warm the page cache and the name caches: an *unchanged* tree.
    let baseline = scanners[0].1.scan(root)?;
    for (_, scanner) in &scanners[1..] {
        scanner.scan(root)?;
    }
    run_find(root)?;
    let candidates = baseline.files.len();

    // A tracker in the steady state: every file seen and reported ready.
    let window = Duration::from_secs(30);
    let mut readiness = Readiness::new(window);
    let before = LIVE.load(Ordering::Relaxed);
    let t0 = Instant::now();
    readiness.observe(&baseline, t0, &mut |_: &str| Ok(()));
    // (The scan's own duration is not counted as proven stability.)
    let settled = t0 + window + baseline.took;
    let ready = readiness.observe(&baseline, settled, &mut |_: &str| Ok(()));
    assert_eq!(
        ready.len(),
        candidates,
        "every file is ready after the window"
    );
    drop(ready);
    let tracker_bytes = LIVE.load(Ordering::Relaxed) - before;

    // Contestants: each scanner, the one-off scan, find, walkdir.
    let contestants = scanners.len() + 3;
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); contestants];
    let mut observe = Vec::new();
    let mut walk_files = 0;
    for round in 0..rounds {
        // Alternate who goes first, so cache warmth favours no one.
        let mut order: Vec<usize> = (0..contestants).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for who in order {
            let start = Instant::now();
            match who {
                0 => {
                    let scan = scanners[0].1.scan(root)?;
                    samples[0].push(start.elapsed());
                    assert_eq!(scan.files.len(), candidates);
                    let start = Instant::now();
                    let changes = readiness.observe(&scan, settled + window, &mut |_: &str| Ok(()));
                    observe.push(start.elapsed());
                    assert!(changes.is_empty(), "the tree changed during the benchmark");
                    continue;
                }
                i if i < scanners.len() => {
                    scanners[i].1.scan(root)?;
                }
                i if i == scanners.len() => {
                    scan(root, &nomenclature)?;
                }
                i if i == scanners.len() + 1 => {
                    samples[i].push(run_find(root)?);
                    continue;
                }
                _ => {
                    let (took, files) = run_walkdir(root);
                    samples[who].push(took);
                    walk_files = files;
                    continue;
                }
            }
            samples[who].push(start.elapsed());
        }
    }

    let medians: Vec<Duration> = samples.into_iter().map(median).collect();
    let find = medians[scanners.len() + 1];
    let observe = median(observe);
    let row = |what: &str, d: Duration| {
        println!(
            "| {candidates} | {what} | {:.1} | {:.2}× |",
            ms(d),
            find.as_secs_f64() / d.as_secs_f64()
        );
    };
    row(
        &format!("**PostFlow `Scanner::scan`** ({default_threads} threads, the default; warm name cache)"),
        medians[0],
    );
    row(
        "**PostFlow watcher rescan** (the above + `Readiness::observe`)",
        medians[0] + observe,
    );
    for (i, (threads, _)) in scanners.iter().enumerate().skip(1) {
        let unit = if *threads == 1 { "thread" } else { "threads" };
        row(
            &format!("PostFlow `Scanner::scan`, {threads} {unit}"),
            medians[i],
        );
    }
    row(
        "PostFlow one-off `scan()` (no name cache: classifies every name)",
        medians[scanners.len()],
    );
    row(
        &format!("walkdir 2, lstat per file ({walk_files} files)"),
        medians[scanners.len() + 2],
    );
    row(&format!("GNU find -printf ({walk_files} files)"), find);
    println!(
        "note: {candidates} candidates: a Readiness tracker holding them takes {:.1} MiB ({:.0} B per file); its observe of an unchanged scan (all ready) takes {:.1} ms (median of {rounds})",
        tracker_bytes as f64 / (1024.0 * 1024.0),
        tracker_bytes as f64 / candidates.max(1) as f64,
        ms(observe)
    );
    Ok(())
}
