//! The readiness rules, with injected instants and a fake open check: no
//! sleeping, no disk.

use std::io;
use std::time::{Duration, Instant};

use super::{Change, Readiness};
use crate::scan::{Coverage, Observation, Scan, Unreadable};

const WINDOW: Duration = Duration::from_secs(30);

fn obs(path: &str, size: u64, mtime_ns: i64) -> Observation {
    Observation {
        rel_path: path.to_string(),
        size,
        mtime_ns,
    }
}

fn full(files: &[Observation]) -> Scan {
    Scan {
        files: files.to_vec(),
        unreadable: Vec::new(),
        coverage: Coverage::Root,
        unchanged: 0,
        statted: files.len(),
        generation: None,
        took: Duration::ZERO,
    }
}

fn one(file: &Observation) -> Scan {
    full(std::slice::from_ref(file))
}

fn targeted(paths: &[&str], files: &[Observation]) -> Scan {
    Scan {
        files: files.to_vec(),
        unreadable: Vec::new(),
        coverage: Coverage::Paths(paths.iter().map(|p| p.to_string()).collect()),
        unchanged: 0,
        statted: files.len(),
        generation: None,
        took: Duration::ZERO,
    }
}

fn opens(_: &str) -> io::Result<()> {
    Ok(())
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn ready(changes: &[Change]) -> Vec<&Observation> {
    changes
        .iter()
        .filter_map(|c| match c {
            Change::Ready(o) => Some(o),
            _ => None,
        })
        .collect()
}

#[test]
fn a_stable_file_is_ready_once_after_the_window() {
    let t0 = Instant::now();
    let mut r = Readiness::new(WINDOW);
    let a = obs("SC01/SC01_A_V001.mov", 100, 7);

    assert_eq!(
        r.observe(&one(&a), t0, &mut opens),
        vec![Change::Appeared(a.clone())]
    );
    assert_eq!(r.next_deadline(), Some(t0 + WINDOW));
    assert!(r.observe(&one(&a), t0 + secs(15), &mut opens).is_empty());
    assert!(
        r.observe(&one(&a), t0 + secs(29), &mut opens).is_empty(),
        "not before the window has passed"
    );
    assert_eq!(
        r.observe(&one(&a), t0 + WINDOW, &mut opens),
        vec![Change::Ready(a.clone())]
    );
    assert!(r.is_ready(&a.rel_path));
    assert_eq!(r.next_deadline(), None);
    assert!(
        r.observe(&one(&a), t0 + secs(45), &mut opens).is_empty(),
        "ready is reported once per version"
    );
}

#[test]
fn a_placeholder_is_never_ready_until_it_fills_and_settles() {
    let t0 = Instant::now();
    let mut r = Readiness::new(WINDOW);
    let empty = obs("SC01_A_V001.mov", 0, 1);
    r.observe(&one(&empty), t0, &mut opens);
    for minutes in 1..10 {
        let changes = r.observe(&one(&empty), t0 + secs(60 * minutes), &mut opens);
        assert!(
            changes.is_empty(),
            "a 0-byte file is never ready: {changes:?}"
        );
    }
    assert_eq!(r.next_deadline(), None, "no timer for a placeholder");

    let filled = obs("SC01_A_V001.mov", 5_000, 2);
    let t1 = t0 + secs(600);
    assert_eq!(
        r.observe(&one(&filled), t1, &mut opens),
        vec![Change::Changed(filled.clone())]
    );
    assert!(r
        .observe(&one(&filled), t1 + secs(29), &mut opens)
        .is_empty());
    assert_eq!(
        ready(&r.observe(&one(&filled), t1 + WINDOW, &mut opens)),
        vec![&filled]
    );
}

#[test]
fn growth_restarts_the_window() {
    let t0 = Instant::now();
    let mut r = Readiness::new(WINDOW);
    // Grows every 20 s for 3 minutes: each look sees a new size.
    for step in 0..10u64 {
        let o = obs("grow.mov", 1 + step * 1000, step as i64);
        let changes = r.observe(&full(&[o]), t0 + secs(20 * step), &mut opens);
        assert!(ready(&changes).is_empty(), "still growing at step {step}");
    }
    let last = obs("grow.mov", 9001, 9);
    let stopped = t0 + secs(180);
    assert!(ready(&r.observe(&one(&last), stopped + secs(20), &mut opens)).is_empty());
    assert_eq!(
        ready(&r.observe(&one(&last), stopped + secs(30), &mut opens)),
        vec![&last]
    );
}

#[test]
fn an_mtime_change_alone_restarts_the_window() {
    let t0 = Instant::now();
    let mut r = Readiness::new(WINDOW);
    r.observe(&full(&[obs("a.mov", 10, 1)]), t0, &mut opens);
    let touched = obs("a.mov", 10, 2);
    assert_eq!(
        r.observe(&one(&touched), t0 + secs(20), &mut opens),
        vec![Change::Changed(touched.clone())]
    );
    assert!(ready(&r.observe(&one(&touched), t0 + secs(40), &mut opens)).is_empty());
    assert_eq!(
        ready(&r.observe(&one(&touched), t0 + secs(50), &mut opens)),
        vec![&touched]
    );
}

#[test]
fn a_file_changed_after_ready_is_a_new_candidate() {
    let t0 = Instant::now();
    let mut r = Readiness::new(WINDOW);
    let v1 = obs("SC01_A_V001.mov", 100, 1);
    r.observe(&one(&v1), t0, &mut opens);
    assert_eq!(
        ready(&r.observe(&one(&v1), t0 + WINDOW, &mut opens)),
        vec![&v1]
    );

    let v2 = obs("SC01_A_V001.mov", 200, 2);
    let t1 = t0 + secs(100);
    assert_eq!(
        r.observe(&one(&v2), t1, &mut opens),
        vec![Change::Changed(v2.clone())]
    );
    assert!(!r.is_ready(&v2.rel_path));
    assert_eq!(r.next_deadline(), Some(t1 + WINDOW));
    assert_eq!(
        ready(&r.observe(&one(&v2), t1 + WINDOW, &mut opens)),
        vec![&v2]
    );
}

#[test]
fn an_unopenable_file_is_reported_once_and_retried() {
    let t0 = Instant::now();
    let mut r = Readiness::new(WINDOW);
    let a = obs("locked.mov", 100, 1);
    let mut locked = |_: &str| -> io::Result<()> {
        Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "locked by the renderer",
        ))
    };
    r.observe(&one(&a), t0, &mut locked);
    let changes = r.observe(&one(&a), t0 + WINDOW, &mut locked);
    assert!(
        matches!(&changes[..], [Change::NotOpenable { observation, reason }]
            if observation == &a && reason.contains("locked by the renderer")),
        "{changes:?}"
    );
    assert!(
        r.observe(&one(&a), t0 + secs(45), &mut locked).is_empty(),
        "reported once"
    );
    assert_eq!(
        r.next_deadline(),
        None,
        "retried by scans, not by the timer"
    );

    let mut opened = Vec::new();
    let mut unlocked = |p: &str| -> io::Result<()> {
        opened.push(p.to_string());
        Ok(())
    };
    assert_eq!(
        r.observe(&one(&a), t0 + secs(60), &mut unlocked),
        vec![Change::Ready(a.clone())]
    );
    assert_eq!(opened, vec!["locked.mov"]);
}

