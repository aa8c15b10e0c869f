//! The built-in scenario library: `scenarios/library/*.toml`, embedded in the binary.
//!
//! Each file is an ordinary scenario file (copy one and edit it); each carries a
//! description for students and `[[expect]]` blocks stating what it demonstrates, with the
//! reasoning behind every number in comments. `holdtime scenarios` lists them,
//! `holdtime scenarios show NAME` prints one, and `holdtime run NAME` runs one.

use crate::spec::ScenarioSpec;

/// One library scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// Its name (the file stem), used on the command line.
    pub name: &'static str,
    /// Its TOML text.
    pub source: &'static str,
}

/// The scenario `holdtime run` runs when given none.
pub const DEFAULT: &str = "reference";

macro_rules! entry {
    ($name:literal) => {
        Entry {
            name: $name,
            source: include_str!(concat!("../library/", $name, ".toml")),
        }
    };
}

/// Every library scenario, in the order `holdtime scenarios` lists them.
pub const LIBRARY: [Entry; 32] = [
    entry!("reference"),
    entry!("tuned-10-30"),
    entry!("floor-3-10"),
    entry!("bfd"),
    entry!("carrier-down"),
    entry!("burst-capacity"),
    entry!("single-ce"),
    entry!("single-ce-router-failure"),
    entry!("msee-maintenance"),
    entry!("vpn-failover"),
    entry!("vpn-gateway-failover"),
    entry!("er-gateway-failover"),
    entry!("prefix-limit"),
    entry!("microsoft-peering-validation"),
    entry!("layer3-provider"),
    entry!("lossy-circuit"),
    entry!("asymmetric-routing"),
    entry!("manual-vpn-failover-test"),
    entry!("four-circuits"),
    entry!("graceful-restart"),
    entry!("dual-stack"),
    entry!("vpn-only"),
    entry!("lab-bird-pair"),
    entry!("lab-frr-bfd"),
    entry!("triangle"),
    entry!("bandwidth-downgrade"),
    entry!("route-filter"),
    entry!("forced-tunneling"),
    entry!("forced-tunneling-default-site"),
    entry!("udr-pins-vpn"),
    entry!("csp-connect-through"),
    entry!("csp-connect-to"),
];

/// The library scenario with this name.
#[must_use]
pub fn get(name: &str) -> Option<&'static Entry> {
    LIBRARY.iter().find(|e| e.name == name)
}

/// A one-line summary: the scenario's `name` field.
#[must_use]
pub fn summary(entry: &Entry) -> String {
    toml::from_str::<ScenarioSpec>(entry.source)
        .map_or_else(|_| "(does not parse)".to_owned(), |s| s.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_library_scenario_loads_without_errors() {
        for e in &LIBRARY {
            let spec: ScenarioSpec =
                toml::from_str(e.source).unwrap_or_else(|err| panic!("{}: {err}", e.name));
            let (scenario, diags) = crate::validate::validate(&spec);
            assert!(scenario.is_some(), "{}: {diags:?}", e.name);
        }
    }

    #[test]
    fn default_scenario_is_in_the_library() {
        assert!(get(DEFAULT).is_some());
    }
}
