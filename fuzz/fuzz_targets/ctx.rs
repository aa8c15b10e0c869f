// Shared by the fuzz targets: the first input byte chooses the session context, so every
// negotiated variant (2/4-octet AS, ADD-PATH per family, extended messages) gets explored
// without an `Arbitrary` dependency in the `bgp` crate.

use bgp::wire::{DecodeCtx, Family};

pub fn ctx_from(byte: u8) -> DecodeCtx {
    let mut add_path = Vec::new();
    if byte & 2 != 0 {
        add_path.push(Family::IPV4_UNICAST);
    }
    if byte & 4 != 0 {
        add_path.push(Family::IPV6_UNICAST);
    }
    DecodeCtx {
        four_octet_as: byte & 1 != 0,
        add_path,
        extended_message: byte & 8 != 0,
    }
}
