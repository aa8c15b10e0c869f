//! The `false_resets` sweep metric: one rare-event estimate of the false-reset rate per grid
//! point, the advisor's number for the same settings, the same bytes whatever the number of
//! threads, and refused with the grid point named where it makes no sense.

use std::process::Command;

use scenarios::spec::TcpPreset;
use scenarios::sweep::advise::{AdviseSpec, Candidate, LossSpec, Method, assess};
use scenarios::sweep::rare::{ROULETTE, RareSpec};
use scenarios::sweep::{Exec, FalseResets, SweepError, SweepResult, SweepSpec, run};
use sim_core::time::Duration;

/// A small estimate, so that the debug build stays quick.
const RARE: RareSpec = RareSpec {
    target: 0.3,
    max_blocks: 600,
    min_blocks: 600,
    batch: 60,
    split: 10,
    roulette: ROULETTE,
    seed: 7,
};

fn spec(sets: &[&str]) -> SweepSpec {
    SweepSpec {
        source: "reference".to_owned(),
        sets: sets.iter().map(|s| s.parse().expect("a --set")).collect(),
        runs: 1,
        seed: 7,
        shard: None,
    }
}

fn sweep(spec: &SweepSpec, names: &[&str], jobs: usize) -> Result<SweepResult, SweepError> {
    let names: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
    let plan = FalseResets::plan(spec, &names)?;
    let mut r = run(spec, Exec::new(jobs))?;
    plan.run(&RARE, Exec::new(jobs), &mut r)?;
    Ok(r)
}

/// `holdtime sweep reference --set link[circuit.primary].loss=0.01` at 3/10 s without BFD
/// gives, per TCP preset, exactly the estimate `holdtime advise --loss 0.01` gives that
/// candidate with the same seed and estimate size: both branch the same healthy scenario.
#[test]
fn the_sweep_metric_is_the_advisors_estimate() {
    let s = spec(&[
        "link[circuit.primary].loss=0.01",
        "bgp.keepalive=3s",
        "bgp.hold_time=10s",
        "tcp.preset=rfc6298,linux",
        "bfd.enabled=false",
    ]);
    let r = sweep(&s, &["false_resets"], 2).expect("the sweep runs");
    let candidates: Vec<Candidate> = [TcpPreset::Rfc6298, TcpPreset::Linux]
        .into_iter()
        .map(|tcp| Candidate {
            hold: Duration::from_secs(10),
            keepalive: Duration::from_secs(3),
            bfd: None,
            tcp,
        })
        .collect();
    let advice = assess(
        &AdviseSpec {
            source: "reference".to_owned(),
            candidates: candidates.clone(),
            loss: LossSpec {
                loss: 0.01,
                burst: None,
            },
            metric: None,
            max_outage: Duration::from_secs(240),
            max_false_per_year: 1.0,
            runs: 1,
            method: Method::Is,
            rare: RARE,
            healthy_runs: 1,
            horizon: Duration::from_secs(3600),
            seed: 7,
        },
        Exec::new(2),
    )
    .expect("the advisor runs");
    for (p, c) in r.points.iter().zip(&candidates) {
        let got = &p.false_resets["false_resets"];
        let a = advice
            .iter()
            .find(|a| &a.candidate == c)
            .expect("the candidate");
        let want = a.rare.as_ref().expect("an estimate");
        eprintln!(
            "{}: sweep {:.4e} [{:.4e}, {:?}], advise {:.4e} [{:.4e}, {:?}]",
            c.label(),
            got.estimate.per_year,
            got.estimate.lower,
            got.estimate.upper,
            want.per_year,
            want.lower,
            want.upper
        );
        assert_eq!(&got.estimate, want, "{}", c.label());
        assert_eq!(got.sessions, ["circuit.primary.private"]);
        assert!(got.estimate.per_year > 0.0 && got.estimate.upper.is_some());
    }
    // RFC 6298's 1 s floor resets far more often than Linux's 200 ms.
    let rate = |i: usize| r.points[i].false_resets["false_resets"].estimate.per_year;
    assert!(rate(0) > 100.0 * rate(1), "{} vs {}", rate(0), rate(1));
    // Shown per point as a rate with its interval (text), with columns (CSV), and in the
    // JSON, which reads back.
    let text = r.to_text(&[]);
    assert!(
        text.contains("false_resets  ") && text.contains("/year of up time, 95 % CI ["),
        "{text}"
    );
    let csv = r.to_csv(&["false_resets".to_owned()]);
    let header = csv.lines().next().unwrap_or_default();
    for col in [
        "false_resets.per_year",
        "false_resets.lower_per_year",
        "false_resets.upper_per_year",
        "false_resets.rel_half_width",
        "false_resets.warnings",
    ] {
        assert!(header.split(',').any(|h| h == col), "{col}: {header}");
    }
    assert_eq!(csv.lines().count(), 3, "{csv}");
    let json = r.to_json().expect("JSON");
    let back = SweepResult::from_json(&json).expect("reads back");
    for (b, p) in back.points.iter().zip(&r.points) {
        let (b, p) = (
            &b.false_resets["false_resets"],
            &p.false_resets["false_resets"],
        );
        assert_eq!(
            (&b.sessions, b.estimate.blocks),
            (&p.sessions, p.estimate.blocks)
        );
        // JSON keeps 17 significant digits; the last may differ once read back.
        assert!((b.estimate.per_year / p.estimate.per_year - 1.0).abs() < 1e-12);
    }
}

