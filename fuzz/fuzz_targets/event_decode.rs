//! A message off the wire: a subject line, `name: value` header lines, a
//! blank line, then the payload. Decoding never panics, and whatever
//! decodes encodes back to the same event.
#![no_main]

use std::str::FromStr;

use async_nats::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;
use switchboard_engine::event::codec::{decode, encode};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (head, payload) = text.split_once("\n\n").unwrap_or((text, ""));
    let mut lines = head.lines();
    let subject = lines.next().unwrap_or_default();
    let mut headers = HeaderMap::new();
    for line in lines {
        // What NATS itself would refuse never reaches the decoder.
        let Some((name, value)) = line.split_once(": ") else {
            continue;
        };
        if let (Ok(name), Ok(value)) = (HeaderName::from_str(name), HeaderValue::from_str(value)) {
            headers.insert(name, value);
        }
    }
    if let Ok(event) = decode(subject, Some(&headers), payload.as_bytes()) {
        let encoded = encode(&event);
        let again = decode(&encoded.subject, Some(&encoded.headers), &encoded.payload)
            .expect("an encoded event decodes");
        assert_eq!(again, event);
    }
});
