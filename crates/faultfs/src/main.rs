//! `postflow-faultfs SOURCE MOUNTPOINT`: SOURCE, read-only, through FUSE at
//! MOUNTPOINT, with read faults on demand. Test only, never shipped.
//!
//! It stands in for a LucidLink filespace: a FUSE mount whose reads can
//! fail with EIO (the cache full, the network gone, a file evicted
//! mid-read) and which can vanish (`fusermount3 -u MOUNTPOINT`; this
//! process then exits). Files written into SOURCE raise no inotify events
//! at MOUNTPOINT, as files written by other workstations raise none on
//! LucidLink.
//!
//! Faults are asked for on stdin, one command per line, each answered
//! `ok` on stdout once in force:
//! - `eio NAME COUNT AFTER`: the next COUNT reads of files named NAME that
//!   start at or beyond byte AFTER fail with EIO;
//! - `clear`: no more faults.
//!
//! Every read reaches this process (direct I/O: no page cache), so a fault
//! asked for hits the next read of the file.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::File;
use std::io::BufRead;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fuser::{
    FileAttr, FileType, Filesystem, MountOption, ReplyAttr, ReplyData, ReplyDirectory, ReplyEmpty,
    ReplyEntry, ReplyOpen, Request,
};

/// Attributes and names are cached this long by the kernel: short, so that
/// a file growing in SOURCE (a render being written) is seen growing.
const TTL: Duration = Duration::from_millis(200);

#[derive(Default)]
struct Faults {
    /// name -> (reads left to fail, from this offset on)
    eio: HashMap<String, (u32, u64)>,
    injected: u64,
}

struct FaultFs {
    source: PathBuf,
    /// inode -> path relative to SOURCE ("" is the root, inode 1)
    paths: HashMap<u64, PathBuf>,
    inodes: HashMap<PathBuf, u64>,
    next_inode: u64,
    open: HashMap<u64, (File, String)>,
    next_fh: u64,
    faults: Arc<Mutex<Faults>>,
}

impl FaultFs {
    fn inode(&mut self, rel: &Path) -> u64 {
        if let Some(ino) = self.inodes.get(rel) {
            return *ino;
        }
        let ino = self.next_inode;
        self.next_inode += 1;
        self.inodes.insert(rel.to_owned(), ino);
        self.paths.insert(ino, rel.to_owned());
        ino
    }

    fn attr(&self, ino: u64, meta: &std::fs::Metadata) -> FileAttr {
        let time = |secs: i64, nsecs: i64| {
            if secs >= 0 {
                UNIX_EPOCH + Duration::new(secs as u64, nsecs as u32)
            } else {
                UNIX_EPOCH
            }
        };
        FileAttr {
            ino,
            size: meta.len(),
            blocks: meta.blocks(),
            atime: time(meta.atime(), meta.atime_nsec()),
            mtime: time(meta.mtime(), meta.mtime_nsec()),
            ctime: time(meta.ctime(), meta.ctime_nsec()),
            crtime: SystemTime::UNIX_EPOCH,
            kind: if meta.is_dir() {
                FileType::Directory
            } else {
                FileType::RegularFile
            },
            // Read-only: what the mount shows is what PostFlow may do.
            perm: (meta.mode() & 0o555) as u16,
            nlink: meta.nlink() as u32,
            uid: meta.uid(),
            gid: meta.gid(),
            rdev: 0,
            blksize: 4096,
            flags: 0,
        }
    }

    fn real(&self, ino: u64) -> Option<PathBuf> {
        self.paths.get(&ino).map(|rel| self.source.join(rel))
    }
}

fn errno(e: &std::io::Error) -> i32 {
    e.raw_os_error().unwrap_or(libc::EIO)
}

impl Filesystem for FaultFs {
    fn lookup(&mut self, _req: &Request<'_>, parent: u64, name: &OsStr, reply: ReplyEntry) {
        let Some(dir) = self.paths.get(&parent).cloned() else {
            return reply.error(libc::ENOENT);
        };
        let rel = dir.join(name);
        match std::fs::symlink_metadata(self.source.join(&rel)) {
            Ok(meta) if meta.is_dir() || meta.is_file() => {
                let ino = self.inode(&rel);
                reply.entry(&TTL, &self.attr(ino, &meta), 0);
            }
            Ok(_) => reply.error(libc::ENOENT),
            Err(e) => reply.error(errno(&e)),
        }
    }

    fn getattr(&mut self, _req: &Request<'_>, ino: u64, _fh: Option<u64>, reply: ReplyAttr) {
        let Some(path) = self.real(ino) else {
            return reply.error(libc::ENOENT);
        };
        match std::fs::symlink_metadata(path) {
            Ok(meta) => reply.attr(&TTL, &self.attr(ino, &meta)),
            Err(e) => reply.error(errno(&e)),
        }
    }