#[test]
fn the_open_check_runs_only_when_the_window_has_passed() {
    let t0 = Instant::now();
    let mut r = Readiness::new(WINDOW);
    let mut calls = 0;
    let mut counting = |_: &str| -> io::Result<()> {
        calls += 1;
        Ok(())
    };
    let files: Vec<_> = (0..100).map(|i| obs(&format!("{i}.mov"), 1, 1)).collect();
    r.observe(&full(&files), t0, &mut counting);
    r.observe(&full(&files), t0 + secs(10), &mut counting);
    r.observe(&full(&files), t0 + WINDOW, &mut counting);
    r.observe(&full(&files), t0 + secs(60), &mut counting);
    assert_eq!(calls, 100, "one open per file, once");
}

#[test]
fn absences_count_only_where_the_scan_looked() {
    let t0 = Instant::now();
    let mut r = Readiness::new(WINDOW);
    let a = obs("SC01/a.mov", 1, 1);
    let b = obs("SC02/b.mov", 1, 1);
    let c = obs("SC02/c.mov", 1, 1);
    r.observe(&full(&[a.clone(), b.clone(), c.clone()]), t0, &mut opens);

    // A targeted look at one file that has vanished.
    assert_eq!(
        r.observe(&targeted(&["SC01/a.mov"], &[]), t0 + secs(1), &mut opens),
        vec![Change::Gone("SC01/a.mov".into())]
    );
    // A targeted look at a folder: what it holds is everything under it.
    assert_eq!(
        r.observe(
            &targeted(&["SC02"], std::slice::from_ref(&c)),
            t0 + secs(2),
            &mut opens
        ),
        vec![Change::Gone("SC02/b.mov".into())]
    );
    assert_eq!(r.len(), 1);
    // A look elsewhere proves nothing about SC02/c.mov.
    assert!(r
        .observe(&targeted(&["SC0"], &[]), t0 + secs(3), &mut opens)
        .is_empty());
    assert_eq!(r.len(), 1);
}

