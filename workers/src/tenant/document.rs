//! Knowledge-base documents: what `kb import` reads and the bucket stores.
//!
//! A document is `{id, title, language, tags, body}`; its body is Markdown
//! whose `## <source id>: <title>` headings start passages (as in
//! `workers/kb/brewvi/policies.md`). A body without such headings is one
//! passage whose source id is the document id. Documents come from:
//!
//! - Markdown files, with optional YAML front matter between `---` lines
//!   (`id`, `title`, `language`, `tags`; nothing else). Without an `id` the
//!   file stem is the id; without a `title`, the first `# ` line, else the id.
//! - JSON files: one document object or an array of them; `id`, `title` and
//!   `body` are required, `language` defaults to `en`, `tags` to none.
//!
//! Ids become bucket keys (`<tenant>.kb.<id>`), so they are checked like
//! subject tokens: letters, digits, `-` and `_`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::{TenantError, TenantErrorKind};
use crate::knowledge::{KbPassage, parse_passages};

/// Longest document id, in bytes.
const MAX_ID_LEN: usize = 128;

/// A document id: a bucket key token.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DocId(String);

impl DocId {
    /// Validates an id: 1–128 ASCII letters, digits, `-` or `_`.
    pub fn new(value: impl Into<String>) -> Result<Self, TenantError> {
        let value = value.into();
        let ok = !value.is_empty()
            && value.len() <= MAX_ID_LEN
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if ok {
            Ok(Self(value))
        } else {
            Err(TenantError::new(
                TenantErrorKind::Input,
                format!(
                    "document id {value:?} is not valid (1-{MAX_ID_LEN} letters, digits, '-' or '_')"
                ),
            ))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for DocId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for DocId {
    type Error = TenantError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<DocId> for String {
    fn from(value: DocId) -> String {
        value.0
    }
}

/// One knowledge-base document, as stored in the bucket (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KbDocument {
    /// Stable id (the bucket key's last token).
    pub id: DocId,
    /// Human title.
    pub title: String,
    /// BCP-47 language of the text (`en` by default).
    #[serde(default = "default_language")]
    pub language: String,
    /// Free-form tags, copied onto every passage.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Markdown body; `## <source id>: <title>` headings start passages.
    pub body: String,
}

fn default_language() -> String {
    "en".to_owned()
}

/// YAML front matter of a Markdown document.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    id: Option<String>,
    title: Option<String>,
    language: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
}

impl KbDocument {
    /// The document's passages, with its language and tags. `file` names
    /// it in errors.
    pub fn passages(&self, file: &str) -> Result<Vec<KbPassage>, TenantError> {
        let mut passages = if self.body.lines().any(|l| l.starts_with("## ")) {
            parse_passages(file, &self.body).map_err(|e| TenantError::input(file, e.detail()))?
        } else {
            vec![self.whole_body(file)?]
        };
        for p in &mut passages {
            p.language.clone_from(&self.language);
            p.tags.clone_from(&self.tags);
        }
        Ok(passages)
    }

    /// A body without passage headings: one passage named after the document.
    fn whole_body(&self, file: &str) -> Result<KbPassage, TenantError> {
        let text = self
            .body
            .lines()
            .filter(|l| !l.starts_with("# "))
            .flat_map(str::split_whitespace)
            .collect::<Vec<_>>()
            .join(" ");
        if text.is_empty() {
            return Err(TenantError::input(file, "the document has no text"));
        }
        Ok(KbPassage {
            source_id: self.id.to_string(),
            title: self.title.clone(),
            text,
            language: self.language.clone(),
            tags: self.tags.clone(),
            questions: Vec::new(),
        })
    }

    /// Checks what decoding cannot: a sensible language and title.
    fn check(&self, file: &str) -> Result<(), TenantError> {
        let lang = &self.language;
        let lang_ok = !lang.is_empty()
            && lang.len() <= 35
            && lang.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !lang_ok {
            return Err(TenantError::input(
                file,
                format!("language {lang:?} is not a BCP-47 tag such as en or pt-BR"),
            )
            .in_field("language"));
        }
        if self.title.trim().is_empty() {
            return Err(TenantError::input(file, "must not be empty").in_field("title"));
        }
        self.passages(file).map(|_| ())
    }
}

/// Reads the documents of one file: Markdown (`.md`, `.markdown`) or
/// JSON (`.json`). The name shown in errors is the path as given.
pub fn read_file(path: &Path) -> Result<Vec<KbDocument>, TenantError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        TenantError::new(TenantErrorKind::Io, format!("cannot read: {e}")).in_file(&file)
    })?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("md" | "markdown") => {
            let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
            Ok(vec![parse_markdown(&file, stem, &text)?])
        }
        Some("json") => parse_json(&file, &text),
        _ => Err(TenantError::input(
            &file,
            "not a knowledge-base document: expected a .md or .json file",
        )),
    }
}

/// Parses a Markdown document; `stem` is the id when the front matter has none.
pub fn parse_markdown(file: &str, stem: &str, text: &str) -> Result<KbDocument, TenantError> {
    let (front, body) = split_front_matter(file, text)?;
    let id = match front.id {
        Some(id) => DocId::new(id).map_err(|e| e.in_file(file).in_field("id"))?,
        None => DocId::new(stem).map_err(|e| {
            TenantError::input(
                file,
                format!(
                    "{e}: the file name is not a valid document id; set `id:` in the front matter"
                ),
            )
        })?,
    };
    let title = front
        .title
        .or_else(|| {
            body.lines()
                .find_map(|l| l.strip_prefix("# ").map(|t| t.trim().to_owned()))
        })
        .unwrap_or_else(|| id.to_string());
    let doc = KbDocument {
        id,
        title,
        language: front.language.unwrap_or_else(default_language),
        tags: front.tags,
        body: body.to_owned(),
    };
    doc.check(file)?;
    Ok(doc)
}

