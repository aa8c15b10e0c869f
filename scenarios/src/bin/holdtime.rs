//! The `holdtime` command line. It only parses arguments and calls the `scenarios` library.

fn main() {
    eprintln!("holdtime: `run` is not implemented yet (see README: the scenarios issue is open)");
    std::process::exit(2);
}
