//! The `holdtime` command line. It only parses arguments and calls the `scenarios` library.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of the C library's malloc: every simulated event allocates and frees
/// small buffers, and a sweep runs millions of them per worker thread.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = scenarios::cli::Cli::parse();
    let code = scenarios::cli::main(&cli, &mut std::io::stdout(), &mut std::io::stderr());
    ExitCode::from(code)
}
