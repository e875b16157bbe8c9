//! Every event type's payload at schema versions 0 to 3 (upcasting older
//! ones): decoding arbitrary bytes never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard_engine::event::EventType;
use switchboard_engine::event::codec::decode_data;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, payload)) = data.split_first() else {
        return;
    };
    let event_type = EventType::ALL[usize::from(selector) % EventType::ALL.len()];
    let version = u32::from(selector >> 4) % 4;
    let _ = decode_data(event_type, version, payload);
});
