//! Shared helpers for holdtime's criterion benchmarks.
