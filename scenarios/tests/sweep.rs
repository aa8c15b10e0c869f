//! `holdtime sweep` and `holdtime merge` end to end: the result does not depend on the number
//! of workers (`--jobs` 1, 2 and 4 give the same bytes), and merged shards, each swept with
//! its own number of workers and merged in any order, are the unsharded result byte for byte.

use std::path::PathBuf;
use std::process::{Command, Output};

fn holdtime(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_holdtime"))
        .env("CI", "true")
        .args(args)
        .output()
        .expect("the holdtime binary runs")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("holdtime-sweep-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

const GRID: [&str; 8] = [
    "--set",
    "bgp.hold_time=30s,180s",
    "--set",
    "tcp.preset=linux,rfc6298",
    "--runs",
    "6",
    "--seed",
    "7",
];

fn sweep_json(extra: &[&str]) -> String {
    let mut args = vec!["sweep", "reference", "--format", "json"];
    args.extend_from_slice(&GRID);
    args.extend_from_slice(extra);
    let out = holdtime(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 JSON")
}

#[test]
fn jobs_1_2_and_4_give_identical_json() {
    let one = sweep_json(&["--jobs", "1"]);
    let two = sweep_json(&["--jobs", "2"]);
    let four = sweep_json(&["--jobs", "4"]);
    assert!(one == two, "--jobs 1 and --jobs 2 differ");
    assert!(one == four, "--jobs 1 and --jobs 4 differ");
    let v: serde_json::Value = serde_json::from_str(&one).unwrap();
    let points = v["points"].as_array().unwrap();
    assert_eq!(points.len(), 4);
    for p in points {
        assert_eq!(p["runs"], 6);
        assert_eq!(p["histograms"]["detection.ce1"]["count"], 6);
    }
    // A 30 s hold time detects faster than 180 s (nanoseconds, the unit in the key).
    let p99 = |i: usize| {
        points[i]["histograms"]["detection.ce1"]["summary"]["p99_ns"]
            .as_u64()
            .unwrap()
    };
    assert!(
        p99(0) <= 30_000_000_000 && p99(2) > 100_000_000_000,
        "{one}"
    );
}

/// Every time in a sweep result is integer nanoseconds: duration histograms have unit `ns`
/// and `_ns` summary keys, count histograms neither, `simulated_ns` is a number; files of the
/// earlier formats are refused by `merge` and `report` with the reason.
#[test]
fn sweep_json_is_in_nanoseconds_and_earlier_formats_are_refused() {
    let json = sweep_json(&["--jobs", "2"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["format"], "holdtime.sweep/2");
    let p = &v["points"][0];
    // 6 runs of the reference: 15 minutes each.
    assert_eq!(p["simulated_ns"].as_u64(), Some(6 * 900_000_000_000));
    let h = &p["histograms"];
    assert_eq!(h["detection.ce1"]["unit"], "ns");
    let ns = &h["detection.ce1"]["summary"];
    for k in ["p50_ns", "p90_ns", "p99_ns", "p99.9_ns", "max_ns"] {
        assert!(ns[k].as_u64().is_some(), "{k}: {ns}");
    }
    // ce1 detects a silent cut within its hold time (in seconds: 10^9 ns).
    assert!(ns["max_ns"].as_u64().unwrap() > 1_000_000_000, "{ns}");
    assert_eq!(h["flaps"]["unit"], "count");
    assert!(h["flaps"]["summary"]["p50"].as_u64().is_some());
    assert!(h["flaps"]["summary"].get("p50_ns").is_none());

    let dir = temp_dir("old");
    for old in ["holdtime.sweep/1", "holdtime-sweep/2"] {
        let f = dir.join("old.json");
        std::fs::write(&f, json.replacen("holdtime.sweep/2", old, 1)).unwrap();
        let f = f.to_str().unwrap();
        for args in [vec!["merge", f], vec!["report", f]] {
            let out = holdtime(&args);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
            assert!(
                err.contains(&format!(
                    "format `{old}` was written by an earlier holdtime"
                )) && err.contains("holdtime.sweep/2")
                    && err.contains("run the command again"),
                "{args:?}: {err}"
            );
        }
    }
}

#[test]
fn merged_shards_equal_the_unsharded_sweep_byte_for_byte() {
    let dir = temp_dir("merge");
    let whole = sweep_json(&["--jobs", "2"]);
    let mut files = Vec::new();
    // Each shard with another number of workers: neither may show in the bytes.
    for (shard, jobs) in [("2/3", "4"), ("1/3", "1"), ("3/3", "2")] {
        let f = dir.join(format!("shard-{}.json", &shard[..1]));
        let f_str = f.to_str().unwrap().to_owned();
        sweep_json(&["--shard", shard, "--jobs", jobs, "--out", &f_str]);
        files.push(f_str);
    }
    let merge = |files: &[&str]| {
        let mut args = vec!["merge"];
        args.extend_from_slice(files);
        let out = holdtime(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let given: Vec<&str> = files.iter().map(String::as_str).collect();
    assert!(
        merge(&given) == whole,
        "merged shards differ from the sweep"
    );
    let mut in_order = given.clone();
    in_order.sort_unstable();
    assert!(
        merge(&in_order) == whole,
        "the merge depends on the order of its files"
    );
    let mut args = vec!["merge"];
    args.extend(files.iter().map(String::as_str));

    // The text table too.
    args.extend(["--format", "text"]);
    let merged_text = holdtime(&args);
    let mut sweep_args = vec!["sweep", "reference", "--format", "text"];
    sweep_args.extend_from_slice(&GRID);
    let whole_text = holdtime(&sweep_args);
    assert_eq!(merged_text.stdout, whole_text.stdout);

    // A missing shard is refused.
    let out = holdtime(&["merge", &files[0], &files[1]]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing 3/3"));
}

#[test]
fn invalid_grid_values_are_located_and_refused() {
    let out = holdtime(&[
        "sweep",
        "reference",
        "--runs",
        "1",
        "--set",
        "bgp.hold_time=5s",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bgp.hold_time=5s"), "{err}");
    assert!(err.contains("hold_time = \"5s\""), "{err}");
    let out = holdtime(&[
        "sweep",
        "reference",
        "--runs",
        "1",
        "--set",
        "link.loss=0.1",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("link[TARGET]"));
}

#[test]
fn advise_refuses_bursts_that_are_not_durations_or_too_short() {
    let refused = |args: &[&str], want: &str| {
        let out = holdtime(args);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    };
    refused(
        &["advise", "--burst", "500us"],
        "--burst 500us is shorter than 1ms",
    );
    refused(
        &["advise", "--loss", "0.999", "--burst", "1ms"],
        "leaves 1.001us between bursts, less than 1ms",
    );
    // A count of packets (the old meaning) is not a duration.
    refused(&["advise", "--burst", "50"], "unknown or missing unit");
}

#[test]
fn csv_has_one_row_per_grid_point() {
    let mut args = vec!["sweep", "reference", "--format", "csv"];
    args.extend_from_slice(&GRID);
    let out = holdtime(&args);
    let csv = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 5, "{csv}");
    let cols = lines[0].split(',').count();
    assert!(lines.iter().all(|l| l.split(',').count() == cols));
    assert!(lines[0].starts_with("point,bgp.hold_time,tcp.preset,runs,"));
    assert!(lines[1].starts_with("1,30s,linux,6,"));
}
