use super::*;

fn queue() -> (tempfile::TempDir, Queue) {
    let dir = tempfile::tempdir().unwrap();
    let q = Queue::open(&dir.path().join("queue.sqlite")).unwrap();
    (dir, q)
}

fn candidate(path: &str, size: u64, mtime: i64) -> Candidate {
    Candidate {
        rel_path: path.into(),
        root: None,
        size,
        mtime_ns: mtime,
        shot: Some(ShotRef {
            scene: "SC01".into(),
            shot: "UNDLM_00412".into(),
            version: "V002".into(),
        }),
    }
}

#[test]
fn a_candidate_is_recorded_once_and_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/queue.sqlite");
    let id = {
        let q = Queue::open(&path).unwrap();
        let first = q
            .record_candidate(&candidate("SC01/SC01_UNDLM_00412_V002.mov", 10, 1))
            .unwrap();
        let again = q
            .record_candidate(&candidate("SC01/SC01_UNDLM_00412_V002.mov", 10, 1))
            .unwrap();
        assert!(matches!(first, Recorded::New(_)));
        assert_eq!(again, Recorded::Known(first.id()));
        first.id()
    };
    let q = Queue::open(&path).unwrap();
    let item = q.get(id).unwrap().unwrap();
    assert_eq!(item.file_name, "SC01_UNDLM_00412_V002.mov");
    assert_eq!(item.status, Status::WaitingForStability);
    assert_eq!(item.shot.unwrap().scene, "SC01");
    let mode: String = q
        .conn()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn a_render_still_being_written_stays_one_item() {
    let (_d, q) = queue();
    let id = q.record_candidate(&candidate("a.mov", 10, 1)).unwrap().id();
    for (size, mtime) in [(20, 2), (30, 3), (4000, 4)] {
        assert_eq!(
            q.record_candidate(&candidate("a.mov", size, mtime))
                .unwrap(),
            Recorded::Known(id)
        );
    }
    let item = q.get(id).unwrap().unwrap();
    assert_eq!((item.size, item.mtime_ns), (4000, 4));
    assert_eq!(q.counts().unwrap().values().sum::<u64>(), 1, "one row");
}

#[test]
fn a_file_that_changes_once_queued_supersedes_its_older_record() {
    let (_d, q) = queue();
    let old = q.record_candidate(&candidate("a.mov", 10, 1)).unwrap().id();
    q.transition(old, StatusKind::WaitingForStability, Status::Queued)
        .unwrap();
    let new = q.record_candidate(&candidate("a.mov", 20, 2)).unwrap().id();
    assert_ne!(old, new);
    assert!(matches!(
        q.get(old).unwrap().unwrap().status,
        Status::Cancelled { .. }
    ));
    assert_eq!(
        q.get(new).unwrap().unwrap().status,
        Status::WaitingForStability
    );
}

