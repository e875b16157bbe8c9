//! Query results as tables (headers plus rows of strings) for the CLI.

use std::fmt;

use super::document::intent_label;
use super::query::{Percentiles, QueryResult, Rate, Share};

/// A result rendered as text cells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Column headers.
    pub headers: Vec<String>,
    /// Rows, each as long as `headers`.
    pub rows: Vec<Vec<String>>,
}

fn strings(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| (*c).to_owned()).collect()
}

fn opt<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

fn shares(key: &str, rows: &[Share], with_confidence: bool) -> Table {
    let mut headers = strings(&[key, "count", "share"]);
    if with_confidence {
        headers.push("mean_confidence".into());
    }
    let rows = rows
        .iter()
        .map(|r| {
            let mut row = vec![
                r.key.clone(),
                r.count.to_string(),
                format!("{:.4}", r.share),
            ];
            if with_confidence {
                row.push(opt(r.mean_confidence.map(|c| format!("{c:.4}"))));
            }
            row
        })
        .collect();
    Table { headers, rows }
}

fn rate(r: &Rate) -> Table {
    Table {
        headers: strings(&["count", "total", "rate"]),
        rows: vec![vec![
            r.count.to_string(),
            r.total.to_string(),
            opt(r.rate.map(|v| format!("{v:.4}"))),
        ]],
    }
}

fn percentiles(p: &Percentiles) -> Table {
    Table {
        headers: strings(&["responded", "p50_ms", "p95_ms"]),
        rows: vec![vec![p.responded.to_string(), opt(p.p50_ms), opt(p.p95_ms)]],
    }
}

impl QueryResult {
    /// The result as a table.
    pub fn table(&self) -> Table {
        match self {
            QueryResult::IntentDistribution(rows) => shares("intent", rows, true),
            QueryResult::VolumePerDay(rows) | QueryResult::CriticBlocks(rows) => {
                shares("day", rows, false)
            }
            QueryResult::EscalationRate(r) | QueryResult::AutomationRate(r) => rate(r),
            QueryResult::ModelUsage(days) => Table {
                headers: strings(&[
                    "day",
                    "calls",
                    "prompt_tokens",
                    "completion_tokens",
                    "cost_usd",
                ]),
                rows: days
                    .iter()
                    .map(|d| {
                        vec![
                            d.day.to_string(),
                            d.calls.to_string(),
                            d.prompt_tokens.to_string(),
                            d.completion_tokens.to_string(),
                            format!("{:.6}", d.cost_usd),
                        ]
                    })
                    .collect(),
            },
            QueryResult::FirstResponseTime(p) => percentiles(p),
            QueryResult::Conversations(docs) => Table {
                headers: strings(&[
                    "conversation",
                    "status",
                    "channel",
                    "intent",
                    "customer",
                    "started_at",
                    "messages",
                ]),
                rows: docs
                    .iter()
                    .map(|d| {
                        vec![
                            d.conversation_id.to_string(),
                            d.status.as_str().to_owned(),
                            d.channel.clone(),
                            intent_label(d.intent),
                            d.customer_id.clone(),
                            d.started_at.to_rfc3339(),
                            d.message_count.to_string(),
                        ]
                    })
                    .collect(),
            },
            QueryResult::EscalationQueue(docs) => Table {
                headers: strings(&[
                    "conversation",
                    "priority",
                    "reason",
                    "queue",
                    "waiting_since",
                ]),
                rows: docs
                    .iter()
                    .map(|d| {
                        vec![
                            d.conversation_id.to_string(),
                            format!("{:?}", d.escalation.priority).to_lowercase(),
                            serde_json::to_value(d.escalation.reason)
                                .ok()
                                .and_then(|v| v.as_str().map(str::to_owned))
                                .unwrap_or_default(),
                            d.escalation.queue.clone(),
                            d.escalation.since.to_rfc3339(),
                        ]
                    })
                    .collect(),
            },
        }
    }
}

impl fmt::Display for Table {
    /// Left-aligned columns separated by two spaces.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.len()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |f: &mut fmt::Formatter<'_>, cells: &[String]| -> fmt::Result {
            let text: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            writeln!(f, "{}", text.join("  ").trim_end())
        };
        line(f, &self.headers)?;
        for row in &self.rows {
            line(f, row)?;
        }
        Ok(())
    }
}
