//! Knowledge-base passages written as markdown.
//!
//! A passage file is a `# Title` line, optional prose, then one passage per
//! `## <source id>: <title>` heading; the passage text runs to the next
//! heading. Source ids are stable because drafts cite them.

use super::error::{KbError, KbErrorKind};

/// One passage as written in the knowledge base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KbPassage {
    /// Stable id, e.g. `returns.window`.
    pub source_id: String,
    /// Human title, indexed with a boost.
    pub title: String,
    /// The passage text, whitespace-normalised.
    pub text: String,
    /// BCP-47 language of the text (`en` unless the document says otherwise).
    pub language: String,
    /// Tags of the document the passage belongs to (may be empty).
    pub tags: Vec<String>,
}

/// Parses one markdown file into passages. `file` names it in errors.
pub fn parse(file: &str, markdown: &str) -> Result<Vec<KbPassage>, KbError> {
    let mut passages: Vec<KbPassage> = Vec::new();
    let mut body: Vec<&str> = Vec::new();
    for line in markdown.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            finish(file, &mut passages, &mut body)?;
            passages.push(heading_of(file, heading)?);
        } else if !passages.is_empty() {
            body.push(line);
        }
    }
    finish(file, &mut passages, &mut body)?;
    Ok(passages)
}

fn heading_of(file: &str, heading: &str) -> Result<KbPassage, KbError> {
    let (id, title) = heading.split_once(':').ok_or_else(|| {
        KbError::new(
            KbErrorKind::Format,
            file,
            format!("heading {heading:?} is not `<source id>: <title>`"),
        )
    })?;
    let (id, title) = (id.trim(), title.trim());
    let valid_id = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !valid_id || title.is_empty() {
        return Err(KbError::new(
            KbErrorKind::Format,
            file,
            format!("bad passage heading {heading:?}"),
        ));
    }
    Ok(KbPassage {
        source_id: id.to_owned(),
        title: title.to_owned(),
        text: String::new(),
        language: "en".to_owned(),
        tags: Vec::new(),
    })
}

/// Moves the collected body into the last passage; an empty body is an error.
fn finish(file: &str, passages: &mut [KbPassage], body: &mut Vec<&str>) -> Result<(), KbError> {
    let Some(last) = passages.last_mut() else {
        return Ok(());
    };
    let text = body
        .iter()
        .flat_map(|l| l.split_whitespace())
        .collect::<Vec<_>>()
        .join(" ");
    body.clear();
    if text.is_empty() {
        return Err(KbError::new(
            KbErrorKind::Format,
            file,
            format!("passage {} has no text", last.source_id),
        ));
    }
    last.text = text;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_headings_and_bodies() {
        let md = "# T\nintro\n\n## a.b: First\nline one\nline two\n\n## c: Second\nx\n";
        let p = parse("t.md", md).expect("valid markdown");
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].source_id, "a.b");
        assert_eq!(p[0].title, "First");
        assert_eq!(p[0].text, "line one line two");
        assert_eq!(p[1].text, "x");
    }

    #[test]
    fn rejects_empty_passages_and_bad_headings() {
        let empty = parse("t.md", "## a: A\n\n## b: B\ntext\n").expect_err("empty passage");
        assert_eq!(empty.kind(), KbErrorKind::Format);
        let bad = parse("t.md", "## no colon here\ntext\n").expect_err("bad heading");
        assert_eq!(bad.kind(), KbErrorKind::Format);
        assert_eq!(bad.file(), "t.md");
    }
}
