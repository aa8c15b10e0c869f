//! `holdtime decode` on a capture holding an OPEN that is well-formed but must be refused
//! (Hold Time 2 s, RFC 4271 §6.2), as a real GoBGP→BIRD capture does: the OPEN is decoded
//! and counted as tshark counts it, the NOTIFICATION the receiver would answer (2/6) is said,
//! and `--check-roundtrip` finds nothing wrong.

use std::process::{Command, Output};

#[path = "support/hold2.rs"]
mod hold2;

fn holdtime(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_holdtime"))
        .args(args)
        .output()
        .expect("the holdtime binary runs")
}

#[test]
fn an_open_with_hold_time_2_is_decoded_counted_and_its_refusal_named() {
    let path = hold2::capture("decode-refused");
    let file = path.to_string_lossy().into_owned();
    let out = holdtime(&["decode", &file, "--check-roundtrip"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let first = stdout.lines().next().expect("a line per message");
    assert!(
        first.contains("OPEN as=AS65001 hold=2 ")
            && first.ends_with("; receiver would answer 2/6 Unacceptable Hold Time"),
        "{first}"
    );
    assert!(!stdout.contains("MALFORMED"), "{stdout}");
    assert!(!stdout.contains("ROUNDTRIP"), "{stdout}");
    assert!(
        stdout.contains("NOTIFICATION OPEN_MESSAGE/UNACCEPTABLE_HOLD_TIME (2/6)"),
        "{stdout}"
    );
    // Both OPENs counted, as tshark counts them; nothing failed.
    assert!(
        stderr.contains("3 messages (NOTIFICATION 1, OPEN 2), 0 failed, 0 re-encoded differently, 1 refused by the receiver"),
        "{stderr}"
    );

    let out = holdtime(&["decode", &file, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let first: serde_json::Value = serde_json::from_str(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .expect("a line"),
    )
    .expect("JSON");
    assert_eq!(first["type"], "OPEN");
    assert_eq!(first["refused"]["code"], 2);
    assert_eq!(first["refused"]["subcode"], 6);
}
