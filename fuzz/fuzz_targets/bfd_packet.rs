//! Arbitrary UDP payloads through `bfd::packet::ControlPacket::decode`: never panics; what
//! decodes re-encodes into a packet that decodes to the same value, and is the decoded octets
//! but for the Length field, and both encoders agree.
#![no_main]

use bgp::bfd::packet::ControlPacket;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let packet = match ControlPacket::decode(data) {
        Ok(p) => p,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let bytes = packet.to_bytes();
    let mut encoded = Vec::new();
    packet.encode(&mut encoded);
    assert_eq!(bytes, encoded, "to_bytes and encode disagree");
    assert_eq!(
        &packet.to_buf()[..],
        &bytes[..],
        "to_buf and to_bytes disagree"
    );
    let again = ControlPacket::decode(&bytes).expect("an encoded packet must decode");
    assert_eq!(again, packet, "decode(encode(p)) != p");
    // The encoding is the decoded octets, but for the Length field: without authentication a
    // Length above 24 is accepted (RFC 5880 §6.8.6 only bounds it) and re-encoded as 24.
    let mut original = data[..bytes.len()].to_vec();
    original[3] = bytes[3];
    assert_eq!(original, bytes, "encoding differs from the decoded octets");
});
