//! A persistent, crash-safe, fail-closed OTT nonce store in a JSON file
//! (trust-registry.md §1.6, fixing defect T4 of §1.16).
//!
//! **Why file I/O lives in a sans-IO crate.** This is the one module of
//! `aster-proto` that touches the file system. It is a storage adapter
//! behind the [`NonceStore`] trait, not protocol logic: admission only ever
//! sees the trait, and a runtime may plug in any other backend. It lives
//! here rather than in each runtime because its correctness is
//! security-critical and subtle (durability ordering, fail-closed reads),
//! and it must read and write the reference's file byte for byte; one
//! reviewed copy beats one per runtime. It uses blocking `std::fs` calls:
//! an async runtime should call it from a blocking-capable context
//! (`spawn_blocking`), as the reference runs its file store in an executor.
//! A cargo feature to compile it out was considered and not added: it would
//! only remove ~100 lines that depend on nothing but `std`.
//!
//! **Format.** The reference's `~/.aster/nonces.json`: `{"consumed": [hex,
//! ...]}`, hex sorted, written with Python's default separators
//! (`{"consumed": ["aa", "bb"]}`), so either implementation can take over the
//! other's file.
//!
//! **Durability.** [`FileNonceStore::consume`] writes the whole set to a
//! temporary file next to the target, fsyncs it, renames it over the target
//! and fsyncs the directory, and only then returns `Ok(true)`. A crash at
//! any point leaves either the old or the new file, never a torn one, and a
//! nonce reported consumed survives power loss.
//!
//! **Fail closed.** A file that exists but cannot be read or parsed is an
//! error, at [`FileNonceStore::open`] and forever after; it is never treated
//! as empty (the reference logs "starting fresh", which re-enables every
//! consumed token). A failed write leaves the nonce unconsumed and returns an
//! error, so the admission is denied. Recovery is an operator decision.
//!
//! **Concurrency.** One process and one instance own the file: the set is
//! read once at open and kept in memory, and there is no file lock. Within
//! the process, the caller serialises access (a mutex around the store), as
//! for every [`NonceStore`].
//!
//! **Growth.** The file keeps every nonce ever consumed (the format has no
//! expiry to prune by), about 70 bytes each, and each consumption rewrites it.
//! That is fine for enrollment-rate traffic; a high-volume deployment wants a
//! different backend.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::hex;
use super::nonce::{NonceStore, NonceStoreError};

/// See the [module documentation](self).
#[derive(Debug)]
pub struct FileNonceStore {
    path: PathBuf,
    tmp_path: PathBuf,
    consumed: BTreeSet<[u8; 32]>,
}

impl FileNonceStore {
    /// Opens the store at `path`. A missing file is an empty store (the file
    /// and its directory are created on the first consumption); an
    /// unreadable or malformed one is an error.
    pub fn open(path: impl Into<PathBuf>) -> Result<FileNonceStore, NonceStoreError> {
        let path = path.into();
        let Some(name) = path.file_name() else {
            return Err(io_error(
                &path,
                io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"),
            ));
        };
        let mut tmp_name = name.to_os_string();
        tmp_name.push(".tmp");
        let tmp_path = path.with_file_name(tmp_name);
        let consumed = match fs::read(&path) {
            Ok(bytes) => parse(&path, &bytes)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => BTreeSet::new(),
            Err(e) => return Err(io_error(&path, e)),
        };
        Ok(FileNonceStore {
            path,
            tmp_path,
            consumed,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of consumed nonces.
    pub fn len(&self) -> usize {
        self.consumed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.consumed.is_empty()
    }

    /// Temp file, fsync, rename, directory fsync. Returns which step failed.
    fn write_set(&self, set: &BTreeSet<[u8; 32]>) -> Result<(), (bool, io::Error)> {
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let before_rename = |e| (false, e);
        fs::create_dir_all(&dir).map_err(before_rename)?;
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&self.tmp_path)
            .map_err(before_rename)?;
        file.write_all(render(set).as_bytes())
            .map_err(before_rename)?;
        file.sync_all().map_err(before_rename)?;
        drop(file);
        fs::rename(&self.tmp_path, &self.path).map_err(before_rename)?;
        sync_dir(&dir).map_err(|e| (true, e))
    }
}

impl NonceStore for FileNonceStore {
    fn consume(&mut self, nonce: &[u8; 32]) -> Result<bool, NonceStoreError> {
        if self.consumed.contains(nonce) {
            return Ok(false);
        }
        let mut next = self.consumed.clone();
        next.insert(*nonce);
        match self.write_set(&next) {
            Ok(()) => {
                self.consumed = next;
                Ok(true)
            }
            // The file may already hold the nonce: remember it as consumed
            // (it must never be admitted later) but still deny this time.
            Err((true, e)) => {
                self.consumed = next;
                Err(io_error(&self.path, e))
            }
            Err((false, e)) => Err(io_error(&self.path, e)),
        }
    }

    fn is_consumed(&self, nonce: &[u8; 32]) -> Result<bool, NonceStoreError> {
        Ok(self.consumed.contains(nonce))
    }
}

fn io_error(path: &Path, source: io::Error) -> NonceStoreError {
    NonceStoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn parse(path: &Path, bytes: &[u8]) -> Result<BTreeSet<[u8; 32]>, NonceStoreError> {
    #[derive(Deserialize)]
    struct NonceFile {
        consumed: Vec<String>,
    }
    let corrupt = |detail: String| NonceStoreError::Corrupt {
        path: path.display().to_string(),
        detail,
    };
    let file: NonceFile = serde_json::from_slice(bytes).map_err(|e| corrupt(e.to_string()))?;
    file.consumed
        .iter()
        .map(|h| {
            hex::decode_array::<32>(h)
                .map_err(|_| corrupt(format!("entry {h:?} is not a 64-character hex nonce")))
        })
        .collect()
}

/// `json.dump({"consumed": sorted(hex)}, f)`: Python's default separators.
fn render(set: &BTreeSet<[u8; 32]>) -> String {
    let mut out = String::with_capacity(16 + set.len() * 68);
    out.push_str("{\"consumed\": [");
    for (i, nonce) in set.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push('"');
        out.push_str(&hex::encode(nonce));
        out.push('"');
    }
    out.push_str("]}");
    out
}

/// Makes the rename durable. Only Unix can open and fsync a directory;
/// elsewhere the rename is as durable as the platform makes it.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_matches_python() {
        let mut set = BTreeSet::new();
        assert_eq!(render(&set), "{\"consumed\": []}");
        set.insert([0xbb; 32]);
        set.insert([0xaa; 32]);
        let a = "aa".repeat(32);
        let b = "bb".repeat(32);
        assert_eq!(
            render(&set),
            format!("{{\"consumed\": [\"{a}\", \"{b}\"]}}")
        );
        assert_eq!(parse(Path::new("x"), render(&set).as_bytes()).unwrap(), set);
    }
}
