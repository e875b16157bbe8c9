//! Against a real OpenAI-compatible server, only when
//! `SWITCHBOARD_TEST_OPENAI_URL` (the `/v1` base) is set; optional
//! `SWITCHBOARD_TEST_OPENAI_MODEL` and `SWITCHBOARD_TEST_OPENAI_KEY`.
//! Small local models answer nonsense, so this checks protocol and shape:
//! the call must reach the server and come back as a decoded payload or a
//! `BadResponse`, never as a transport, auth or config failure. Ignored
//! (with the reason) unless run with `--ignored`, as `./dev test` does when
//! the variable is set.

use std::time::Duration;

use super::*;

#[tokio::test]
#[ignore = "needs SWITCHBOARD_TEST_OPENAI_URL (`./dev test` runs it when it is set)"]
async fn classify_against_a_real_server() {
    let Ok(base_url) = std::env::var("SWITCHBOARD_TEST_OPENAI_URL") else {
        eprintln!(
            "SKIPPED: remote::live_tests::classify_against_a_real_server (set SWITCHBOARD_TEST_OPENAI_URL to run)"
        );
        return;
    };
    let model = std::env::var("SWITCHBOARD_TEST_OPENAI_MODEL").unwrap_or_else(|_| "test".into());
    let api_key = std::env::var("SWITCHBOARD_TEST_OPENAI_KEY")
        .ok()
        .map(Secret::new);
    let mut config = RemoteConfig::new(Endpoint::OpenAiCompatible {
        base_url,
        model,
        api_key,
    });
    config.timeout = Duration::from_secs(60);
    config.max_tokens = 200;
    let classifier = RemoteClassifier::new(RemoteModel::new(config).expect("valid config"));
    match classifier
        .classify("Where is my order #1001? It is late.")
        .await
    {
        Ok(event) => {
            let usage = event.model.expect("remote events record their model");
            assert!(usage.prompt_tokens.is_some(), "{usage:?}");
            println!(
                "classified: {:?} {:.2} by {}",
                event.intent, event.confidence, usage.model
            );
        }
        Err(e) => {
            assert_eq!(e.kind(), RemoteErrorKind::BadResponse, "{e}");
            println!("server answered, output rejected: {e}");
        }
    }
}
