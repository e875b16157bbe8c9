//! The operations behind `kb import | list | remove` and `tenant import`:
//! read and validate everything, check the tenant's resulting data builds
//! (source ids unique across its documents, records decode, index builds),
//! and only then write. An error leaves the bucket as it was.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use indicatif::ProgressBar;
use switchboard_engine::ids::Tenant;

use super::data::TenantData;
use super::document::{self, DocId, KbDocument};
use super::error::{TenantError, TenantErrorKind};
use super::records::{self, RecordKind, RecordSet};
use super::store::{Key, TenantStore};

/// What happened to one document or record set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// It did not exist.
    Created,
    /// It existed with other content.
    Updated,
    /// It existed with the same content: nothing written.
    Unchanged,
}

impl Change {
    /// Lower-case name for output.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Created => "created",
            Change::Updated => "updated",
            Change::Unchanged => "unchanged",
        }
    }
}

/// One document of an import.
#[derive(Debug, Clone)]
pub struct ImportedDocument {
    /// The document id.
    pub id: DocId,
    /// The file it came from.
    pub file: String,
    /// How many passages it has.
    pub passages: usize,
    /// What happened.
    pub change: Change,
    /// Its revision now.
    pub revision: u64,
}

/// One row of `kb list`.
#[derive(Debug, Clone)]
pub struct DocumentSummary {
    /// The document id.
    pub id: DocId,
    /// Its title.
    pub title: String,
    /// Its language.
    pub language: String,
    /// Its tags.
    pub tags: Vec<String>,
    /// How many passages it has.
    pub passages: usize,
    /// Its bucket revision.
    pub revision: u64,
}

/// One record set of `tenant import`.
#[derive(Debug, Clone)]
pub struct ImportedRecords {
    /// What the records are.
    pub kind: RecordKind,
    /// The file they came from.
    pub file: String,
    /// How many records.
    pub count: usize,
    /// How many were converted from the Shopify-like shape.
    pub converted: usize,
    /// What happened.
    pub change: Change,
    /// Its revision now.
    pub revision: u64,
}

/// The knowledge-base files named by `paths`: files as given, directories
/// walked for `.md`, `.markdown` and `.json` files, in name order, except
/// `README.md` and the record files of `tenant import` (`products.json`...),
/// so a tenant directory like `workers/kb/brewvi` imports as it is.
fn document_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, TenantError> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut out, &|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                let document = matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("md" | "markdown" | "json")
                );
                document
                    && !name.eq_ignore_ascii_case("readme.md")
                    && RecordKind::of_file_name(name).is_none()
            })?;
        } else {
            out.push(path.clone());
        }
    }
    if out.is_empty() {
        return Err(TenantError::new(
            TenantErrorKind::Input,
            "no knowledge-base documents (.md or .json) in the paths given",
        ));
    }
    Ok(out)
}

fn walk(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    wanted: &dyn Fn(&Path) -> bool,
) -> Result<(), TenantError> {
    let io = |e: std::io::Error| {
        TenantError::new(
            TenantErrorKind::Io,
            format!("cannot read the directory: {e}"),
        )
        .in_file(dir.display().to_string())
    };
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(io)?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, out, wanted)?;
        } else if wanted(&path) {
            out.push(path);
        }
    }
    Ok(())
}

/// Checks the tenant's data would build and every value fits the server's
/// payload limit.
fn check_builds(store: &TenantStore, data: &TenantData) -> Result<(), TenantError> {
    for doc in data.documents.values() {
        let size = serde_json::to_vec(doc).map(|v| v.len()).unwrap_or(0);
        if size > store.max_value() {
            return Err(too_large(
                &format!("document {}", doc.id),
                size,
                store.max_value(),
            ));
        }
    }
    for (kind, json) in &data.records {
        if json.len() > store.max_value() {
            return Err(too_large(kind.key_token(), json.len(), store.max_value()));
        }
    }
    data.knowledge_base().map(|_| ())
}

fn too_large(what: &str, size: usize, max: usize) -> TenantError {
    TenantError::new(
        TenantErrorKind::Input,
        format!("{what} is {size} bytes; the server accepts values of at most {max} bytes"),
    )
}

