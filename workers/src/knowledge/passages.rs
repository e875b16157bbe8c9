//! Knowledge-base passages written as markdown.
//!
//! A passage file is a `# Title` line, optional prose, then one passage per
//! `## <source id>: <title>` heading; the passage text runs to the next
//! heading. Source ids are stable because drafts cite them.
//!
//! A line of a passage that starts with `? ` is a question the passage
//! answers, in a customer's words ("? can I still send it back after a
//! month"): it is indexed with the passage, so a customer who words a
//! question that way finds it, but it is not part of the text answers
//! quote.

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
    /// Questions the passage answers, in customers' words (`? ` lines).
    pub questions: Vec<String>,
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
        questions: Vec::new(),
    })
}

/// Moves the collected body into the last passage; an empty body is an error.
fn finish(file: &str, passages: &mut [KbPassage], body: &mut Vec<&str>) -> Result<(), KbError> {
    let Some(last) = passages.last_mut() else {
        return Ok(());
    };
    last.questions = body
        .iter()
        .filter_map(|l| l.trim_start().strip_prefix("? "))
        .map(|q| q.trim().to_owned())
        .filter(|q| !q.is_empty())
        .collect();
    let text = body
        .iter()
        .filter(|l| !l.trim_start().starts_with("? "))
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

    #[test]
    fn given_question_lines_when_parsed_then_kept_apart_from_the_text() {
        let md = "## a: A\nYou have 30 days.\n? how long do I have\n?   can I still send it back\n";
        let p = parse("t.md", md).expect("valid markdown");
        assert_eq!(p[0].text, "You have 30 days.");
        assert_eq!(
            p[0].questions,
            vec!["how long do I have", "can I still send it back"]
        );
        let only = parse("t.md", "## a: A\n? a question only\n").expect_err("no text");
        assert_eq!(only.kind(), KbErrorKind::Format);
    }
}
