//! The tracked files, by folder then name.
//!
//! A rescan lists a folder's files one after the other and looks each up:
//! with one map per folder those lookups stay within one small table
//! instead of jumping across a table of 100,000 paths (cache misses were a
//! quarter of an idle rescan's CPU, `docs/benchmarks.md`). foldhash: SipHash's
//! DoS resistance buys nothing for names on our own filespace.

use std::collections::HashMap;
use std::fmt;
use std::hash::BuildHasher;

use super::Tracked;

type Hasher = foldhash::fast::RandomState;
type Folder = HashMap<Box<str>, Tracked, Hasher>;

#[derive(Debug, Clone, Default)]
pub(super) struct Files {
    folders: HashMap<Box<str>, Folder, Hasher>,
    len: usize,
}

/// A tracked file's path, as its folder and its name.
#[derive(Debug, Clone, Copy)]
pub(super) struct FilePath<'a> {
    dir: &'a str,
    name: &'a str,
}

impl fmt::Display for FilePath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.dir.is_empty() {
            f.write_str(self.name)
        } else {
            write!(f, "{}/{}", self.dir, self.name)
        }
    }
}

fn split(rel_path: &str) -> (&str, &str) {
    rel_path.rsplit_once('/').unwrap_or(("", rel_path))
}

impl Files {
    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn get(&self, rel_path: &str) -> Option<&Tracked> {
        let (dir, name) = split(rel_path);
        self.folders.get(dir)?.get(name)
    }

    pub(super) fn get_mut(&mut self, rel_path: &str) -> Option<&mut Tracked> {
        let (dir, name) = split(rel_path);
        self.folders.get_mut(dir)?.get_mut(name)
    }

    pub(super) fn contains_key(&self, rel_path: &str) -> bool {
        self.get(rel_path).is_some()
    }

    pub(super) fn insert(&mut self, rel_path: &str, tracked: Tracked) {
        let (dir, name) = split(rel_path);
        if !self.folders.contains_key(dir) {
            self.folders.insert(dir.into(), Folder::default());
        }
        let folder = self.folders.get_mut(dir).expect("just inserted");
        if folder.insert(name.into(), tracked).is_none() {
            self.len += 1;
        }
    }

    pub(super) fn remove(&mut self, rel_path: &str) {
        let (dir, name) = split(rel_path);
        if let Some(folder) = self.folders.get_mut(dir) {
            if folder.remove(name).is_some() {
                self.len -= 1;
            }
            if folder.is_empty() {
                self.folders.remove(dir);
            }
        }
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (FilePath<'_>, &Tracked)> {
        self.folders.iter().flat_map(|(dir, folder)| {
            folder
                .iter()
                .map(move |(name, t)| (FilePath { dir, name }, t))
        })
    }

    pub(super) fn iter_mut(&mut self) -> impl Iterator<Item = (FilePath<'_>, &mut Tracked)> {
        self.folders.iter_mut().flat_map(|(dir, folder)| {
            folder
                .iter_mut()
                .map(move |(name, t)| (FilePath { dir, name }, t))
        })
    }

    pub(super) fn values(&self) -> impl Iterator<Item = &Tracked> {
        self.folders.values().flat_map(|folder| folder.values())
    }

    /// A hash of `rel_path` that stays the same for the tracker's life.
    pub(super) fn hash_one(&self, rel_path: &str) -> u64 {
        self.folders.hasher().hash_one(rel_path)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::super::{State, Tracked};
    use super::*;
    use crate::scan::Observation;

    fn tracked(size: u64) -> Tracked {
        let now = Instant::now();
        let obs = Observation {
            rel_path: String::new(),
            size,
            mtime_ns: 1,
        };
        Tracked::first_seen(&obs, State::Pending, now, now, 0)
    }

    #[test]
    fn files_are_found_by_path_wherever_they_are_and_counted_once() {
        let mut files = Files::default();
        for (path, size) in [("a.mov", 1), ("SC01/b.mov", 2), ("SC01/S1/c.mov", 3)] {
            files.insert(path, tracked(size));
        }
        files.insert("SC01/b.mov", tracked(20));
        assert_eq!(files.len(), 3);
        assert_eq!(files.get("SC01/b.mov").map(|t| t.size), Some(20));
        assert!(files.get("b.mov").is_none() && files.get("SC01/S1").is_none());
        let mut paths: Vec<String> = files.iter().map(|(p, _)| p.to_string()).collect();
        paths.sort();
        assert_eq!(paths, ["SC01/S1/c.mov", "SC01/b.mov", "a.mov"]);

        files.remove("SC01/S1/c.mov");
        files.remove("SC01/S1/c.mov");
        files.remove("nowhere/x.mov");
        assert_eq!(files.len(), 2);
        assert!(!files.contains_key("SC01/S1/c.mov"));
        assert_eq!(files.folders.len(), 2, "an emptied folder is dropped");
    }
}