/// Imports knowledge-base documents into `tenant`: new ids are created,
/// existing ids replaced. Nothing is written unless every file parses,
/// no id appears twice and the tenant's documents then build.
pub async fn import_documents(
    store: &TenantStore,
    tenant: &Tenant,
    paths: &[PathBuf],
    progress: &ProgressBar,
) -> Result<Vec<ImportedDocument>, TenantError> {
    let files = document_files(paths)?;
    progress.set_length(files.len() as u64);
    progress.set_message("reading documents");
    let mut incoming: BTreeMap<DocId, (String, KbDocument)> = BTreeMap::new();
    for path in &files {
        let file = path.display().to_string();
        for doc in document::read_file(path)? {
            if let Some((first, _)) = incoming.get(&doc.id) {
                return Err(TenantError::new(
                    TenantErrorKind::Duplicate,
                    format!("document id {} is in {first} and {file}", doc.id),
                ));
            }
            incoming.insert(doc.id.clone(), (file.clone(), doc));
        }
        progress.inc(1);
    }
    let mut data = store.load(tenant).await?;
    let before = data.documents.clone();
    for (id, (_, doc)) in &incoming {
        data.documents.insert(id.clone(), doc.clone());
    }
    check_builds(store, &data)?;
    progress.set_length(incoming.len() as u64);
    progress.set_position(0);
    progress.set_message("writing documents");
    let mut report = Vec::with_capacity(incoming.len());
    for (id, (file, doc)) in incoming {
        let key = Key::Document(tenant.clone(), id.clone());
        let passages = doc.passages(&file)?.len();
        let (change, revision) = match before.get(&id) {
            Some(old) if *old == doc => (Change::Unchanged, current_revision(store, &key).await?),
            old => {
                let value = serde_json::to_vec(&doc)
                    .map_err(|e| TenantError::new(TenantErrorKind::Input, e.to_string()))?;
                let revision = store.put(&key, value).await?;
                let change = if old.is_some() {
                    Change::Updated
                } else {
                    Change::Created
                };
                (change, revision)
            }
        };
        tracing::info!(tenant = %tenant, document = %id, change = change.as_str(), revision, "document imported");
        report.push(ImportedDocument {
            id,
            file,
            passages,
            change,
            revision,
        });
        progress.inc(1);
    }
    progress.finish_and_clear();
    Ok(report)
}

async fn current_revision(store: &TenantStore, key: &Key) -> Result<u64, TenantError> {
    Ok(store.get(key).await?.map_or(0, |(_, r)| r))
}

/// The tenant's documents, by id.
pub async fn list_documents(
    store: &TenantStore,
    tenant: &Tenant,
) -> Result<Vec<DocumentSummary>, TenantError> {
    let mut out = Vec::new();
    for stored in store.documents(tenant).await? {
        let doc = stored.document;
        let passages = doc.passages(&format!("document {}", doc.id))?.len();
        out.push(DocumentSummary {
            id: doc.id,
            title: doc.title,
            language: doc.language,
            tags: doc.tags,
            passages,
            revision: stored.revision,
        });
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// Removes one document (a delete marker; its history stays).
pub async fn remove_document(
    store: &TenantStore,
    tenant: &Tenant,
    id: &DocId,
) -> Result<(), TenantError> {
    let key = Key::Document(tenant.clone(), id.clone());
    if store.get(&key).await?.is_none() {
        return Err(TenantError::new(
            TenantErrorKind::NotFound,
            format!("tenant {tenant} has no document {id}"),
        ));
    }
    store.delete(&key).await?;
    tracing::info!(tenant = %tenant, document = %id, "document removed");
    Ok(())
}

/// The record files in `dir` (and its subdirectories), by kind.
fn record_files(dir: &Path) -> Result<BTreeMap<RecordKind, PathBuf>, TenantError> {
    if !dir.is_dir() {
        return Err(TenantError::new(TenantErrorKind::Io, "is not a directory")
            .in_file(dir.display().to_string()));
    }
    let mut files = Vec::new();
    walk(dir, &mut files, &|p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .and_then(RecordKind::of_file_name)
            .is_some()
    })?;
    let mut out: BTreeMap<RecordKind, PathBuf> = BTreeMap::new();
    for path in files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let Some(kind) = RecordKind::of_file_name(name) else {
            continue;
        };
        if let Some(first) = out.get(&kind) {
            return Err(TenantError::new(
                TenantErrorKind::Duplicate,
                format!(
                    "two files hold {}: {} and {}",
                    kind.key_token(),
                    first.display(),
                    path.display()
                ),
            ));
        }
        out.insert(kind, path);
    }
    if out.is_empty() {
        return Err(TenantError::input(
            dir.display().to_string(),
            "no record files: expected products.json, orders.json, customers.json (or personas.json), loyalty.json (or loyalty-program.json)",
        ));
    }
    Ok(out)
}

