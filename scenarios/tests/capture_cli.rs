//! `holdtime run --pcap/--mrt` and `holdtime decode` end to end: deterministic files, the
//! epoch option, gzip input, exit statuses and the lines printed.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output};

fn holdtime(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_holdtime"))
        .args(args)
        .output()
        .expect("the holdtime binary runs")
}

fn dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("capture-cli");
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn path(name: &str) -> String {
    dir().join(name).to_string_lossy().into_owned()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn run_writes_identical_captures_for_the_same_seed_and_decode_reads_them() {
    let (a, b, m) = (path("a.pcapng"), path("b.pcapng"), path("a.mrt"));
    for (p, extra) in [(&a, Some(m.as_str())), (&b, None)] {
        let mut args = vec!["run", "single-ce", "--pcap", p.as_str()];
        if let Some(m) = extra {
            args.extend(["--mrt", m]);
        }
        let out = holdtime(&args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    }
    let (fa, fb) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert!(fa.len() > 1000);
    assert_eq!(fa, fb, "same scenario and seed, same bytes");

    let out = holdtime(&["decode", &a, "--check-roundtrip"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let first = stdout.lines().next().expect("a line per message");
    assert!(
        first.starts_with("2026-01-01T00:00:00.")
            && first.contains(":179")
            && first.contains("OPEN"),
        "{first}"
    );
    assert!(
        stdout.contains("NOTIFICATION HOLD_TIMER_EXPIRED (4/0)"),
        "codes are named"
    );
    assert!(
        !stdout.contains("ROUNDTRIP"),
        "every message re-encodes the same"
    );

    let out = holdtime(&["decode", &m, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert!(
        lines
            .iter()
            .any(|v| v["type"] == "UPDATE" && v["message"].is_object())
    );
    assert!(lines.iter().any(|v| v["state"]["to"] == "Established"));
}

#[test]
fn pcap_epoch_moves_the_timestamps() {
    let p = path("epoch.pcapng");
    let out = holdtime(&["run", "single-ce", "--pcap", &p, "--pcap-epoch", "0"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = holdtime(&["decode", &p]);
    let first = text(&out.stdout);
    assert!(first.starts_with("1970-01-01T00:00:00."), "{first}");
}

#[test]
fn decode_reads_gzip_and_fails_on_corruption_with_the_frame_number() {
    let p = path("gz.pcapng");
    let out = holdtime(&["run", "single-ce", "--pcap", &p]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let data = std::fs::read(&p).unwrap();
    let gz = path("gz.pcapng.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&data).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let plain = holdtime(&["decode", &p]);
    let zipped = holdtime(&["decode", &gz]);
    assert_eq!(zipped.status.code(), Some(0), "{}", text(&zipped.stderr));
    assert_eq!(plain.stdout, zipped.stdout, "gzip is transparent");

    // Break the length field of the first BGP message's header.
    let mut bad = data;
    let at = bad
        .windows(16)
        .position(|w| w.iter().all(|b| *b == 0xFF))
        .expect("a BGP message");
    bad[at + 16] = 0;
    bad[at + 17] = 3;
    let bp = path("bad.pcapng");
    std::fs::write(&bp, &bad).unwrap();
    let out = holdtime(&["decode", &bp]);
    assert_eq!(out.status.code(), Some(1), "a failure exits 1");
    let stdout = text(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.contains("MALFORMED"))
        .expect("the bad message is reported");
    assert!(
        line.contains(" #") && line.contains("BAD_MESSAGE_LENGTH"),
        "{line}"
    );
    assert!(stdout.lines().count() > 10, "decoding went on after it");

    let out = holdtime(&["decode", &path("nonexistent.pcap")]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_run_that_cannot_be_replayed_leaves_no_capture_behind() {
    // Find a library scenario this build does not replay (exit 3), if any.
    let p = path("unsupported.pcapng");
    for entry in &scenarios::library::LIBRARY {
        let out = holdtime(&["run", entry.name, "--pcap", &p]);
        if out.status.code() == Some(3) {
            assert!(!std::path::Path::new(&p).exists(), "{}", entry.name);
            return;
        }
    }
}