/// Splits optional `---` YAML front matter from the body.
fn split_front_matter<'a>(
    file: &str,
    text: &'a str,
) -> Result<(FrontMatter, &'a str), TenantError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(rest) = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
    else {
        return Ok((FrontMatter::default(), text));
    };
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "---" {
            let yaml = &rest[..offset];
            let body = &rest[offset + line.len()..];
            return Ok((front_matter(file, yaml)?, body));
        }
        offset += line.len();
    }
    Err(TenantError::input(
        file,
        "front matter opened by `---` on line 1 is never closed by a `---` line",
    ))
}

fn front_matter(file: &str, yaml: &str) -> Result<FrontMatter, TenantError> {
    if yaml.trim().is_empty() {
        return Ok(FrontMatter::default());
    }
    let de = serde_norway::Deserializer::from_str(yaml);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let err = TenantError::input(file, format!("front matter: {}", e.inner()));
        if path == "." { err } else { err.in_field(path) }
    })
}

/// Parses a JSON file: one document or an array of them.
pub fn parse_json(file: &str, text: &str) -> Result<Vec<KbDocument>, TenantError> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| TenantError::input(file, format!("not valid JSON: {e}")))?;
    let items = match value {
        serde_json::Value::Array(items) => items,
        other @ serde_json::Value::Object(_) => vec![other],
        _ => {
            return Err(TenantError::input(
                file,
                "expected a document object or an array of them",
            ));
        }
    };
    let mut docs = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let record = super::records::record_label("document", i, &item, &["id"]);
        let doc: KbDocument = serde_path_to_error::deserialize(item).map_err(|e| {
            super::records::field_error(file, &record, e.path().to_string(), e.inner())
        })?;
        doc.check(file).map_err(|e| e.in_record(&record))?;
        docs.push(doc);
    }
    Ok(docs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_sets_id_language_and_tags() {
        let md = "---\nid: returns-es\ntitle: Devoluciones\nlanguage: es\ntags: [returns, policy]\n---\n## returns.es.window: Plazo\nTreinta días.\n";
        let doc = parse_markdown("r.md", "r", md).expect("valid document");
        assert_eq!(doc.id.as_str(), "returns-es");
        assert_eq!(doc.language, "es");
        let passages = doc.passages("r.md").expect("passages");
        assert_eq!(passages[0].source_id, "returns.es.window");
        assert_eq!(passages[0].language, "es");
        assert_eq!(passages[0].tags, vec!["returns", "policy"]);
    }

    #[test]
    fn no_front_matter_uses_the_stem_and_the_first_title() {
        let doc = parse_markdown(
            "faq.md",
            "faq",
            "# Frequent questions\n\n## faq.a: A\ntext\n",
        )
        .expect("valid");
        assert_eq!(doc.id.as_str(), "faq");
        assert_eq!(doc.title, "Frequent questions");
        assert_eq!(doc.language, "en");
    }

    #[test]
    fn a_body_without_headings_is_one_passage() {
        let docs = parse_json(
            "d.json",
            r#"{"id":"hours","title":"Opening hours","body":"Open 9 to 5."}"#,
        )
        .expect("valid");
        let p = docs[0].passages("d.json").expect("passages");
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].source_id, "hours");
        assert_eq!(p[0].text, "Open 9 to 5.");
    }

    #[test]
    fn bad_front_matter_names_file_and_field() {
        let unknown =
            parse_markdown("a.md", "a", "---\nauthor: me\n---\ntext\n").expect_err("unknown key");
        assert_eq!(unknown.kind(), TenantErrorKind::Input);
        assert!(unknown.to_string().starts_with("a.md: "), "{unknown}");
        assert!(unknown.to_string().contains("author"), "{unknown}");
        let tags =
            parse_markdown("a.md", "a", "---\ntags: {x: 1}\n---\ntext\n").expect_err("tags map");
        assert_eq!(tags.field(), Some("tags"), "{tags}");
        let open = parse_markdown("a.md", "a", "---\ntitle: x\ntext\n").expect_err("unclosed");
        assert!(open.to_string().contains("never closed"), "{open}");
        let yaml = parse_markdown("a.md", "a", "---\ntitle: [unclosed\n---\ntext\n")
            .expect_err("bad yaml");
        assert!(yaml.to_string().contains("front matter"), "{yaml}");
    }

    #[test]
    fn bad_heading_and_bad_field_are_named() {
        let heading = parse_markdown("p.md", "p", "## no colon\ntext\n").expect_err("bad heading");
        assert!(heading.to_string().starts_with("p.md: "), "{heading}");
        assert!(heading.to_string().contains("no colon"), "{heading}");
        let field = parse_json(
            "d.json",
            r#"[{"id":"a","title":"A","body":"x"},{"id":"b","title":"B","body":"y","tags":"oops"}]"#,
        )
        .expect_err("tags is not a list");
        assert_eq!(field.record(), Some("document #2 (id b)"));
        assert_eq!(field.field(), Some("tags"));
        let id =
            parse_json("d.json", r#"{"id":"a.b","title":"A","body":"x"}"#).expect_err("bad id");
        assert_eq!(id.field(), Some("id"), "{id}");
    }
}