/// Imports the records in `dir` into `tenant`, replacing the kinds found
/// (kinds without a file keep what they had). Nothing is written unless
/// every file validates and the tenant's data then builds.
pub async fn import_records(
    store: &TenantStore,
    tenant: &Tenant,
    dir: &Path,
    progress: &ProgressBar,
) -> Result<Vec<ImportedRecords>, TenantError> {
    let files = record_files(dir)?;
    progress.set_length(files.len() as u64);
    progress.set_message("validating records");
    let mut sets: Vec<RecordSet> = Vec::new();
    for (kind, path) in &files {
        let file = path.strip_prefix(dir).unwrap_or(path).display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            TenantError::new(TenantErrorKind::Io, format!("cannot read: {e}")).in_file(&file)
        })?;
        sets.push(records::parse(*kind, &file, &text)?);
        progress.inc(1);
    }
    let mut data = store.load(tenant).await?;
    let before = data.records.clone();
    for set in &sets {
        data.records.insert(set.kind, set.json.clone());
    }
    check_builds(store, &data)?;
    progress.set_position(0);
    progress.set_message("writing records");
    let mut report = Vec::new();
    for set in sets {
        let key = Key::Records(tenant.clone(), set.kind);
        let (change, revision) = match before.get(&set.kind) {
            Some(old) if *old == set.json => {
                (Change::Unchanged, current_revision(store, &key).await?)
            }
            old => {
                let revision = store.put(&key, set.json.into_bytes()).await?;
                (
                    if old.is_some() {
                        Change::Updated
                    } else {
                        Change::Created
                    },
                    revision,
                )
            }
        };
        tracing::info!(tenant = %tenant, records = set.kind.key_token(), count = set.count, change = change.as_str(), "records imported");
        report.push(ImportedRecords {
            kind: set.kind,
            file: set.file,
            count: set.count,
            converted: set.converted,
            change,
            revision,
        });
        progress.inc(1);
    }
    progress.finish_and_clear();
    Ok(report)
}

/// Writes `data` as `tenant`'s if the tenant has no data yet (the demo
/// tenant on a system's first start); whether it was written. A tenant
/// that has data, even data its operator changed, is left alone.
pub async fn seed_if_absent(
    store: &TenantStore,
    tenant: &Tenant,
    data: &TenantData,
) -> Result<bool, TenantError> {
    if store.has_data(tenant).await? {
        return Ok(false);
    }
    check_builds(store, data)?;
    // Records first, documents last: a crash half-way leaves the tenant
    // with data, but without documents, which a later `kb import` fixes.
    for (kind, json) in &data.records {
        store
            .put(
                &Key::Records(tenant.clone(), *kind),
                json.clone().into_bytes(),
            )
            .await?;
    }
    for (id, doc) in &data.documents {
        let value = serde_json::to_vec(doc)
            .map_err(|e| TenantError::new(TenantErrorKind::Input, e.to_string()))?;
        store
            .put(&Key::Document(tenant.clone(), id.clone()), value)
            .await?;
    }
    tracing::info!(tenant = %tenant, documents = data.documents.len(), "tenant data seeded");
    Ok(true)
}
