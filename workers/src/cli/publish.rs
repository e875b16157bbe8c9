//! `switchboard publish`: append customer messages as `received` events.
//!
//! One message from arguments, or many from JSON lines on stdin. Every line
//! is validated before anything is published: one bad line publishes
//! nothing and names the line and the problem.

use std::io::BufRead;

use anyhow::Context;
use clap::Args;
use serde::Deserialize;
use switchboard_engine::event::CustomerTier;
use switchboard_engine::ids::{ConversationKey, StreamSeq};
use switchboard_engine::store::{EventStore, StoreOptions};
use switchboard_workers::intake::{CustomerMessage, Intake, MessageRequest};

use super::Global;

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

/// One JSON line on stdin: the conversation and the gateway's message body.
#[derive(Debug, Deserialize)]
struct Line {
    conversation: String,
    #[serde(flatten)]
    message: serde_json::Map<String, serde_json::Value>,
}

/// Validates one line: strict on the message's fields (unknown ones are
/// refused), with the CLI's channel default.
fn build(line: &str) -> anyhow::Result<CustomerMessage> {
    let Line {
        conversation,
        mut message,
    } = serde_json::from_str(line)?;
    let key = ConversationKey::parse(&conversation)?;
    message
        .entry("channel")
        .or_insert_with(|| serde_json::Value::from("cli"));
    let request: MessageRequest = serde_json::from_value(serde_json::Value::Object(message))?;
    Ok(CustomerMessage::build(key, request, None)?)
}

fn from_args(args: PublishArgs) -> anyhow::Result<Vec<CustomerMessage>> {
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
    let request = MessageRequest {
        text,
        channel: args.channel,
        customer: args.customer,
        tier,
        language: args.language,
        message_id: args.message_id,
    };
    Ok(vec![CustomerMessage::build(
        ConversationKey::parse(&conversation)?,
        request,
        None,
    )?])
}

fn from_stdin() -> anyhow::Result<Vec<CustomerMessage>> {
    let mut messages = Vec::new();
    let mut errors = Vec::new();
    for (n, line) in std::io::stdin().lock().lines().enumerate() {
        let line = line.context("reading stdin")?;
        if line.trim().is_empty() {
            continue;
        }
        match build(&line) {
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
    let intake =
        Intake::new(super::privacy::event_store(global, client, StoreOptions::default()).await?);
    for message in &messages {
        let stored = intake.receive(message).await?;
        if stored.duplicate {
            let (channel, id) = message
                .received()
                .map_or(("", ""), |r| (r.channel.as_str(), r.message_id.as_str()));
            println!(
                "{} {} seq {} (duplicate: channel {channel} message {id} was already stored; nothing new stored)",
                message.key, stored.id, stored.seq
            );
        } else {
            println!("{} {} seq {}", message.key, stored.id, stored.seq);
        }
    }
    Ok(())
}

/// Validates one JSON line (the stdin format) and appends it as `publish`
/// does: the intake path `bench chaos` drives. Publishing the same line
/// again (same channel message id) stores nothing new.
pub(crate) async fn publish_json_line(store: &EventStore, line: &str) -> anyhow::Result<StreamSeq> {
    let message = build(line)?;
    Ok(Intake::new(store.clone()).receive(&message).await?.seq)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_a_line_without_channel_when_built_then_the_cli_channel_is_used() {
        let message = build(r#"{"conversation":"brewvi/c1","text":"hi","message_id":"m1"}"#)
            .expect("valid line");
        assert_eq!(message.received().map(|r| r.channel.as_str()), Some("cli"));
    }

    #[test]
    fn given_a_line_with_an_unknown_field_when_built_then_it_is_refused_by_name() {
        let err = build(r#"{"conversation":"brewvi/c1","text":"hi","colour":"red"}"#)
            .expect_err("unknown field");
        assert!(err.to_string().contains("colour"), "{err}");
    }
}
