//! Atomic-batch staging on tmpfs for the managed nats-server.
//!
//! For a replicas-1 file stream, nats-server (2.12 to 2.15) stages every
//! atomic batch in a fresh on-disk file store under
//! `<store>/jetstream/<account>/streams/<stream>/batches/<id>`: a directory,
//! metadata written with `O_SYNC`, directory fsyncs, then all of it deleted
//! at commit. That costs milliseconds per batch on a quiet disk and tens
//! under load, and the stream waits for it. The staged copy is worthless
//! after a crash: the server deletes `batches/` when it recovers the stream
//! and an uncommitted batch is abandoned, so its durability buys nothing.
//! (Replicated streams already stage in memory.)
//!
//! The managed server therefore points each stream's `batches` directory at
//! a private directory on tmpfs (`/dev/shm`) once the stream exists, and
//! again after every restart (recovery recreates it). Committed events are
//! written to the stream's own store exactly as before. Where no tmpfs is
//! available nothing changes.

use std::path::{Path, PathBuf};

/// What [`BatchStaging::place`] did for a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// `batches/` now points at tmpfs.
    Moved,
    /// It already did.
    AlreadyThere,
    /// The stream has no directory (not created yet, or memory storage).
    NoStreamDirectory,
    /// A batch is being staged right now; left as it is.
    Busy,
}

/// A private tmpfs directory holding the staging areas of one server's
/// streams; removed on drop.
#[derive(Debug)]
pub struct BatchStaging {
    root: PathBuf,
}

impl BatchStaging {
    /// A staging root under `/dev/shm` for the server on `port`, or `None`
    /// when the machine has no `/dev/shm`.
    pub fn on_tmpfs(port: u16) -> Option<Self> {
        let shm = Path::new("/dev/shm");
        if !shm.is_dir() {
            return None;
        }
        let root = shm.join(format!("switchboard-{}-{port}", std::process::id()));
        Some(Self { root })
    }

    /// Where the staging areas live.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Points `stream`'s `batches` directory under `store_dir` (the
    /// server's `store_dir`) at tmpfs.
    pub fn place(&self, store_dir: &Path, stream: &str) -> std::io::Result<Placement> {
        let stream_dir = store_dir
            .join("jetstream")
            .join("$G")
            .join("streams")
            .join(stream);
        if !stream_dir.is_dir() {
            return Ok(Placement::NoStreamDirectory);
        }
        let target = self.root.join(stream);
        std::fs::create_dir_all(&target)?;
        let batches = stream_dir.join("batches");
        match std::fs::read_link(&batches) {
            Ok(existing) if existing == target => return Ok(Placement::AlreadyThere),
            Ok(_) => std::fs::remove_file(&batches)?,
            Err(_) if batches.is_dir() => {
                if std::fs::remove_dir(&batches).is_err() {
                    return Ok(Placement::Busy);
                }
            }
            Err(_) => {}
        }
        std::os::unix::fs::symlink(&target, &batches)?;
        Ok(Placement::Moved)
    }
}

impl Drop for BatchStaging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staging(dir: &Path) -> BatchStaging {
        BatchStaging {
            root: dir.join("shm"),
        }
    }

    fn stream_dir(store: &Path) -> PathBuf {
        store.join("jetstream/$G/streams/CONVERSATIONS")
    }

    #[test]
    fn moves_an_empty_batches_directory_and_is_idempotent() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = dir.path().join("store");
        std::fs::create_dir_all(stream_dir(&store).join("batches")).expect("mkdir");
        let staging = staging(dir.path());
        assert_eq!(
            staging.place(&store, "CONVERSATIONS").expect("place"),
            Placement::Moved
        );
        let link = std::fs::read_link(stream_dir(&store).join("batches")).expect("a symlink");
        assert_eq!(link, staging.root().join("CONVERSATIONS"));
        assert_eq!(
            staging.place(&store, "CONVERSATIONS").expect("place"),
            Placement::AlreadyThere
        );
    }

    #[test]
    fn leaves_a_busy_staging_area_and_missing_streams_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = dir.path().join("store");
        std::fs::create_dir_all(stream_dir(&store).join("batches/abc")).expect("mkdir");
        let staging = staging(dir.path());
        assert_eq!(
            staging.place(&store, "CONVERSATIONS").expect("place"),
            Placement::Busy
        );
        assert!(stream_dir(&store).join("batches/abc").is_dir());
        assert_eq!(
            staging.place(&store, "OTHER").expect("place"),
            Placement::NoStreamDirectory
        );
    }

    #[test]
    fn the_staging_root_is_removed_on_drop() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = dir.path().join("store");
        std::fs::create_dir_all(stream_dir(&store)).expect("mkdir");
        let root = {
            let staging = staging(dir.path());
            staging.place(&store, "CONVERSATIONS").expect("place");
            staging.root().to_owned()
        };
        assert!(!root.exists());
    }
}
