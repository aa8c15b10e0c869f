//! Runs N seeds of a scenario one after the other, each forked from the start-up simulated
//! once (as one `holdtime sweep` worker does), for
//! deterministic instruction counts where wall-clock benchmarks are noisy:
//!
//! ```text
//! cargo build --release -p bench --example runs
//! valgrind --tool=callgrind target/release/examples/runs reference 20
//! ```
//!
//! Arguments: scenario (library name or path, default `reference`), runs (default 10), and
//! optionally a simulated duration overriding the scenario's (e.g. `1s`, to count start-up
//! alone). Seeds are `run_seed(1, r)` for `r` in `0..runs`, as `sweep/reference` uses.
use scenarios::sweep::run_seed;

/// The allocator the `holdtime` binary ships with, so the counts are what it executes.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "reference".to_owned());
    let runs: u64 = args.next().map_or(Ok(10), |s| s.parse())?;
    let mut scenario = scenarios::load(&name)?.scenario;
    if let Some(d) = args.next() {
        scenario.duration = d.parse().map_err(|e| format!("duration `{d}`: {e}"))?;
    }
    let mut flaps = 0u64;
    let prepared = scenarios::Prepared::new(&scenario)?;
    for r in 0..runs {
        let report = prepared.run(run_seed(1, r))?;
        flaps += report.flaps.iter().map(|f| f.count).sum::<u64>();
    }
    println!("{runs} runs of {name}: {flaps} session flaps in all");
    Ok(())
}