#[test]
fn transitions_follow_the_lifecycle_and_are_checked() {
    let (_d, q) = queue();
    let id = q
        .record_candidate(&candidate("a.mov", 1000, 1))
        .unwrap()
        .id();
    q.transition(id, StatusKind::WaitingForStability, Status::Queued)
        .unwrap();
    // Not allowed: queued straight to done.
    let err = q
        .transition(
            id,
            StatusKind::Queued,
            Status::Done {
                file_id: "f".into(),
                view_url: None,
            },
        )
        .unwrap_err();
    assert!(matches!(err, Error::Transition { .. }), "{err}");
    // A stale expectation is a conflict, not a silent overwrite.
    let err = q
        .transition(id, StatusKind::Uploading, Status::Queued)
        .unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err}");

    q.transition(id, StatusKind::Queued, Status::PreparingFolders)
        .unwrap();
    for sent in [100, 500, 1000] {
        q.transition(
            id,
            if sent == 100 {
                StatusKind::PreparingFolders
            } else {
                StatusKind::Uploading
            },
            Status::Uploading {
                folder_id: "d".into(),
                requested_at: 1,
                session: None,
                parts_done: vec![0],
                bytes_sent: sent,
            },
        )
        .unwrap();
    }
    q.transition(
        id,
        StatusKind::Uploading,
        Status::Verifying {
            folder_id: "d".into(),
            file_id: "f".into(),
        },
    )
    .unwrap();
    q.transition(
        id,
        StatusKind::Verifying,
        Status::Notifying {
            rerender: false,
            file_id: "f".into(),
            view_url: Some("v".into()),
            stacked_onto: None,
        },
    )
    .unwrap();
    let done = q
        .transition(
            id,
            StatusKind::Notifying,
            Status::Done {
                file_id: "f".into(),
                view_url: Some("v".into()),
            },
        )
        .unwrap();
    assert!(done.started_at.is_some() && done.finished_at.is_some());
    // Done is final.
    assert!(q.retry(id).is_err());

    let history: Vec<StatusKind> = q
        .transitions(id)
        .unwrap()
        .into_iter()
        .map(|(_, s)| s.kind())
        .collect();
    use StatusKind::*;
    assert_eq!(
        history,
        [
            WaitingForStability,
            Queued,
            PreparingFolders,
            Uploading,
            Verifying,
            Notifying,
            Done
        ],
        "progress updates are not history"
    );
}

#[test]
fn failed_items_are_due_at_their_retry_time_unless_they_need_action() {
    let (_d, q) = queue();
    let a = q.record_candidate(&candidate("a.mov", 1, 1)).unwrap().id();
    let b = q.record_candidate(&candidate("b.mov", 1, 1)).unwrap().id();
    let c = q.record_candidate(&candidate("c.mov", 1, 1)).unwrap().id();
    for (id, at, needs_action) in [(a, 1_000, false), (b, 5_000, false), (c, 0, true)] {
        q.transition(id, StatusKind::WaitingForStability, Status::Queued)
            .unwrap();
        q.transition(
            id,
            StatusKind::Queued,
            Status::Failed {
                reason: "x".into(),
                next_retry_at: Some(at),
                needs_action,
            },
        )
        .unwrap();
    }
    let due: Vec<i64> = q
        .due(2_000, 10)
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(due, [a]);
    assert_eq!(q.get(a).unwrap().unwrap().attempts, 1);
    // The health's count of errors, alone or in the whole summary.
    assert_eq!(q.errors_since(0).unwrap(), 3);
    assert_eq!(q.summary_since(0).unwrap().errors, 3);
    assert_eq!(q.errors_since(now_ms() + 60_000).unwrap(), 0);
    assert_eq!(q.retry_all_failed().unwrap(), 3);
    assert_eq!(q.counts().unwrap().get(&StatusKind::Queued), Some(&3));
}

#[test]
fn history_by_shot_and_the_summary_count_what_happened() {
    let (_d, q) = queue();
    let start = now_ms();
    for (i, version) in ["V001", "V002"].iter().enumerate() {
        let mut c = candidate(
            &format!("SC01_UNDLM_00412_{version}.mov"),
            1_000_000,
            i as i64,
        );
        c.shot.as_mut().unwrap().version = version.to_string();
        let id = q.record_candidate(&c).unwrap().id();
        q.transition(id, StatusKind::WaitingForStability, Status::Queued)
            .unwrap();
        q.transition(id, StatusKind::Queued, Status::PreparingFolders)
            .unwrap();
        q.transition(
            id,
            StatusKind::PreparingFolders,
            Status::AlreadyInFrameio {
                file_id: "x".into(),
            },
        )
        .unwrap();
    }
    let other = q
        .record_candidate(&candidate("elsewhere.mov", 5, 5))
        .unwrap()
        .id();
    q.transition(
        other,
        StatusKind::WaitingForStability,
        Status::Held {
            reason: "unrecognized".into(),
        },
    )
    .unwrap();

    let history = q.shot_history("SC01", "UNDLM_00412").unwrap();
    // `elsewhere.mov` shares the test's default shot too.
    assert_eq!(history.len(), 3);
    let summary = q.summary_since(start).unwrap();
    assert_eq!(summary.processed, 3);
    assert_eq!(summary.uploads_done, 0);
    assert_eq!(summary.errors, 0);
}