    fn readdir(
        &mut self,
        _req: &Request<'_>,
        ino: u64,
        _fh: u64,
        offset: i64,
        mut reply: ReplyDirectory,
    ) {
        let Some(dir) = self.paths.get(&ino).cloned() else {
            return reply.error(libc::ENOENT);
        };
        let entries = match std::fs::read_dir(self.source.join(&dir)) {
            Ok(entries) => entries,
            Err(e) => return reply.error(errno(&e)),
        };
        let mut listed: Vec<(u64, FileType, std::ffi::OsString)> = vec![
            (ino, FileType::Directory, ".".into()),
            (1, FileType::Directory, "..".into()),
        ];
        let mut names: Vec<_> = entries.filter_map(Result::ok).collect();
        names.sort_by_key(|e| e.file_name());
        for entry in names {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let kind = if kind.is_dir() {
                FileType::Directory
            } else if kind.is_file() {
                FileType::RegularFile
            } else {
                continue;
            };
            let child = self.inode(&dir.join(entry.file_name()));
            listed.push((child, kind, entry.file_name()));
        }
        for (i, (child, kind, name)) in listed.into_iter().enumerate().skip(offset as usize) {
            if reply.add(child, (i + 1) as i64, kind, name) {
                break;
            }
        }
        reply.ok();
    }

    fn open(&mut self, _req: &Request<'_>, ino: u64, flags: i32, reply: ReplyOpen) {
        if flags & libc::O_ACCMODE != libc::O_RDONLY {
            return reply.error(libc::EROFS);
        }
        let Some(path) = self.real(ino) else {
            return reply.error(libc::ENOENT);
        };
        match File::open(&path) {
            Ok(file) => {
                let fh = self.next_fh;
                self.next_fh += 1;
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                self.open.insert(fh, (file, name));
                reply.opened(fh, fuser::consts::FOPEN_DIRECT_IO);
            }
            Err(e) => reply.error(errno(&e)),
        }
    }

    fn read(
        &mut self,
        _req: &Request<'_>,
        _ino: u64,
        fh: u64,
        offset: i64,
        size: u32,
        _flags: i32,
        _lock_owner: Option<u64>,
        reply: ReplyData,
    ) {
        let Some((file, name)) = self.open.get(&fh) else {
            return reply.error(libc::EBADF);
        };
        let offset = offset.max(0) as u64;
        {
            let mut faults = self.faults.lock().unwrap();
            let hit = match faults.eio.get_mut(name) {
                Some((left, after)) if *left > 0 && offset >= *after => {
                    *left -= 1;
                    true
                }
                _ => false,
            };
            if hit {
                faults.injected += 1;
                eprintln!("faultfs: EIO on {name} at byte {offset}");
                return reply.error(libc::EIO);
            }
        }
        let mut buf = vec![0; size as usize];
        let mut filled = 0;
        while filled < buf.len() {
            match file.read_at(&mut buf[filled..], offset + filled as u64) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return reply.error(errno(&e)),
            }
        }
        reply.data(&buf[..filled]);
    }

    fn release(
        &mut self,
        _req: &Request<'_>,
        _ino: u64,
        fh: u64,
        _flags: i32,
        _lock_owner: Option<u64>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        self.open.remove(&fh);
        reply.ok();
    }
}

fn main() {
    let mut args = std::env::args_os().skip(1);
    let (Some(source), Some(mountpoint)) = (args.next(), args.next()) else {
        eprintln!("usage: postflow-faultfs SOURCE MOUNTPOINT");
        std::process::exit(2);
    };
    let source = PathBuf::from(source);
    let faults: Arc<Mutex<Faults>> = Arc::default();
    let mut fs = FaultFs {
        source,
        paths: HashMap::new(),
        inodes: HashMap::new(),
        next_inode: 2,
        open: HashMap::new(),
        next_fh: 1,
        faults: faults.clone(),
    };
    fs.paths.insert(1, PathBuf::new());
    fs.inodes.insert(PathBuf::new(), 1);

    // Commands on stdin, answered on stdout.
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            let words: Vec<&str> = line.split_whitespace().collect();
            let mut f = faults.lock().unwrap();
            match words.as_slice() {
                ["eio", name, count, after] => {
                    let (Ok(count), Ok(after)) = (count.parse(), after.parse()) else {
                        println!("error: eio NAME COUNT AFTER");
                        continue;
                    };
                    f.eio.insert((*name).to_string(), (count, after));
                }
                ["clear"] => f.eio.clear(),
                ["injected"] => {
                    println!("{}", f.injected);
                    continue;
                }
                _ => {
                    println!("error: unknown command {line:?}");
                    continue;
                }
            }
            println!("ok");
        }
    });

    let options = [
        MountOption::RO,
        MountOption::FSName("postflow-faultfs".into()),
        MountOption::DefaultPermissions,
    ];
    if let Err(e) = fuser::mount2(fs, &mountpoint, &options) {
        eprintln!(
            "postflow-faultfs: cannot mount at {}: {e} (is fuse3 installed and /dev/fuse there?)",
            Path::new(&mountpoint).display()
        );
        std::process::exit(1);
    }
}