/// The same seed gives the same bytes with one or two threads, for `false_resets` and a
/// named session's `false_resets.SESSION` at two grid points.
#[test]
fn the_sweep_metric_does_not_depend_on_the_threads() {
    let s = spec(&[
        "link[circuit.primary].loss=0.01,0.02",
        "bgp.keepalive=3s",
        "bgp.hold_time=10s",
        "bfd.enabled=false",
    ]);
    let names = ["false_resets", "false_resets.circuit.primary.private"];
    let one = sweep(&s, &names, 1).expect("the sweep runs");
    let two = sweep(&s, &names, 2).expect("the sweep runs");
    assert_eq!(one.to_json().ok(), two.to_json().ok());
    assert_eq!(one.to_csv(&[]), two.to_csv(&[]));
    let rate = |i: usize| one.points[i].false_resets["false_resets"].estimate.per_year;
    assert!(
        rate(1) > rate(0),
        "more loss, more resets: {rate:?}",
        rate = (rate(0), rate(1))
    );
}

/// Where a false-reset rate makes no sense the sweep is refused before any run, naming the
/// metric, the grid point and why: no lossy link, an unknown session, a session that crosses
/// no lossy segment.
#[test]
fn the_sweep_metric_is_refused_where_it_makes_no_sense() {
    let why = |sets: &[&str], name: &str| match FalseResets::plan(&spec(sets), &[name.to_owned()]) {
        Err(SweepError::Rare(m)) => m,
        other => panic!("{sets:?} {name}: not refused: {other:?}"),
    };
    let m = why(&[], "false_resets");
    assert!(
        m.contains("--metric `false_resets` at grid point [1] (as written)")
            && m.contains("no link of"),
        "{m}"
    );
    let m = why(&["link[circuit.primary].loss=0,0.01"], "false_resets");
    assert!(
        m.contains("grid point [1] link[circuit.primary].loss=0"),
        "{m}"
    );
    let m = why(&["link[circuit.primary].loss=0.01"], "false_resets.nosuch");
    assert!(m.contains("no session `nosuch`"), "{m}");
    let m = why(
        &["link[circuit.primary].loss=0.01"],
        "false_resets.circuit.secondary.private",
    );
    assert!(m.contains("crosses no lossy segment"), "{m}");
    // The CLI refuses with status 2 and the message, before running anything.
    let out = Command::new(env!("CARGO_BIN_EXE_holdtime"))
        .args([
            "sweep",
            "reference",
            "--runs",
            "1",
            "--metric",
            "false_resets",
        ])
        .output()
        .expect("holdtime runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no link of"), "{stderr}");
    assert!(out.stdout.is_empty());
}
