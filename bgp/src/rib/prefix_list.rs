//! Prefix lists with `ge`/`le` length ranges, as in Cisco IOS, FRR and Junos route filters.
//!
//! An entry matches a prefix when the prefix lies inside the entry's network and its length
//! falls in the entry's range:
//!
//! | entry | lengths matched |
//! |---|---|
//! | `10.0.0.0/8` | exactly 8 |
//! | `10.0.0.0/8 le 24` | 8 to 24 |
//! | `10.0.0.0/8 ge 16` | 16 to 32 (128 for IPv6) |
//! | `10.0.0.0/8 ge 16 le 24` | 16 to 24 |
//!
//! Entries are evaluated in order and the first match decides; a prefix that matches no entry
//! is denied (the implicit deny at the end of every IOS/FRR prefix list).

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// What a matching entry does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Reject the prefix.
    Deny,
    /// Accept the prefix.
    Permit,
}

/// One line of a prefix list: `permit 10.0.0.0/8 ge 16 le 24`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Permit or deny on a match.
    pub action: Action,
    /// The covering network.
    pub prefix: IpNet,
    /// Minimum matched length (inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ge: Option<u8>,
    /// Maximum matched length (inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub le: Option<u8>,
}

impl Entry {
    /// Whether `candidate` matches this entry (ignoring the action).
    #[must_use]
    pub fn matches(&self, candidate: &IpNet) -> bool {
        let base = self.prefix.prefix_len();
        let len = candidate.prefix_len();
        let (lo, hi) = match (self.ge, self.le) {
            (None, None) => (base, base),
            (Some(ge), None) => (ge, self.prefix.max_prefix_len()),
            (None, Some(le)) => (base, le),
            (Some(ge), Some(le)) => (ge, le),
        };
        len >= base && len >= lo && len <= hi && self.prefix.contains(candidate)
    }
}

/// An ordered prefix list with an implicit deny at the end.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PrefixList {
    /// Entries in evaluation order.
    pub entries: Vec<Entry>,
}

impl PrefixList {
    /// Whether the list permits `prefix`: the first matching entry decides, no match denies.
    #[must_use]
    pub fn permits(&self, prefix: &IpNet) -> bool {
        self.entries
            .iter()
            .find(|e| e.matches(prefix))
            .is_some_and(|e| e.action == Action::Permit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse()
            .unwrap_or_else(|e| panic!("bad test prefix {s}: {e}"))
    }

    fn entry(action: Action, prefix: &str, ge: Option<u8>, le: Option<u8>) -> Entry {
        Entry {
            action,
            prefix: net(prefix),
            ge,
            le,
        }
    }

    #[test]
    fn exact_entry_matches_only_its_length() {
        let e = entry(Action::Permit, "10.0.0.0/8", None, None);
        assert!(e.matches(&net("10.0.0.0/8")));
        assert!(!e.matches(&net("10.1.0.0/16")));
        assert!(!e.matches(&net("0.0.0.0/0")));
    }

    #[test]
    fn le_matches_from_base_length_up_to_le() {
        let e = entry(Action::Permit, "10.0.0.0/8", None, Some(24));
        assert!(e.matches(&net("10.0.0.0/8")));
        assert!(e.matches(&net("10.20.30.0/24")));
        assert!(!e.matches(&net("10.20.30.0/25")));
        assert!(!e.matches(&net("11.0.0.0/16")), "outside the network");
    }

    #[test]
    fn ge_matches_from_ge_up_to_host_length() {
        let e = entry(Action::Permit, "10.0.0.0/8", Some(16), None);
        assert!(!e.matches(&net("10.0.0.0/8")));
        assert!(!e.matches(&net("10.0.0.0/15")));
        assert!(e.matches(&net("10.1.0.0/16")));
        assert!(e.matches(&net("10.1.2.3/32")));
        let v6 = entry(Action::Permit, "2001:db8::/32", Some(48), None);
        assert!(v6.matches(&net("2001:db8:1::1/128")));
        assert!(!v6.matches(&net("2001:db8::/40")));
    }

    #[test]
    fn ge_and_le_bound_both_ends() {
        let e = entry(Action::Permit, "192.168.0.0/16", Some(20), Some(24));
        assert!(!e.matches(&net("192.168.0.0/19")));
        assert!(e.matches(&net("192.168.16.0/20")));
        assert!(e.matches(&net("192.168.1.0/24")));
        assert!(!e.matches(&net("192.168.1.0/25")));
    }

    #[test]
    fn first_match_wins_and_unmatched_is_denied() {
        let list = PrefixList {
            entries: vec![
                entry(Action::Deny, "10.0.0.0/8", Some(25), None),
                entry(Action::Permit, "10.0.0.0/8", None, Some(32)),
            ],
        };
        assert!(list.permits(&net("10.1.0.0/16")));
        assert!(!list.permits(&net("10.1.0.0/26")));
        assert!(!list.permits(&net("172.16.0.0/12")), "implicit deny");
        assert!(!PrefixList::default().permits(&net("10.0.0.0/8")));
    }

    #[test]
    fn address_families_never_match_each_other() {
        let e = entry(Action::Permit, "0.0.0.0/0", None, Some(128));
        assert!(!e.matches(&net("::/0")));
    }
}
