//! `switchboard publish`: append customer messages as `received` events.
//!
//! One message from arguments, or many from JSON lines on stdin. Every line
//! is validated before anything is published: one bad line publishes
//! nothing and names the line and the problem.

use std::io::BufRead;

use anyhow::Context;
use clap::Args;
use serde::Deserialize;
use switchboard_engine::event::{Actor, Customer, CustomerTier, Event, EventData, Received};
use switchboard_engine::ids::{ConversationKey, EventId, StreamSeq};
use switchboard_engine::store::{
    AppendErrorKind, EventStore, IdempotencyKey, Loaded, StoreOptions,
};

use super::Global;

/// Longest customer message accepted, in bytes.
const MAX_TEXT_BYTES: usize = 64 * 1024;

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The conversation, as tenant/conversation. Omit to read JSON lines on stdin.
    pub conversation: Option<String>,
    /// The message text.
    #[arg(long, requires = "conversation")]
    pub text: Option<String>,
    /// The channel it came from.
    #[arg(long, default_value = "cli")]
    pub channel: String,
    /// The customer's id.
    #[arg(long, default_value = "anonymous")]
    pub customer: String,
    /// The customer's tier.
    #[arg(long, default_value = "standard", value_parser = ["standard", "member", "vip"])]
    pub tier: String,
    /// Language tag (`en`, `fr`, `es`...); detected from the text when not given.
    #[arg(long)]
    pub language: Option<String>,
    /// The channel's message id (makes publishing idempotent; default: a new UUID).
    #[arg(long)]
    pub message_id: Option<String>,
}

/// One JSON line on stdin.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    conversation: String,
    text: String,
    #[serde(default = "default_channel")]
    channel: String,
    #[serde(default = "default_customer")]
    customer: String,
    #[serde(default)]
    tier: CustomerTier,
    /// Detected from the text when absent.
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    message_id: Option<String>,
}

fn default_channel() -> String {
    "cli".into()
}
fn default_customer() -> String {
    "anonymous".into()
}

/// A validated message ready to append.
struct Message {
    key: ConversationKey,
    event: Event,
    idempotency: IdempotencyKey,
}

fn build(line: Line) -> anyhow::Result<Message> {
    let key = ConversationKey::parse(&line.conversation)?;
    anyhow::ensure!(!line.text.trim().is_empty(), "text is empty");
    anyhow::ensure!(
        line.text.len() <= MAX_TEXT_BYTES,
        "text is {} bytes; the limit is {MAX_TEXT_BYTES}",
        line.text.len()
    );
    anyhow::ensure!(
        !line.channel.is_empty() && line.channel.bytes().all(|b| b.is_ascii_graphic()),
        "channel {:?} must be non-empty printable ASCII",
        line.channel
    );
    let message_id = line
        .message_id
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let idempotency = IdempotencyKey::for_message(&key, &line.channel, &message_id);
    let language = match line.language {
        Some(tag) => {
            anyhow::ensure!(
                !tag.is_empty()
                    && tag.len() <= 35
                    && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'),
                "language {tag:?} is not a BCP-47 tag"
            );
            tag
        }
        None => switchboard_workers::language::detect(&line.text)
            .tag()
            .to_owned(),
    };
    let event = Event::new_root(
        key.clone(),
        Actor::channel(&line.channel),
        EventData::Received(Received {
            message_id,
            channel: line.channel,
            customer: Customer {
                id: line.customer,
                tier: line.tier,
            },
            language,
            text: line.text,
        }),
    );
    Ok(Message {
        key,
        event,
        idempotency,
    })
}

fn from_args(args: PublishArgs) -> anyhow::Result<Vec<Message>> {
    let (Some(conversation), Some(text)) = (args.conversation, args.text) else {
        anyhow::bail!(
            "give both a conversation and --text, or neither to read JSON lines on stdin"
        );
    };
    let tier = match args.tier.as_str() {
        "vip" => CustomerTier::Vip,
        "member" => CustomerTier::Member,
        _ => CustomerTier::Standard,
    };
    Ok(vec![build(Line {
        conversation,
        text,
        channel: args.channel,
        customer: args.customer,
        tier,
        language: args.language,
        message_id: args.message_id,
    })?])
}

fn from_stdin() -> anyhow::Result<Vec<Message>> {
    let mut messages = Vec::new();
    let mut errors = Vec::new();
    for (n, line) in std::io::stdin().lock().lines().enumerate() {
        let line = line.context("reading stdin")?;
        if line.trim().is_empty() {
            continue;
        }
        let parsed = serde_json::from_str::<Line>(&line)
            .map_err(anyhow::Error::from)
            .and_then(build);
        match parsed {
            Ok(m) => messages.push(m),
            Err(e) => errors.push(format!("line {}: {e}", n + 1)),
        }
    }
    anyhow::ensure!(
        errors.is_empty(),
        "nothing published:\n{}",
        errors.join("\n")
    );
    anyhow::ensure!(!messages.is_empty(), "no messages on stdin");
    Ok(messages)
}

