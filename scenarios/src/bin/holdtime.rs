//! The `holdtime` command line. It only parses arguments and calls the `scenarios` library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = scenarios::cli::Cli::parse();
    let code = scenarios::cli::main(&cli, &mut std::io::stdout(), &mut std::io::stderr());
    ExitCode::from(code)
}
