//! What the binary reads, for the deployment tests (compose, Terraform):
//! `switchboard config vars --json` and whether a command line reads a
//! variable.

use std::process::Command;

use serde_json::Value;

/// What `switchboard config vars --json` describes.
pub fn vars() -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["config", "vars", "--json"])
        .output()
        .expect("the binary runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// Whether the command line `args` (`worker critic`) reads `var`.
pub fn read_by(var: &Value, args: &[String]) -> bool {
    let commands = var["commands"].as_array().cloned().unwrap_or_default();
    commands.iter().filter_map(Value::as_str).any(|c| {
        c == "*" || {
            let words: Vec<&str> = c.split(' ').collect();
            args.len() >= words.len() && args.iter().zip(&words).all(|(a, w)| a == w)
        }
    })
}
