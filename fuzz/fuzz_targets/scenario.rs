//! The scenario front end: arbitrary bytes as a scenario file (UTF-8, TOML, validation
//! against the network and Azure's rules) and, when valid, a run bounded to a few simulated
//! minutes, its report, its expectations judged and its text and JSON forms, as `holdtime run`
//! does.
//!
//! The bound: the duration is clipped to [`MAX_DURATION`] (a measurement window that would
//! start after the end is dropped), which keeps a run of the library's scenarios to a few
//! milliseconds; libFuzzer's `-timeout` is the wall-clock budget per input on top of that
//! (an input slower than it is reported like a crash).
//!
//! Checked: nothing panics; every refusal is a rendered diagnostic that names the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sim_core::time::Duration;

/// The longest simulated run.
const MAX_DURATION: Duration = Duration::from_secs(6 * 60);

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let loaded = match scenarios::load_str("fuzz.toml", text) {
        Ok(l) => l,
        Err(e) => {
            let rendered = e.to_string();
            assert!(
                rendered.contains("fuzz.toml"),
                "a diagnostic without the file: {rendered}"
            );
            return;
        }
    };
    let _ = loaded.render_warnings();
    let mut sc = loaded.scenario;
    sc.duration = sc.duration.min(MAX_DURATION);
    if sc.measure_from.is_some_and(|m| m >= sc.duration) {
        sc.measure_from = None;
    }
    match scenarios::run(&sc, sc.seed, None) {
        Ok(report) => {
            let _ = scenarios::report::evaluate(&sc, &report);
            let _ = report.to_text();
            let _ = report.to_json();
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