#[test]
fn throughput_is_derived_from_the_upload_times() {
    let item = Item {
        id: 1,
        rel_path: "a".into(),
        root: None,
        file_name: "a".into(),
        size: 10_000_000,
        mtime_ns: 0,
        shot: None,
        status: Status::Done {
            file_id: "f".into(),
            view_url: None,
        },
        attempts: 0,
        created_at: 0,
        updated_at: 0,
        started_at: Some(1_000),
        finished_at: Some(3_000),
    };
    assert_eq!(item.throughput(), Some(5_000_000.0));
}

#[test]
fn the_folder_cache_and_service_state_persist() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.sqlite");
    {
        let q = Queue::open(&path).unwrap();
        q.folder_put("root/scenes/sc01", "folder-1");
        q.folder_put("root/scenes/sc01/shot_1", "folder-2");
        q.folder_put("root/scenes/sc01_x", "folder-3");
        q.set_state("paused", "true").unwrap();
    }
    let q = Queue::open(&path).unwrap();
    assert_eq!(
        q.folder_get("root/scenes/sc01").as_deref(),
        Some("folder-1")
    );
    q.folder_forget("root/scenes/sc01");
    assert_eq!(q.folder_get("root/scenes/sc01"), None);
    assert_eq!(
        q.folder_get("root/scenes/sc01/shot_1"),
        None,
        "and below it"
    );
    assert_eq!(
        q.folder_get("root/scenes/sc01_x").as_deref(),
        Some("folder-3"),
        "a sibling whose name starts alike is kept (no LIKE wildcards)"
    );
    assert_eq!(q.state("paused").unwrap().as_deref(), Some("true"));
}

#[test]
fn a_database_from_a_newer_postflow_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.sqlite");
    drop(Queue::open(&path).unwrap());
    let conn = Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let err = Queue::open(&path).err().expect("refused");
    assert!(matches!(err, Error::Migrate(_)), "{err}");
}

#[test]
fn the_transition_table_allows_only_the_lifecycle() {
    use StatusKind::*;
    assert!(Queued.can_become(PreparingFolders));
    assert!(Uploading.can_become(Uploading));
    assert!(
        Uploading.can_become(Queued),
        "changed during upload: sent again whole"
    );
    assert!(Failed.can_become(Queued));
    assert!(!Done.can_become(Queued));
    assert!(!Done.can_become(Failed));
    assert!(!WaitingForStability.can_become(Uploading));
    for k in StatusKind::ALL {
        assert_eq!(StatusKind::parse(k.as_str()), Some(k));
        assert!(k.is_final() || k.can_become(Cancelled));
    }
}

#[test]
fn another_connection_reads_the_live_queue() {
    // `postflow status` and the UI read while the service writes.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.sqlite");
    let writer = Queue::open(&path).unwrap();
    let reader = Queue::open(&path).unwrap();
    let id = writer
        .record_candidate(&candidate("a.mov", 1, 1))
        .unwrap()
        .id();
    writer
        .transition(id, StatusKind::WaitingForStability, Status::Queued)
        .unwrap();
    assert_eq!(reader.counts().unwrap().get(&StatusKind::Queued), Some(&1));
    assert_eq!(reader.get(id).unwrap().unwrap().status, Status::Queued);
}