#[test]
fn files_under_an_unreadable_folder_are_unknown_not_gone() {
    let t0 = Instant::now();
    let mut r = Readiness::new(WINDOW);
    let a = obs("SC01/a.mov", 1, 1);
    let b = obs("SC02/b.mov", 1, 1);
    r.observe(&full(&[a.clone(), b.clone()]), t0, &mut opens);

    let mut scan = one(&b);
    scan.unreadable.push(Unreadable {
        rel_path: "SC01".into(),
        reason: "Permission denied".into(),
    });
    let changes = r.observe(&scan, t0 + WINDOW, &mut opens);
    assert_eq!(changes, vec![Change::Ready(b.clone())], "a is not gone");
    assert_eq!(r.get("SC01/a.mov"), Some(a.clone()));

    // Readable again and really gone.
    assert_eq!(
        r.observe(&one(&b), t0 + secs(60), &mut opens),
        vec![Change::Gone("SC01/a.mov".into())]
    );
}

#[test]
fn due_files_are_rechecked_when_their_window_ends() {
    let t0 = Instant::now();
    let mut r = Readiness::new(WINDOW);
    let a = obs("a.mov", 1, 1);
    let b = obs("b.mov", 1, 1);
    r.observe(&one(&a), t0, &mut opens);
    r.observe(
        &targeted(&["b.mov"], std::slice::from_ref(&b)),
        t0 + secs(5),
        &mut opens,
    );
    assert_eq!(r.next_deadline(), Some(t0 + WINDOW));
    assert!(r.due(t0 + secs(29)).is_empty());

    // The timer fires at the end of a's window: re-stat a, then observe.
    let due = r.due(t0 + WINDOW);
    assert_eq!(due, vec!["a.mov"]);
    assert_eq!(
        r.observe(
            &targeted(&["a.mov"], std::slice::from_ref(&a)),
            t0 + WINDOW,
            &mut opens
        ),
        vec![Change::Ready(a.clone())]
    );
    assert_eq!(r.next_deadline(), Some(t0 + secs(35)));

    // If the re-stat could not confirm b, it is not re-checked in a loop.
    assert_eq!(r.due(t0 + secs(35)), vec!["b.mov"]);
    assert!(r.due(t0 + secs(35)).is_empty());
    assert_eq!(r.next_deadline(), Some(t0 + secs(36)));
}

#[test]
fn settled_versions_are_not_reported_again() {
    let t0 = Instant::now();
    let mut r = Readiness::new(WINDOW);
    let done = obs("done.mov", 10, 1);
    let changed = obs("changed.mov", 10, 1);
    let deleted = obs("deleted.mov", 10, 1);
    for o in [&done, &changed, &deleted] {
        r.settle(o.clone(), t0);
    }
    let changed_now = obs("changed.mov", 20, 2);
    let changes = r.observe(&full(&[changed_now.clone(), done.clone()]), t0, &mut opens);
    assert_eq!(
        changes,
        vec![
            Change::Changed(changed_now),
            Change::Gone("deleted.mov".into())
        ]
    );
    assert!(r
        .observe(&one(&done), t0 + secs(60), &mut opens)
        .iter()
        .all(|c| !matches!(c, Change::Ready(_))));
}

#[test]
fn a_rename_is_one_gone_and_one_new_candidate() {
    let t0 = Instant::now();
    let mut r = Readiness::new(WINDOW);
    let old = obs("SC01/a.mov", 10, 1);
    r.observe(&one(&old), t0, &mut opens);
    let new = obs("SC01/b.mov", 10, 1);
    assert_eq!(
        r.observe(&one(&new), t0 + secs(15), &mut opens),
        vec![Change::Appeared(new.clone()), Change::Gone(old.rel_path)]
    );
    assert!(ready(&r.observe(&one(&new), t0 + secs(30), &mut opens)).is_empty());
    assert_eq!(
        ready(&r.observe(&one(&new), t0 + secs(45), &mut opens)),
        vec![&new]
    );
}

#[test]
fn a_long_scan_never_overstates_stability() {
    let t0 = Instant::now();
    let mut r = Readiness::new(WINDOW);
    let a = obs("a.mov", 10, 1);
    let slow = |took: u64| Scan {
        took: secs(took),
        ..one(&a)
    };
    // A 10 s rescan of a network mount: `a` was read somewhere in [t0, t0+10].
    r.observe(&slow(10), t0 + secs(10), &mut opens);
    assert_eq!(
        r.next_deadline(),
        Some(t0 + secs(40)),
        "counted from the scan's end"
    );
    // Confirmed by a scan that started at t0+35: only 25 s are proven.
    assert!(r.observe(&slow(10), t0 + secs(45), &mut opens).is_empty());
    // Started at t0+40: 30 s proven.
    assert_eq!(
        r.observe(&slow(10), t0 + secs(50), &mut opens),
        vec![Change::Ready(a.clone())]
    );
}

