//! A scripted HTTP/1.1 server on loopback for testing our client's
//! behaviour (retries, `Retry-After`, format fallback, breaker, timeouts):
//! it answers each connection with the next scripted reply and records the
//! request bodies. It stands in for the network, not for a model.

use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// One scripted reply.
#[derive(Clone)]
pub(crate) enum Reply {
    /// Status, extra headers, body.
    Http(u16, Vec<(&'static str, String)>, String),
    /// Read the request and never answer.
    Hang,
}

impl Reply {
    pub(crate) fn status(code: u16, headers: &[(&'static str, &str)], body: &str) -> Self {
        let headers = headers.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        Self::Http(code, headers, body.to_owned())
    }

    /// A 200 chat completion whose message content is `content`.
    pub(crate) fn completion(content: &str) -> Self {
        let body = serde_json::json!({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1,
            "model": "gpt-4o-2024-08-06",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
        });
        Self::status(200, &[], &body.to_string())
    }
}

/// The running server; stops when dropped.
pub(crate) struct StubServer {
    pub(crate) base_url: String,
    requests: Arc<Mutex<Vec<Value>>>,
    task: JoinHandle<()>,
}

impl StubServer {
    /// Serves `script` in order, repeating the last reply once it runs out.
    pub(crate) async fn start(script: Vec<Reply>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("bound socket has an address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let task = tokio::spawn(async move {
            for n in 0.. {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let reply = script[n.min(script.len() - 1)].clone();
                let seen = seen.clone();
                tokio::spawn(serve(stream, reply, seen));
            }
        });
        Self {
            base_url: format!("http://{addr}/v1"),
            requests,
            task,
        }
    }

    /// The JSON bodies received so far.
    pub(crate) fn requests(&self) -> Vec<Value> {
        self.requests.lock().expect("no panics while held").clone()
    }
}

impl Drop for StubServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(mut stream: TcpStream, reply: Reply, seen: Arc<Mutex<Vec<Value>>>) {
    let body = read_request(&mut stream).await;
    seen.lock()
        .expect("no panics while held")
        .push(serde_json::from_slice(&body).unwrap_or(Value::Null));
    let Reply::Http(code, headers, body) = reply else {
        std::future::pending::<()>().await;
        return;
    };
    let mut head = format!(
        "HTTP/1.1 {code} Stub\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Reads one request and returns its body (Content-Length framing).
async fn read_request(stream: &mut TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                return buf[end + 4..end + 4 + len].to_vec();
            }
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return Vec::new(),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}