#[test]
fn versions_lists_path_size_and_mtime_by_status() {
    let (_d, q) = queue();
    let a = q.record_candidate(&candidate("a.mov", 10, 1)).unwrap().id();
    q.record_candidate(&candidate("b.mov", 20, 2)).unwrap();
    q.transition(
        a,
        StatusKind::WaitingForStability,
        Status::Held { reason: "x".into() },
    )
    .unwrap();
    assert_eq!(
        q.versions(&[StatusKind::Held]).unwrap(),
        [("a.mov".to_string(), 10, 1)]
    );
    assert_eq!(
        q.versions(&[StatusKind::WaitingForStability])
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn a_notice_is_stored_once_per_key_and_stays_pending_until_sent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queue.sqlite");
    {
        let q = Queue::open(&path).unwrap();
        assert!(q
            .enqueue_notice("discord", "uploaded:1", "{\"a\":1}")
            .unwrap());
        // A replayed step (after a crash) does not store it twice.
        assert!(!q
            .enqueue_notice("discord", "uploaded:1", "{\"a\":1}")
            .unwrap());
        assert!(q
            .enqueue_notice("discord", "uploaded:2", "{\"a\":2}")
            .unwrap());
        // Another channel has its own keys.
        assert!(q.enqueue_notice("other", "uploaded:1", "{}").unwrap());
        let first = &q.pending_notices("discord", 10).unwrap()[0];
        q.note_notice_failure(&[first.id], "Discord unavailable (HTTP 503)")
            .unwrap();
    }
    // Pending notices survive a restart, oldest first, failures noted.
    let q = Queue::open(&path).unwrap();
    let pending = q.pending_notices("discord", 10).unwrap();
    let keys: Vec<_> = pending.iter().map(|n| n.key.as_str()).collect();
    assert_eq!(keys, ["uploaded:1", "uploaded:2"]);
    assert_eq!(pending[0].attempts, 1);
    assert_eq!(pending[0].payload, "{\"a\":1}");
    let summary = q.outbox_summary("discord").unwrap();
    assert_eq!(summary.pending, 2);
    assert_eq!(
        summary.last_error.as_deref(),
        Some("Discord unavailable (HTTP 503)")
    );

    q.mark_notices_sent(&[pending[0].id]).unwrap();
    let keys: Vec<_> = q
        .pending_notices("discord", 10)
        .unwrap()
        .into_iter()
        .map(|n| n.key)
        .collect();
    assert_eq!(keys, ["uploaded:2"]);
    // A sent notice is not stored again either.
    assert!(!q.enqueue_notice("discord", "uploaded:1", "{}").unwrap());
    let summary = q.outbox_summary("discord").unwrap();
    assert_eq!((summary.pending, summary.sent), (1, 1));
    // Set aside: no longer pending, still counted.
    q.give_up_notices(&[pending[1].id], "HTTP 400").unwrap();
    assert!(q.pending_notices("discord", 10).unwrap().is_empty());
    let summary = q.outbox_summary("discord").unwrap();
    assert_eq!((summary.pending, summary.given_up), (0, 1));
    assert!(summary.last_sent_at.is_some());
    assert_eq!(summary.last_error, None);
}

#[test]
fn state_or_insert_keeps_the_first_value_until_cleared() {
    let (_d, q) = queue();
    assert_eq!(q.state_or_insert("since", "1").unwrap(), "1");
    assert_eq!(q.state_or_insert("since", "2").unwrap(), "1");
    q.clear_state("since").unwrap();
    assert_eq!(q.state("since").unwrap(), None);
    assert_eq!(q.state_or_insert("since", "3").unwrap(), "3");
}

/// The service starting while `postflow status` looks: several processes
/// (here threads with their own connections) open one new database at the
/// same moment; every one of them must get a working queue.
#[test]
fn a_new_database_opened_by_several_at_once_works_for_all() {
    for round in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.sqlite");
        let start = std::sync::Arc::new(std::sync::Barrier::new(4));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let (path, start) = (path.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    Queue::open(&path).map(|q| q.counts().is_ok())
                })
            })
            .collect();
        for h in handles {
            match h.join().unwrap() {
                Ok(ok) => assert!(ok),
                Err(e) => panic!("round {round}: {e}"),
            }
        }
    }
}