#[test]
fn a_plan_skips_ready_files_whose_entry_is_unchanged_except_on_their_turn() {
    use crate::scan::{Known, Listed};
    let t0 = Instant::now();
    let mut r = Readiness::new(WINDOW);
    let files: Vec<_> = (0..40)
        .map(|i| obs(&format!("f{i:02}.mov"), 10, 1))
        .collect();
    for f in &files {
        r.settle(f.clone(), t0);
    }
    let pending = obs("pending.mov", 5, 1);
    r.observe(&targeted(&["pending.mov"], &[pending]), t0, &mut opens);

    // The first plan knows no inode yet: it stats every file.
    {
        let plan = r.plan(4);
        for (i, f) in files.iter().enumerate() {
            assert_eq!(plan.listed(&f.rel_path, 100 + i as u64), Listed::Known);
        }
    }
    // Then each ready file is stat'ed on exactly one plan in four.
    let mut stat_turns = vec![0; files.len()];
    for _ in 0..8 {
        let plan = r.plan(4);
        for (i, f) in files.iter().enumerate() {
            if plan.listed(&f.rel_path, 100 + i as u64) != Listed::Unchanged {
                stat_turns[i] += 1;
            }
        }
        assert_eq!(
            plan.listed("pending.mov", 1),
            Listed::Known,
            "pending: stat'ed"
        );
        assert_eq!(plan.listed("unknown.mov", 1), Listed::New);
    }
    assert!(stat_turns.iter().all(|&n| n == 2), "{stat_turns:?}");

    // A file replaced by a rename has another inode: stat'ed at once.
    let plan = r.plan(4);
    let unchanged = files
        .iter()
        .filter(|f| plan.listed(&f.rel_path, 999) == Listed::Unchanged)
        .count();
    assert_eq!(unchanged, 0);
}

#[test]
fn files_a_plan_took_as_unchanged_are_seen_and_the_others_are_gone() {
    use crate::scan::{Known, Listed};
    let t0 = Instant::now();
    let mut r = Readiness::new(WINDOW);
    for name in ["a.mov", "b.mov", "c.mov"] {
        r.settle(obs(name, 10, 1), t0);
    }
    // A first full scan records the inodes.
    {
        let plan = r.plan(u32::MAX);
        for (i, name) in ["a.mov", "b.mov", "c.mov"].iter().enumerate() {
            plan.listed(name, i as u64 + 1);
        }
    }
    let mut scan = full(&[
        obs("a.mov", 10, 1),
        obs("b.mov", 10, 1),
        obs("c.mov", 10, 1),
    ]);
    assert!(r.observe(&scan, t0 + secs(1), &mut opens).is_empty());

    // Next: `a` and `b` are listed unchanged, `c` is not listed any more.
    let plan = r.plan(u32::MAX);
    let listed = ["a.mov", "b.mov"]
        .iter()
        .enumerate()
        .filter(|(i, name)| plan.listed(name, *i as u64 + 1) == Listed::Unchanged)
        .count();
    // (With 4 billion turns, neither is due for a stat on this plan.)
    assert_eq!(listed, 2);
    scan.files.clear();
    scan.unchanged = listed;
    scan.generation = Some(plan.generation());
    let changes = r.observe(&scan, t0 + secs(2), &mut opens);
    assert_eq!(changes, vec![Change::Gone("c.mov".into())]);
    assert!(r.is_ready("a.mov") && r.is_ready("b.mov"));
}

#[test]
fn a_stat_showing_the_ready_version_is_seen_without_being_reported() {
    use crate::scan::Known;
    let t0 = Instant::now();
    let mut r = Readiness::new(WINDOW);
    r.settle(obs("a.mov", 10, 1), t0);
    r.observe(&targeted(&["p.mov"], &[obs("p.mov", 5, 1)]), t0, &mut opens);
    let plan = r.plan(1);
    assert!(plan.unchanged_version("a.mov", 10, 1));
    assert!(!plan.unchanged_version("a.mov", 11, 1), "a new size");
    assert!(!plan.unchanged_version("a.mov", 10, 2), "a new mtime");
    assert!(!plan.unchanged_version("p.mov", 5, 1), "pending: reported");
    assert!(!plan.unchanged_version("new.mov", 1, 1));
    let mut scan = full(&[obs("p.mov", 5, 1)]);
    scan.unchanged = 1;
    scan.generation = Some(plan.generation());
    // `a` was seen through the plan: not gone.
    assert!(r.observe(&scan, t0 + secs(1), &mut opens).is_empty());
    assert!(r.is_ready("a.mov"));
}
