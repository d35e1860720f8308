//! The body parsers on arbitrary bytes: the tolerant fastjson reader and
//! REGISTER_BROKER bodies in every form (JSON, compressed, pre-3.0.11).
#![no_main]

use libfuzzer_sys::fuzz_target;
use namesrv::json;
use namesrv::route::register_body;

fuzz_target!(|data: &[u8]| {
    let _ = json::read::parse(data);
    let _ = register_body::decode(data, false, 479, 1 << 20);
    let _ = register_body::decode(data, true, 479, 1 << 20);
    let _ = register_body::decode(data, false, 30, 1 << 20);
    let _ = register_body::topic_config_from_text(data);
});