#[test]
fn pages_come_in_board_order_and_search_treats_wildcards_as_text() {
    let (_dir, q) = queue();
    let shot = |scene: &str, shot: &str, version: &str| {
        Some(ShotRef {
            scene: scene.into(),
            shot: shot.into(),
            version: version.into(),
        })
    };
    for (path, s) in [
        ("SC02_B_V001.mov", shot("SC02", "B", "V001")),
        ("SC01_A_V002.mov", shot("SC01", "A", "V002")),
        ("odd name.mov", None),
        ("SC01_A_V001.mov", shot("SC01", "A", "V001")),
        ("SC01%A_V001.mov", shot("SC01", "Z", "V001")),
    ] {
        q.record_candidate(&Candidate {
            rel_path: path.into(),
            root: None,
            size: 1,
            mtime_ns: 1,
            shot: s,
        })
        .unwrap();
    }
    let all = [StatusKind::WaitingForStability];
    let (items, total) = q.page(&all, None, None, 0, 10).unwrap();
    let names: Vec<&str> = items.iter().map(|i| i.rel_path.as_str()).collect();
    assert_eq!(total, 5);
    assert_eq!(
        names,
        [
            "odd name.mov",
            "SC01_A_V001.mov",
            "SC01_A_V002.mov",
            "SC01%A_V001.mov",
            "SC02_B_V001.mov"
        ]
    );
    let (items, total) = q.page(&all, None, None, 1, 2).unwrap();
    assert_eq!((items.len(), total), (2, 5));
    assert_eq!(items[0].rel_path, "SC01_A_V001.mov");
    let (items, total) = q.page(&all, Some("sc01_a"), None, 0, 10).unwrap();
    assert_eq!(total, 2, "`_` is a plain character: {items:?}");
    let (items, _) = q.page(&all, Some("%"), None, 0, 10).unwrap();
    assert_eq!(items.len(), 1, "`%` is a plain character");
    let (_, total) = q.page(&[StatusKind::Done], None, None, 0, 10).unwrap();
    assert_eq!(total, 0);
    // Only what changed since a moment: one item moved after it.
    std::thread::sleep(std::time::Duration::from_millis(5));
    let since = now_ms();
    let moved = items[0].id;
    q.transition(moved, StatusKind::WaitingForStability, Status::Queued)
        .unwrap();
    let (changed, total) = q.page(&StatusKind::ALL, None, Some(since), 0, 10).unwrap();
    assert_eq!((total, changed[0].id), (1, moved));
}

#[test]
fn an_item_is_read_from_the_folder_it_was_found_in_while_that_has_it() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (dir.path().join("OLD"), dir.path().join("NEW"));
    std::fs::create_dir_all(old.join("SC01")).unwrap();
    std::fs::create_dir_all(&new).unwrap();
    std::fs::write(old.join("SC01/a.mov"), b"x").unwrap();
    let mut item = Item {
        id: 1,
        rel_path: "SC01/a.mov".into(),
        root: Some(old.display().to_string()),
        file_name: "a.mov".into(),
        size: 1,
        mtime_ns: 0,
        shot: None,
        status: Status::Queued,
        attempts: 0,
        created_at: 0,
        updated_at: 0,
        started_at: None,
        finished_at: None,
    };
    // Another folder chosen since: still read where it was found.
    assert_eq!(item.local_path(&new), old.join("SC01").join("a.mov"));
    // The same filespace mounted elsewhere (the old path is gone).
    std::fs::remove_dir_all(&old).unwrap();
    assert_eq!(item.local_path(&new), new.join("SC01").join("a.mov"));
    // Found before roots were kept.
    item.root = None;
    assert_eq!(item.source_root(&new), new);
}
