//! Verification of exports tampered in every way an editor can.

use super::*;

fn key(seed: u8) -> AuditKey {
    AuditKey::from_seed([seed; 32])
}

fn body(n: u64, prev: &str) -> Body {
    Body {
        n,
        seq: n * 10,
        subject: format!("conv.acme.c{n}.received"),
        stored_at: "2026-12-01T10:00:00Z".into(),
        headers: BTreeMap::from([("ce-type".to_owned(), "received".to_owned())]),
        payload: serde_json::json!({ "text": format!("message {n}") }),
        prev: prev.to_owned(),
    }
}

/// An export of `count` lines signed by `signer`.
fn export_of(count: u64, signer: &AuditKey) -> String {
    let mut out = Vec::new();
    let mut prev = genesis();
    for n in 1..=count {
        prev = write_line(&mut out, &body(n, &prev), &prev).expect("written");
    }
    write_end(&mut out, signer, count, &prev).expect("written");
    String::from_utf8(out).expect("utf-8")
}

/// Recomputes the chain of edited lines, as a forger would, and signs it.
fn rechain(lines: &[&str], signer: &AuditKey) -> String {
    let mut out = Vec::new();
    let mut prev = genesis();
    let mut n = 0;
    for line in lines {
        let parsed: serde_json::Value = serde_json::from_str(line).expect("json");
        if parsed.get("end").is_some() {
            continue;
        }
        n += 1;
        let mut b: Body = serde_json::from_value(parsed["body"].clone()).expect("body");
        b.n = n;
        b.prev = prev.clone();
        prev = write_line(&mut out, &b, &prev).expect("written");
    }
    write_end(&mut out, signer, n, &prev).expect("written");
    String::from_utf8(out).expect("utf-8")
}

#[test]
fn given_an_untouched_export_when_verified_then_it_passes_with_its_count() {
    let signer = key(1);
    let verified = verify(&export_of(3, &signer), &signer.verifying_key()).expect("verifies");
    assert_eq!(verified.lines, 3);
    assert_eq!(verified.public_key, signer.public_hex());
}

#[test]
fn given_an_empty_export_when_verified_then_it_passes() {
    let signer = key(1);
    let verified = verify(&export_of(0, &signer), &signer.verifying_key()).expect("verifies");
    assert_eq!(verified.lines, 0);
}

#[test]
fn given_an_edited_line_when_verified_then_that_line_is_named() {
    let signer = key(1);
    let text = export_of(3, &signer).replace("message 2", "message two");
    assert_eq!(
        verify(&text, &signer.verifying_key()),
        Err(VerifyError::Edited { line: 2 })
    );
}

#[test]
fn given_a_deleted_line_when_verified_then_the_line_after_the_gap_is_named() {
    let signer = key(1);
    let text = export_of(3, &signer);
    let kept: Vec<&str> = text
        .lines()
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .map(|(_, l)| l)
        .collect();
    assert_eq!(
        verify(&kept.join("\n"), &signer.verifying_key()),
        Err(VerifyError::BrokenChain { line: 2 })
    );
}

#[test]
fn given_an_inserted_line_when_verified_then_it_is_named() {
    let signer = key(1);
    let text = export_of(3, &signer);
    let mut lines: Vec<&str> = text.lines().collect();
    let copy = lines[0];
    lines.insert(2, copy);
    assert_eq!(
        verify(&lines.join("\n"), &signer.verifying_key()),
        Err(VerifyError::BrokenChain { line: 3 })
    );
}

#[test]
fn given_reordered_lines_when_verified_then_the_first_moved_line_is_named() {
    let signer = key(1);
    let text = export_of(3, &signer);
    let mut lines: Vec<&str> = text.lines().collect();
    lines.swap(0, 1);
    assert_eq!(
        verify(&lines.join("\n"), &signer.verifying_key()),
        Err(VerifyError::BrokenChain { line: 1 })
    );
}

#[test]
fn given_a_cut_export_when_verified_then_it_is_unsigned() {
    let signer = key(1);
    let text = export_of(3, &signer);
    let lines: Vec<&str> = text.lines().take(3).collect();
    assert_eq!(
        verify(&lines.join("\n"), &signer.verifying_key()),
        Err(VerifyError::Unsigned)
    );
}

#[test]
fn given_a_rechained_forgery_signed_by_another_key_when_verified_then_it_fails() {
    let signer = key(1);
    let text = export_of(3, &signer).replace("message 2", "message two");
    let lines: Vec<&str> = text.lines().collect();
    let forged = rechain(&lines, &key(2));
    // The chain is whole again: only the trusted key tells the forgery apart.
    assert!(verify(&forged, &key(2).verifying_key()).is_ok());
    assert!(matches!(
        verify(&forged, &signer.verifying_key()),
        Err(VerifyError::WrongKey { .. })
    ));
}

#[test]
fn given_a_rechained_forgery_claiming_the_trusted_key_when_verified_then_the_signature_fails() {
    let signer = key(1);
    let text = export_of(3, &signer).replace("message 2", "message two");
    let lines: Vec<&str> = text.lines().collect();
    let forged = rechain(&lines, &key(2)).replace(&key(2).public_hex(), &signer.public_hex());
    assert_eq!(
        verify(&forged, &signer.verifying_key()),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn given_lines_after_the_end_when_verified_then_they_are_named() {
    let signer = key(1);
    let text = format!("{}{}\n", export_of(2, &signer), r#"{"extra":true}"#);
    assert_eq!(
        verify(&text, &signer.verifying_key()),
        Err(VerifyError::AfterEnd { line: 4 })
    );
}

#[test]
fn given_a_public_key_in_hex_when_parsed_then_it_round_trips_and_junk_is_refused() {
    let signer = key(3);
    let parsed = parse_public_key(&signer.public_hex()).expect("valid");
    assert_eq!(parsed, signer.verifying_key());
    assert!(matches!(
        parse_public_key("zz"),
        Err(VerifyError::BadKey(_))
    ));
}
