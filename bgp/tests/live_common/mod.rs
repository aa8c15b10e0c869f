//! Helpers shared by the live-driver integration tests (feature `tokio`).
#![allow(
    dead_code,
    unreachable_pub,
    reason = "each test binary uses a different subset of the helpers"
)]

use std::time::Duration as StdDuration;

use bgp::live::{LiveEvent, LiveEventKind};
use sim_core::time::Instant;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::timeout;

/// How long a test waits for any one event before it fails.
pub const BOUND: StdDuration = StdDuration::from_secs(20);

/// Waits (at most [`BOUND`]) for the first event matching `want`, returning its time.
pub async fn wait_for(
    events: &mut UnboundedReceiver<LiveEvent>,
    want: impl Fn(&LiveEventKind) -> bool,
) -> Instant {
    let found = timeout(BOUND, async {
        while let Some(event) = events.recv().await {
            if want(&event.kind) {
                return Some(event.at);
            }
        }
        None
    })
    .await;
    match found {
        Ok(Some(at)) => at,
        other => panic!("event not seen in time: {other:?}"),
    }
}
