//! Benchmark setup for `scripts/bench-service.sh`: records every render
//! under ROOT in the queue at DATA_DIR as already in Frame.io, through the
//! queue's own API, so `postflow run` then idles over a large settled tree
//! as it would after uploading it all.
//!
//! `seed_settled DATA_DIR ROOT`

use std::time::Instant;

use postflow_nomenclature::{Classification, Nomenclature};
use postflow_queue::{Candidate, Queue, ShotRef, Status, StatusKind};

fn main() {
    let mut args = std::env::args().skip(1);
    let (data, root) = match (args.next(), args.next()) {
        (Some(d), Some(r)) => (std::path::PathBuf::from(d), std::path::PathBuf::from(r)),
        _ => {
            eprintln!("usage: seed_settled DATA_DIR ROOT");
            std::process::exit(2);
        }
    };
    let started = Instant::now();
    let nomenclature = Nomenclature::default();
    let scan = postflow_watcher::scan(&root, &nomenclature).expect("root readable");
    let queue = Queue::open(&data.join(postflow_service::QUEUE_FILE)).expect("queue");
    for o in &scan.files {
        let shot = match nomenclature.classify(&o.rel_path) {
            Classification::Parsed(p) => Some(ShotRef {
                scene: p.scene,
                shot: p.shot,
                version: p.version,
            }),
            _ => None,
        };
        let id = queue
            .record_candidate(&Candidate {
                rel_path: o.rel_path.clone(),
                root: None,
                size: o.size,
                mtime_ns: o.mtime_ns,
                shot,
            })
            .expect("record")
            .id();
        queue
            .transition(id, StatusKind::WaitingForStability, Status::Queued)
            .expect("queue");
        queue
            .transition(id, StatusKind::Queued, Status::PreparingFolders)
            .expect("prepare");
        queue
            .transition(
                id,
                StatusKind::PreparingFolders,
                Status::AlreadyInFrameio {
                    file_id: "seeded".into(),
                },
            )
            .expect("settle");
    }
    eprintln!(
        "seeded {} files in {:.1} s",
        scan.files.len(),
        started.elapsed().as_secs_f64()
    );
}
