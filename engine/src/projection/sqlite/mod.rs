//! The embedded projection store: one SQLite file (bundled SQLite, WAL).
//!
//! SQLite calls block, so every operation runs on tokio's blocking pool
//! holding the one connection behind a `std::sync::Mutex` (the lock is held
//! only inside the blocking closure, never across an `.await`). A busy or
//! locked database is retried here with backoff before the error reaches
//! the caller as [`StoreErrorKind::Unavailable`].
//!
//! A rebuild writes a new file beside the current one ([`fresh_copy`]) and
//! renames it over the old one ([`swap_in`]).
//!
//! [`fresh_copy`]: ProjectionStore::fresh_copy
//! [`swap_in`]: ProjectionStore::swap_in

mod sql;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, ErrorCode, TransactionBehavior};

use super::retry::Backoff;
use super::{
    AnalyticsDoc, Checkpoints, ConversationDoc, DocKeys, Documents, EscalationDoc, ProjectionStore,
    Scope, StoreError, StoreErrorKind,
};
use crate::ids::Tenant;

const BACKEND: &str = "sqlite";

/// Settings of a [`SqliteStore`].
#[derive(Debug, Clone)]
pub struct SqliteConfig {
    /// The database file. The binary's default is `./data/projections.sqlite`.
    pub path: PathBuf,
    /// Backoff when the database is busy or locked. Default: 20 ms doubling
    /// to 1 s, 12 attempts (about 6 s) before `Unavailable` is returned.
    pub busy_backoff: Backoff,
}

impl SqliteConfig {
    /// The defaults for a file at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            busy_backoff: Backoff {
                initial: Duration::from_millis(20),
                max: Duration::from_secs(1),
                max_attempts: Some(12),
            },
        }
    }
}

/// The SQLite projection store. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct SqliteStore {
    config: SqliteConfig,
    conn: Arc<Mutex<Option<Connection>>>,
    generation: AtomicU64,
}

/// Maps a SQLite error to a store error: busy and locked are transient.
pub(crate) fn sqlite_error(e: rusqlite::Error) -> StoreError {
    let kind = match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreErrorKind::Unavailable,
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => StoreErrorKind::Corrupt,
        _ => StoreErrorKind::Rejected,
    };
    StoreError::new(kind, BACKEND, e.to_string())
}

fn open(path: &Path) -> Result<Connection, StoreError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::new(
                StoreErrorKind::Rejected,
                BACKEND,
                format!("{}: {e}", dir.display()),
            )
        })?;
    }
    let conn = Connection::open(path).map_err(sqlite_error)?;
    // No SQLite-level waiting: busy is retried with our own backoff, so a
    // lock held elsewhere never blocks a pool thread for long.
    conn.busy_timeout(Duration::ZERO).map_err(sqlite_error)?;
    conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
        .map_err(sqlite_error)?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(sqlite_error)?;
    // A purged text (an erased customer's last answer) is overwritten on
    // disk, not left in a free page for a forensic read.
    conn.pragma_update(None, "secure_delete", "ON")
        .map_err(sqlite_error)?;
    conn.execute_batch(sql::SCHEMA).map_err(sqlite_error)?;
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if needed) the database file, in WAL mode, with the
    /// schema applied.
    pub async fn open(config: SqliteConfig) -> Result<Self, StoreError> {
        let path = config.path.clone();
        let conn = config
            .busy_backoff
            .retry(
                || {
                    let path = path.clone();
                    async move { blocking(move || open(&path)).await }
                },
                |_, _| {},
            )
            .await?;
        Ok(Self {
            config,
            conn: Arc::new(Mutex::new(Some(conn))),
            generation: AtomicU64::new(0),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.config.path
    }

    /// Runs `f` on the connection in the blocking pool, retrying busy/locked.
    async fn with_conn<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(&mut Connection) -> Result<T, StoreError> + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        self.config
            .busy_backoff
            .retry(
                || {
                    let conn = self.conn.clone();
                    let f = f.clone();
                    async move {
                        blocking(move || {
                            let mut guard = conn.lock().map_err(|_| poisoned())?;
                            let conn = guard.as_mut().ok_or_else(closed)?;
                            f(conn)
                        })
                        .await
                    }
                },
                |error, delay| {
                    tracing::debug!(%error, delay_ms = delay.as_millis() as u64, "sqlite busy; retrying");
                },
            )
            .await
    }
}

