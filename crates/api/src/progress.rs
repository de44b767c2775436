//! Upload progress for the UIs: the uploader's per-part reports folded per
//! item and per shot, with a speed, published at most [`EVERY`] apart
//! ([`Event::Progress`]): four updates a second at most, whatever the number
//! of parts in flight.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use postflow_core::{Control, Event, ItemProgress, ShotProgress, StatusKind};
use postflow_queue::Queue;

/// The shortest time between two progress events.
pub(crate) const EVERY: Duration = Duration::from_millis(250);
/// Speeds are measured over about this long.
const SPEED_WINDOW: Duration = Duration::from_secs(3);

#[derive(Clone)]
pub(crate) struct Progress {
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    items: HashMap<i64, Live>,
}

struct Live {
    scene: Option<String>,
    shot: Option<String>,
    bytes_sent: u64,
    total_bytes: u64,
    /// (when, bytes) samples over the speed window.
    samples: Vec<(Instant, u64)>,
    changed: bool,
    /// It left the uploading step: reported once more, then forgotten.
    done: bool,
}

impl Live {
    fn speed(&self) -> u64 {
        match (self.samples.first(), self.samples.last()) {
            (Some((t0, b0)), Some((t1, b1))) if t1 > t0 => {
                let secs = t1.duration_since(*t0).as_secs_f64();
                (b1.saturating_sub(*b0) as f64 / secs) as u64
            }
            _ => 0,
        }
    }
}

impl Progress {
    /// Folds `control`'s upload reports until the last clone is dropped.
    pub(crate) fn start(control: Control, queue: Arc<Queue>) -> Progress {
        let progress = Progress {
            state: Arc::default(),
        };
        let state = Arc::downgrade(&progress.state);
        let mut events = control.subscribe();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tokio::select! {
                    event = events.recv() => {
                        let Some(state) = state.upgrade() else { break };
                        match event {
                            Ok(Event::UploadProgress { id, bytes_sent, total_bytes }) => {
                                let mut s = lock(&state);
                                let live = s.items.entry(id).or_insert_with(|| {
                                    let shot = queue.get(id).ok().flatten().and_then(|i| i.shot);
                                    Live {
                                        scene: shot.as_ref().map(|s| s.scene.clone()),
                                        shot: shot.map(|s| s.shot),
                                        bytes_sent: 0,
                                        total_bytes,
                                        samples: Vec::new(),
                                        changed: true,
                                        done: false,
                                    }
                                });
                                let now = Instant::now();
                                live.bytes_sent = bytes_sent;
                                live.total_bytes = total_bytes;
                                live.samples.push((now, bytes_sent));
                                live.samples.retain(|(t, _)| now.duration_since(*t) <= SPEED_WINDOW);
                                live.changed = true;
                                live.done = false;
                            }
                            Ok(Event::ItemStatus { id, status, .. }) if status != StatusKind::Uploading => {
                                let mut s = lock(&state);
                                if let Some(live) = s.items.get_mut(&id) {
                                    // Finished (or left): one last report, then gone.
                                    live.samples.clear();
                                    live.changed = true;
                                    live.done = true;
                                    live.bytes_sent = if status.is_final() || status.is_active() {
                                        live.total_bytes
                                    } else {
                                        live.bytes_sent
                                    };
                                }
                            }
                            Ok(_) => {}
                            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                            Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                        }
                    }
                    _ = tick.tick() => {
                        let Some(state) = state.upgrade() else { break };
                        let event = lock(&state).drain();
                        if let Some(event) = event {
                            control.publish(event);
                        }
                    }
                }
            }
        });
        progress
    }

    /// An item's live progress, if it is uploading.
    pub(crate) fn of(&self, id: i64) -> Option<ItemProgress> {
        let s = lock(&self.state);
        s.items.get(&id).map(|l| ItemProgress {
            id,
            bytes_sent: l.bytes_sent,
            total_bytes: l.total_bytes,
            bytes_per_sec: l.speed(),
        })
    }

    /// (sent, total) bytes over every upload now.
    pub(crate) fn totals(&self) -> (u64, u64) {
        let s = lock(&self.state);
        s.items
            .values()
            .filter(|l| !l.done)
            .fold((0, 0), |(a, b), l| (a + l.bytes_sent, b + l.total_bytes))
    }

    /// Bytes per second over every upload now.
    pub(crate) fn throughput(&self) -> u64 {
        lock(&self.state).items.values().map(Live::speed).sum()
    }
}

impl State {
    /// What changed since the last event, folded per shot; forgets items
    /// that finished.
    fn drain(&mut self) -> Option<Event> {
        if !self.items.values().any(|l| l.changed) {
            return None;
        }
        let items: Vec<ItemProgress> = self
            .items
            .iter()
            .filter(|(_, l)| l.changed)
            .map(|(id, l)| ItemProgress {
                id: *id,
                bytes_sent: l.bytes_sent,
                total_bytes: l.total_bytes,
                bytes_per_sec: l.speed(),
            })
            .collect();
        let mut shots: HashMap<(String, String), ShotProgress> = HashMap::new();
        for l in self.items.values() {
            let (Some(scene), Some(shot)) = (&l.scene, &l.shot) else {
                continue;
            };
            let entry = shots
                .entry((scene.clone(), shot.clone()))
                .or_insert_with(|| ShotProgress {
                    scene: scene.clone(),
                    shot: shot.clone(),
                    bytes_sent: 0,
                    total_bytes: 0,
                    bytes_per_sec: 0,
                });
            entry.bytes_sent += l.bytes_sent;
            entry.total_bytes += l.total_bytes;
            entry.bytes_per_sec += l.speed();
        }
        for l in self.items.values_mut() {
            l.changed = false;
        }
        // Items that left the uploading step are reported once, then gone.
        self.items.retain(|_, l| !l.done);
        let mut shots: Vec<ShotProgress> = shots.into_values().collect();
        shots.sort_by(|a, b| (&a.scene, &a.shot).cmp(&(&b.scene, &b.shot)));
        Some(Event::Progress { items, shots })
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(bytes: u64, total: u64) -> Live {
        Live {
            scene: Some("SC01".into()),
            shot: Some("A".into()),
            bytes_sent: bytes,
            total_bytes: total,
            samples: Vec::new(),
            changed: true,
            done: false,
        }
    }

    #[test]
    fn a_drain_folds_items_into_their_shot_and_says_nothing_twice() {
        let mut s = State::default();
        s.items.insert(1, live(10, 100));
        s.items.insert(2, live(30, 50));
        let Some(Event::Progress { items, shots }) = s.drain() else {
            panic!("progress expected");
        };
        assert_eq!(items.len(), 2);
        assert_eq!(shots.len(), 1);
        assert_eq!((shots[0].bytes_sent, shots[0].total_bytes), (40, 150));
        assert!(s.drain().is_none(), "nothing moved since");
    }
}
