//! The emulator's content checksum, and how parts are cut.
//!
//! The emulator never keeps large uploads: for each part it stores the byte
//! count and the SHA-256 of the bytes. A file's checksum is the hex SHA-256
//! of the concatenation of its parts' raw 32-byte digests, in part order.
//! [`checksum_of_file`] computes the same value from a local file, so a test
//! can compare what arrived byte for byte without either side holding the
//! whole file in memory.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

/// S3's limit on parts per multipart upload. The emulator raises the part
/// size for files that would otherwise need more parts.
pub const MAX_PARTS: u64 = 10_000;

/// The part sizes the emulator hands out for a file of `file_size` bytes
/// with a configured `part_size`: every part `part_size` long but the last,
/// which is shorter (`ceil(file_size / part_size)` parts). A `part_size` of 0
/// counts as 1, and when more than [`MAX_PARTS`] parts would be needed the
/// part size becomes `ceil(file_size / MAX_PARTS)`.
pub fn part_sizes(file_size: u64, part_size: u64) -> Vec<u64> {
    if file_size == 0 {
        return Vec::new();
    }
    let part_size = part_size.max(1).max(file_size.div_ceil(MAX_PARTS));
    // At most MAX_PARTS, so the cast cannot truncate.
    let count = file_size.div_ceil(part_size);
    let mut sizes = vec![part_size; count as usize];
    if let Some(last) = sizes.last_mut() {
        *last = file_size - part_size * (count - 1);
    }
    sizes
}

/// The checksum of a file from its parts' SHA-256 digests, in part order.
pub fn checksum_of_digests<'a>(digests: impl IntoIterator<Item = &'a [u8; 32]>) -> String {
    let mut outer = Sha256::new();
    for digest in digests {
        outer.update(digest);
    }
    hex::encode(outer.finalize())
}

/// The checksum of in-memory content cut into `part_sizes`.
///
/// # Panics
/// When the part sizes do not add up to `data.len()`.
pub fn checksum_of_bytes(data: &[u8], part_sizes: &[u64]) -> String {
    let total: u64 = part_sizes.iter().sum();
    assert_eq!(
        total,
        data.len() as u64,
        "part sizes cover {total} bytes but the data has {}",
        data.len()
    );
    let mut digests = Vec::with_capacity(part_sizes.len());
    let mut rest = data;
    for &size in part_sizes {
        let (part, tail) = rest.split_at(size as usize);
        digests.push(<[u8; 32]>::from(Sha256::digest(part)));
        rest = tail;
    }
    checksum_of_digests(&digests)
}

/// The checksum of the local file at `path` cut into `part_sizes`, read in
/// 1 MiB buffers (bounded memory whatever the file size).
///
/// Fails with `UnexpectedEof` when the file is shorter than the parts, and
/// with `InvalidData` when it is longer.
pub fn checksum_of_file(path: &Path, part_sizes: &[u64]) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut digests = Vec::with_capacity(part_sizes.len());
    for (index, &size) in part_sizes.iter().enumerate() {
        let mut hasher = Sha256::new();
        let mut left = size;
        while left > 0 {
            let want = usize::try_from(left.min(buf.len() as u64)).unwrap_or(buf.len());
            let n = file.read(&mut buf[..want])?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "{} ends inside part {index} ({left} of {size} bytes missing)",
                        path.display()
                    ),
                ));
            }
            hasher.update(&buf[..n]);
            left -= n as u64;
        }
        digests.push(<[u8; 32]>::from(hasher.finalize()));
    }
    if file.read(&mut buf[..1])? != 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{} is longer than its parts ({} bytes)",
                path.display(),
                part_sizes.iter().sum::<u64>()
            ),
        ));
    }
    Ok(checksum_of_digests(&digests))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn parts_are_full_but_the_last() {
        assert_eq!(part_sizes(10, 4), vec![4, 4, 2]);
        assert_eq!(part_sizes(8, 4), vec![4, 4]);
        assert_eq!(part_sizes(3, 4), vec![3]);
        assert_eq!(part_sizes(1, 0), vec![1]);
        assert!(part_sizes(0, 4).is_empty());
    }

    #[test]
    fn huge_files_get_larger_parts() {
        let sizes = part_sizes(5_000_000_000_000, 32 << 20);
        assert_eq!(sizes.len() as u64, MAX_PARTS);
        assert_eq!(sizes.iter().sum::<u64>(), 5_000_000_000_000);
        assert_eq!(sizes[0], 500_000_000);
    }

    #[test]
    fn file_and_bytes_agree() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let sizes = part_sizes(data.len() as u64, 4096);
        let mut tmp = tempfile::NamedTempFile::new().expect("temp file");
        tmp.write_all(&data).expect("write");
        let from_file = checksum_of_file(tmp.path(), &sizes).expect("checksum");
        assert_eq!(from_file, checksum_of_bytes(&data, &sizes));
        // The part cut matters.
        assert_ne!(
            from_file,
            checksum_of_bytes(&data, &part_sizes(data.len() as u64, 1000))
        );
        let short = checksum_of_file(tmp.path(), &[20_000]).expect_err("too short");
        assert_eq!(short.kind(), io::ErrorKind::UnexpectedEof);
        let long = checksum_of_file(tmp.path(), &[100]).expect_err("too long");
        assert_eq!(long.kind(), io::ErrorKind::InvalidData);
    }
}