fn poisoned() -> StoreError {
    StoreError::new(
        StoreErrorKind::Rejected,
        BACKEND,
        "connection lock poisoned by a panic",
    )
}

fn closed() -> StoreError {
    StoreError::new(StoreErrorKind::Rejected, BACKEND, "the store is closed")
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        StoreError::new(
            StoreErrorKind::Rejected,
            BACKEND,
            format!("blocking task failed: {e}"),
        )
    })?
}

fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(suffix);
    path.with_file_name(name)
}

fn remove_db_files(path: &Path) -> Result<(), StoreError> {
    for p in [
        path.to_path_buf(),
        beside(path, "-wal"),
        beside(path, "-shm"),
    ] {
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(StoreError::new(
                    StoreErrorKind::Rejected,
                    BACKEND,
                    format!("cannot remove {}: {e}", p.display()),
                ));
            }
        }
    }
    Ok(())
}

#[async_trait]
impl ProjectionStore for SqliteStore {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    async fn get(&self, keys: &DocKeys) -> Result<Documents, StoreError> {
        let keys = keys.clone();
        self.with_conn(move |conn| sql::get(conn, &keys)).await
    }

    async fn write(&self, batch: &Documents) -> Result<(), StoreError> {
        let batch = Arc::new(batch.clone());
        self.with_conn(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sqlite_error)?;
            sql::write(&tx, &batch)?;
            tx.commit().map_err(sqlite_error)
        })
        .await
    }

    async fn conversations(&self, scope: &Scope) -> Result<Vec<ConversationDoc>, StoreError> {
        let scope = scope.clone();
        self.with_conn(move |conn| sql::scoped(conn, "conversations", &scope))
            .await
    }

    async fn analytics(&self, scope: &Scope) -> Result<Vec<AnalyticsDoc>, StoreError> {
        let scope = scope.clone();
        self.with_conn(move |conn| sql::scoped(conn, "analytics", &scope))
            .await
    }

    async fn escalations(&self, tenant: &Tenant) -> Result<Vec<EscalationDoc>, StoreError> {
        let tenant = tenant.clone();
        self.with_conn(move |conn| sql::escalations(conn, &tenant))
            .await
    }

    async fn checkpoints(&self) -> Result<Checkpoints, StoreError> {
        self.with_conn(|conn| sql::checkpoints(conn)).await
    }

    async fn fresh_copy(&self) -> Result<Arc<dyn ProjectionStore>, StoreError> {
        let path = beside(&self.config.path, ".rebuild");
        let target = path.clone();
        blocking(move || remove_db_files(&target)).await?;
        let config = SqliteConfig {
            path,
            ..self.config.clone()
        };
        Ok(Arc::new(SqliteStore::open(config).await?))
    }

    async fn swap_in(&self, fresh: Arc<dyn ProjectionStore>) -> Result<(), StoreError> {
        let Some(fresh_path) = fresh.location() else {
            return Err(StoreError::new(
                StoreErrorKind::Rejected,
                BACKEND,
                "only another SQLite file can be swapped in",
            ));
        };
        fresh.close().await?;
        let path = self.config.path.clone();
        let conn = self.conn.clone();
        blocking(move || {
            let mut guard = conn.lock().map_err(|_| poisoned())?;
            if let Some(old) = guard.take() {
                old.close().map_err(|(_, e)| sqlite_error(e))?;
            }
            remove_db_files(&path)?;
            std::fs::rename(&fresh_path, &path).map_err(|e| {
                StoreError::new(StoreErrorKind::Rejected, BACKEND, format!("rename: {e}"))
            })?;
            *guard = Some(open(&path)?);
            Ok(())
        })
        .await?;
        self.generation.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    fn location(&self) -> Option<PathBuf> {
        Some(self.config.path.clone())
    }

    async fn close(&self) -> Result<(), StoreError> {
        let conn = self.conn.clone();
        blocking(move || {
            let mut guard = conn.lock().map_err(|_| poisoned())?;
            if let Some(conn) = guard.take() {
                // Fold the WAL into the main file so the file alone is complete.
                conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                    .map_err(sqlite_error)?;
                conn.close().map_err(|(_, e)| sqlite_error(e))?;
            }
            Ok(())
        })
        .await
    }
}
