//! Saving and loading an [`IntentModel`] as versioned JSON.
//!
//! Only buckets with a non-zero weight are written, so a model trained on a
//! few thousand utterances is a few megabytes rather than 17 MB. Loading
//! checks the format name, version, label list and every index and value,
//! and reports a typed [`ModelError`] instead of panicking on a bad file.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use switchboard_engine::event::Intent;

use super::model::{IntentModel, LABELS};

/// The `format` field of a model file.
pub const FORMAT: &str = "switchboard-intent-model";
/// The version this code writes and reads.
pub const FORMAT_VERSION: u32 = 2;

/// Why a model could not be saved or loaded. All of them are operator
/// errors (wrong path, wrong or damaged file): report them, do not retry.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The file could not be read.
    #[error("cannot read model file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file could not be written.
    #[error("cannot write model file {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not JSON of the expected shape.
    #[error("model file {path} is not a valid model: {source}")]
    Decode {
        /// The file.
        path: PathBuf,
        /// The JSON error (with line and column).
        source: serde_json::Error,
    },
    /// The file is a model of another format or version.
    #[error("model file {path} is {found} v{version}; this build reads {FORMAT} v{FORMAT_VERSION}")]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// Its `format` field.
        found: String,
        /// Its `version` field.
        version: u32,
    },
    /// The file parses but its contents are inconsistent.
    #[error("model file {path} is corrupt: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelFile {
    format: String,
    version: u32,
    bits: u32,
    labels: Vec<Intent>,
    bias: Vec<f32>,
    vocab: Vec<u32>,
    /// Training words and their counts (v2; v1 files have none and predict
    /// without spelling correction).
    #[serde(default)]
    lexicon: Vec<(String, u32)>,
    /// `(bucket, weights per label)` for non-zero buckets.
    rows: Vec<(u32, Vec<f32>)>,
}

impl IntentModel {
    /// Write the model to `path` (JSON, format [`FORMAT`] v[`FORMAT_VERSION`]).
    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        let rows = self
            .weights
            .chunks(LABELS)
            .enumerate()
            .filter(|(_, row)| row.iter().any(|w| *w != 0.0))
            .map(|(bucket, row)| (bucket as u32, row.to_vec()))
            .collect();
        let file = ModelFile {
            format: FORMAT.to_owned(),
            version: FORMAT_VERSION,
            bits: self.bits,
            labels: Intent::ALL.to_vec(),
            bias: self.bias.to_vec(),
            vocab: self.vocab.iter().copied().collect(),
            lexicon: self
                .lexicon
                .counts()
                .map(|(w, c)| (w.to_owned(), c))
                .collect(),
            rows,
        };
        let write_err = |source| ModelError::Write {
            path: path.to_owned(),
            source,
        };
        let mut out = BufWriter::new(File::create(path).map_err(write_err)?);
        serde_json::to_writer(&mut out, &file).map_err(|e| write_err(std::io::Error::other(e)))?;
        out.flush().map_err(write_err)
    }

    /// Read a model written by [`save`](Self::save).
    pub fn load(path: &Path) -> Result<Self, ModelError> {
        let file = File::open(path).map_err(|source| ModelError::Read {
            path: path.to_owned(),
            source,
        })?;
        let parsed: ModelFile =
            serde_json::from_reader(BufReader::new(file)).map_err(|source| ModelError::Decode {
                path: path.to_owned(),
                source,
            })?;
        from_file(parsed).map_err(|e| e.at(path))
    }
}

/// An error before the path is known.
enum Invalid {
    Unsupported(String, u32),
    Corrupt(String),
}

impl Invalid {
    fn at(self, path: &Path) -> ModelError {
        let path = path.to_owned();
        match self {
            Invalid::Unsupported(found, version) => ModelError::Unsupported {
                path,
                found,
                version,
            },
            Invalid::Corrupt(reason) => ModelError::Corrupt { path, reason },
        }
    }
}

fn from_file(file: ModelFile) -> Result<IntentModel, Invalid> {
    if file.format != FORMAT || !(1..=FORMAT_VERSION).contains(&file.version) {
        return Err(Invalid::Unsupported(file.format, file.version));
    }
    let corrupt = |reason: String| Err(Invalid::Corrupt(reason));
    if !(8..=24).contains(&file.bits) {
        return corrupt(format!("hash bits {} out of range 8..=24", file.bits));
    }
    if file.labels != Intent::ALL {
        return corrupt("label list differs from this build's 17 intents".to_owned());
    }
    let Ok(bias) = <[f32; LABELS]>::try_from(file.bias.as_slice()) else {
        return corrupt(format!("{} biases, expected {LABELS}", file.bias.len()));
    };
    let mut model = IntentModel::empty(file.bits);
    model.bias = bias;
    model.vocab = file.vocab.into_iter().collect();
    model.lexicon = super::normalize::Lexicon::from_counts(file.lexicon);
    let buckets = 1usize << file.bits;
    for (bucket, row) in file.rows {
        let bucket = bucket as usize;
        if bucket >= buckets || row.len() != LABELS || !row.iter().all(|w| w.is_finite()) {
            return corrupt(format!("bad weight row for bucket {bucket}"));
        }
        model.weights[bucket * LABELS..(bucket + 1) * LABELS].copy_from_slice(&row);
    }
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::intent::model::train;

    fn small_model() -> IntentModel {
        train(&[
            ("where is my order".to_owned(), Intent::OrderStatus),
            ("I want a refund".to_owned(), Intent::ReturnRequest),
        ])
    }

    #[test]
    fn save_load_round_trip() {
        let dir = tempfile::tempdir().expect("temp dir for the test");
        let path = dir.path().join("model.json");
        let model = small_model();
        model.save(&path).expect("save to a fresh temp dir");
        let loaded = IntentModel::load(&path).expect("load what we just saved");
        assert_eq!(loaded, model);
        assert_eq!(
            loaded.predict("where is my order"),
            model.predict("where is my order")
        );
    }

    #[test]
    fn bad_files_give_typed_errors() {
        let dir = tempfile::tempdir().expect("temp dir for the test");
        let missing = IntentModel::load(&dir.path().join("nope.json"));
        assert!(matches!(missing, Err(ModelError::Read { .. })));

        let garbage = dir.path().join("garbage.json");
        std::fs::write(&garbage, "not json at all").expect("write test file");
        assert!(matches!(
            IntentModel::load(&garbage),
            Err(ModelError::Decode { .. })
        ));

        let other = dir.path().join("other.json");
        let body = r#"{"format":"something-else","version":9,"bits":18,"labels":[],"bias":[],"vocab":[],"rows":[]}"#;
        std::fs::write(&other, body).expect("write test file");
        assert!(matches!(
            IntentModel::load(&other),
            Err(ModelError::Unsupported { version: 9, .. })
        ));

        let corrupt = dir.path().join("corrupt.json");
        let body = format!(
            r#"{{"format":"{FORMAT}","version":1,"bits":18,"labels":{},"bias":[0.0],"vocab":[],"rows":[]}}"#,
            serde_json::to_string(&Intent::ALL).expect("serialising the label list")
        );
        std::fs::write(&corrupt, body).expect("write test file");
        let err = IntentModel::load(&corrupt);
        assert!(matches!(err, Err(ModelError::Corrupt { .. })), "{err:?}");
    }
}
