//! A channel that speaks NATS needs no gateway: a `received` event
//! published by the official Python client (PyPI nats-py) with the
//! CloudEvents headers on its conversation subject is answered by the
//! agents like one from HTTP.

mod agents_support;

use agents_support::{Running, options, settled};
use switchboard_engine::event::EventData;
use switchboard_tests::{TestServer, text};

#[tokio::test]
async fn a_message_published_by_the_python_client_is_answered() {
    let server = TestServer::start();
    let store = server.store().await;
    let running = Running::all(&store, &options());
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/python/publish_received.py"
    );
    let output = std::process::Command::new("python3")
        .args([
            script,
            &server.url(),
            "brewvi",
            "py-1",
            "Where is my order 10234?",
        ])
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "the Python publisher failed (needs PyPI nats-py: `python3 -m pip install nats-py`, which ./dev test installs): {}",
        text(&output.stderr)
    );
    let seq: u64 = text(&output.stdout)
        .trim()
        .parse()
        .expect("a stream sequence");
    let key = agents_support::key("brewvi/py-1");
    let events = settled(&store, &key).await;
    running.shutdown().await;
    assert_eq!(
        events[0].seq.get(),
        seq,
        "the Python client's message opens the conversation"
    );
    assert_eq!(events[0].event.envelope.actor.as_str(), "channel:python");
    assert!(
        events
            .iter()
            .any(|e| matches!(&e.event.data, EventData::Responded(_))),
        "the agents answered the customer: {:?}",
        events
            .iter()
            .map(|e| e.event.event_type())
            .collect::<Vec<_>>()
    );
}