pub async fn run(global: &Global, args: PublishArgs) -> anyhow::Result<()> {
    let messages = if args.conversation.is_none() && args.text.is_none() {
        from_stdin()?
    } else {
        from_args(args)?
    };
    let client = super::connect(global, "switchboard-publish").await?;
    let store = EventStore::new(client, StoreOptions::default());
    for message in &messages {
        match append_received(&store, message).await? {
            Published::Stored(seq) => {
                println!("{} {} seq {}", message.key, message.event.envelope.id, seq)
            }
            Published::Duplicate { id, seq } => println!(
                "{} {id} seq {seq} (duplicate: channel {} message {} was already stored; nothing new stored)",
                message.key,
                message.channel(),
                message.message_id()
            ),
        }
    }
    Ok(())
}

impl Message {
    fn received(&self) -> Option<&Received> {
        match &self.event.data {
            EventData::Received(r) => Some(r),
            _ => None,
        }
    }

    fn channel(&self) -> &str {
        self.received().map_or("", |r| r.channel.as_str())
    }

    fn message_id(&self) -> &str {
        self.received().map_or("", |r| r.message_id.as_str())
    }

    /// The event already in `loaded` for the same channel message.
    fn stored_in(&self, loaded: &Loaded) -> Option<Published> {
        loaded.events.iter().find_map(|e| match &e.event.data {
            EventData::Received(r)
                if r.channel == self.channel() && r.message_id == self.message_id() =>
            {
                Some(Published::Duplicate {
                    id: e.event.envelope.id,
                    seq: e.seq,
                })
            }
            _ => None,
        })
    }
}

/// What became of a message.
enum Published {
    /// Stored now, at this sequence.
    Stored(StreamSeq),
    /// The same channel message was already in the conversation: this is
    /// the event that holds it.
    Duplicate { id: EventId, seq: StreamSeq },
}

/// Appends at the conversation's current version, reloading on conflict.
/// A message already stored (same channel and message id in the
/// conversation) is reported with the event that holds it, not repeated:
/// the event id built here was never stored.
async fn append_received(store: &EventStore, m: &Message) -> anyhow::Result<Published> {
    for _ in 0..5 {
        let loaded = store.load(&m.key).await?;
        if let Some(original) = m.stored_in(&loaded) {
            return Ok(original);
        }
        match store
            .append(
                &m.key,
                loaded.version,
                std::slice::from_ref(&m.event),
                &m.idempotency,
            )
            .await
        {
            Ok(appended) => return Ok(Published::Stored(appended.last)),
            // Stored meanwhile by another publisher of the same message.
            Err(e) if e.kind() == AppendErrorKind::Duplicate => {
                let loaded = store.load(&m.key).await?;
                return m.stored_in(&loaded).with_context(|| {
                    format!(
                        "{}: JetStream reports channel {} message {} as a duplicate, but the conversation does not hold it",
                        m.key,
                        m.channel(),
                        m.message_id()
                    )
                });
            }
            Err(e) if e.kind() == AppendErrorKind::Conflict => continue,
            Err(e) => return Err(e.into()),
        }
    }
    anyhow::bail!("{}: the conversation kept changing; try again", m.key)
}

/// Validates one JSON line (the stdin format) and appends it as `publish`
/// does: the intake path `bench chaos` drives. Publishing the same line
/// again (same channel message id) stores nothing new.
pub(crate) async fn publish_json_line(store: &EventStore, line: &str) -> anyhow::Result<StreamSeq> {
    let message = serde_json::from_str::<Line>(line)
        .map_err(anyhow::Error::from)
        .and_then(build)?;
    Ok(match append_received(store, &message).await? {
        Published::Stored(seq) | Published::Duplicate { seq, .. } => seq,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str, language: Option<&str>) -> Line {
        Line {
            conversation: "brewvi/c1".into(),
            text: text.into(),
            channel: default_channel(),
            customer: default_customer(),
            tier: CustomerTier::Standard,
            language: language.map(str::to_owned),
            message_id: Some("m1".into()),
        }
    }

    fn language_of(message: &Message) -> &str {
        match &message.event.data {
            EventData::Received(r) => &r.language,
            other => panic!("not a received event: {other:?}"),
        }
    }

    #[test]
    fn given_no_language_when_built_then_it_is_detected_from_the_text() {
        let fr = build(line("Où est ma commande ?", None)).expect("valid line");
        assert_eq!(language_of(&fr), "fr");
        let es = build(line("¿Dónde está mi pedido?", None)).expect("valid line");
        assert_eq!(language_of(&es), "es");
        let en = build(line("Where is my order?", None)).expect("valid line");
        assert_eq!(language_of(&en), "en");
    }

    #[test]
    fn given_an_explicit_language_when_built_then_it_wins_and_a_bad_tag_is_refused() {
        let given = build(line("Où est ma commande ?", Some("fr-CA"))).expect("valid line");
        assert_eq!(language_of(&given), "fr-CA");
        let err = build(line("hello", Some("en us!"))).err().expect("bad tag");
        assert!(err.to_string().contains("not a BCP-47 tag"), "{err}");
    }
}
