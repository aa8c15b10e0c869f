//! IANA code points used on the BGP wire, as open newtypes.
//!
//! Every registry value is a newtype over its wire integer with named constants for the values
//! this crate knows, so unknown values still decode, round-trip byte-for-byte and print in hex
//! (`Afi(0x4242)`) instead of being squeezed into a closed enum (rustls `enum_builder!`).
//! The doc comment of each type links its IANA registry.

/// Defines an open code-point newtype with named constants, a `name()` lookup and a `Debug` /
/// `Display` that prints the constant's name or the raw value in hex.
macro_rules! code_point {
    (
        $(#[$meta:meta])*
        $name:ident($repr:ty) {
            $( $(#[$cmeta:meta])* $konst:ident = $val:expr, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(pub $repr);

        impl $name {
            $( $(#[$cmeta])* pub const $konst: Self = Self($val); )*

            /// The registry name of this value, or `None` for a value this crate does not know.
            #[must_use]
            pub const fn name(self) -> Option<&'static str> {
                match self {
                    $( Self::$konst => Some(stringify!($konst)), )*
                    _ => None,
                }
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match self.name() {
                    Some(name) => f.write_str(name),
                    None => write!(f, "{}({:#x})", stringify!($name), self.0),
                }
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                core::fmt::Debug::fmt(self, f)
            }
        }
    };
}

code_point! {
    /// BGP message type (RFC 4271 §4.1).
    ///
    /// Registry: <https://www.iana.org/assignments/bgp-parameters/bgp-parameters.xhtml#bgp-parameters-1>
    MessageType(u8) {
        /// OPEN (RFC 4271 §4.2).
        OPEN = 1,
        /// UPDATE (RFC 4271 §4.3).
        UPDATE = 2,
        /// NOTIFICATION (RFC 4271 §4.5).
        NOTIFICATION = 3,
        /// KEEPALIVE (RFC 4271 §4.4).
        KEEPALIVE = 4,
        /// ROUTE-REFRESH (RFC 2918 §3).
        ROUTE_REFRESH = 5,
    }
}

code_point! {
    /// Address Family Identifier.
    ///
    /// Registry: <https://www.iana.org/assignments/address-family-numbers/address-family-numbers.xhtml>
    Afi(u16) {
        /// IP version 4.
        IPV4 = 1,
        /// IP version 6.
        IPV6 = 2,
        /// Layer-2 VPN (RFC 4761).
        L2VPN = 25,
        /// BGP-LS (RFC 7752).
        BGP_LS = 16388,
    }
}

code_point! {
    /// Subsequent Address Family Identifier.
    ///
    /// Registry: <https://www.iana.org/assignments/safi-namespace/safi-namespace.xhtml>
    Safi(u8) {
        /// Unicast forwarding.
        UNICAST = 1,
        /// Multicast forwarding.
        MULTICAST = 2,
        /// Labeled unicast (RFC 8277).
        MPLS_LABEL = 4,
        /// EVPN (RFC 7432).
        EVPN = 70,
        /// MPLS-labeled VPN address (RFC 4364).
        MPLS_VPN = 128,
        /// Flow specification (RFC 8955).
        FLOWSPEC = 133,
    }
}

code_point! {
    /// Path attribute type code (RFC 4271 §4.3).
    ///
    /// Registry: <https://www.iana.org/assignments/bgp-parameters/bgp-parameters.xhtml#bgp-parameters-2>
    AttrType(u8) {
        /// ORIGIN (RFC 4271 §5.1.1), well-known mandatory.
        ORIGIN = 1,
        /// AS_PATH (RFC 4271 §5.1.2), well-known mandatory.
        AS_PATH = 2,
        /// NEXT_HOP (RFC 4271 §5.1.3), well-known mandatory for IPv4 NLRI.
        NEXT_HOP = 3,
        /// MULTI_EXIT_DISC (RFC 4271 §5.1.4), optional non-transitive.
        MULTI_EXIT_DISC = 4,
        /// LOCAL_PREF (RFC 4271 §5.1.5), well-known.
        LOCAL_PREF = 5,
        /// ATOMIC_AGGREGATE (RFC 4271 §5.1.6), well-known discretionary.
        ATOMIC_AGGREGATE = 6,
        /// AGGREGATOR (RFC 4271 §5.1.7), optional transitive.
        AGGREGATOR = 7,
        /// COMMUNITIES (RFC 1997), optional transitive.
        COMMUNITIES = 8,
        /// ORIGINATOR_ID (RFC 4456), optional non-transitive.
        ORIGINATOR_ID = 9,
        /// CLUSTER_LIST (RFC 4456), optional non-transitive.
        CLUSTER_LIST = 10,
        /// MP_REACH_NLRI (RFC 4760 §3), optional non-transitive.
        MP_REACH_NLRI = 14,
        /// MP_UNREACH_NLRI (RFC 4760 §4), optional non-transitive.
        MP_UNREACH_NLRI = 15,
        /// EXTENDED COMMUNITIES (RFC 4360), optional transitive.
        EXTENDED_COMMUNITIES = 16,
        /// AS4_PATH (RFC 6793), optional transitive.
        AS4_PATH = 17,
        /// AS4_AGGREGATOR (RFC 6793), optional transitive.
        AS4_AGGREGATOR = 18,
        /// LARGE_COMMUNITY (RFC 8092), optional transitive.
        LARGE_COMMUNITY = 32,
    }
}

code_point! {
    /// OPEN optional parameter type (RFC 4271 §4.2, RFC 5492).
    ///
    /// Registry: <https://www.iana.org/assignments/bgp-parameters/bgp-parameters.xhtml#bgp-parameters-11>
    ParamType(u8) {
        /// Authentication (deprecated by RFC 5492); not supported.
        AUTHENTICATION = 1,
        /// Capabilities (RFC 5492).
        CAPABILITIES = 2,
        /// Extended Length marker of RFC 9072 (in the Non-Ext OP Type position).
        EXTENDED_LENGTH = 255,
    }
}

code_point! {
    /// Capability code (RFC 5492).
    ///
    /// Registry: <https://www.iana.org/assignments/capability-codes/capability-codes.xhtml>
    CapabilityCode(u8) {
        /// Multiprotocol extensions (RFC 4760).
        MULTIPROTOCOL = 1,
        /// Route refresh (RFC 2918).
        ROUTE_REFRESH = 2,
        /// Extended next hop encoding (RFC 8950).
        EXTENDED_NEXT_HOP = 5,
        /// Extended message (RFC 8654).
        EXTENDED_MESSAGE = 6,
        /// BGP role (RFC 9234).
        ROLE = 9,
        /// Graceful restart (RFC 4724).
        GRACEFUL_RESTART = 64,
        /// Support for 4-octet AS numbers (RFC 6793).
        FOUR_OCTET_AS = 65,
        /// ADD-PATH (RFC 7911).
        ADD_PATH = 69,
        /// Enhanced route refresh (RFC 7313).
        ENHANCED_ROUTE_REFRESH = 70,
        /// Long-lived graceful restart (RFC 9494).
        LONG_LIVED_GRACEFUL_RESTART = 71,
        /// FQDN / hostname (draft-walton-bgp-hostname-capability).
        FQDN = 73,
        /// Pre-standard Cisco route refresh.
        ROUTE_REFRESH_CISCO = 128,
    }
}

code_point! {
    /// NOTIFICATION error code (RFC 4271 §4.5).
    ///
    /// Registry: <https://www.iana.org/assignments/bgp-parameters/bgp-parameters.xhtml#bgp-parameters-3>
    ErrorCode(u8) {
        /// Message Header Error (RFC 4271 §6.1).
        MESSAGE_HEADER = 1,
        /// OPEN Message Error (RFC 4271 §6.2).
        OPEN_MESSAGE = 2,
        /// UPDATE Message Error (RFC 4271 §6.3).
        UPDATE_MESSAGE = 3,
        /// Hold Timer Expired (RFC 4271 §6.5).
        HOLD_TIMER_EXPIRED = 4,
        /// Finite State Machine Error (RFC 4271 §6.6, RFC 6608).
        FSM = 5,
        /// Cease (RFC 4271 §6.7, RFC 4486).
        CEASE = 6,
        /// ROUTE-REFRESH Message Error (RFC 7313).
        ROUTE_REFRESH_MESSAGE = 7,
    }
}

code_point! {
    /// Message Header Error subcodes (RFC 4271 §6.1).
    ///
    /// Registry: <https://www.iana.org/assignments/bgp-parameters/bgp-parameters.xhtml#bgp-parameters-5>
    HeaderSubcode(u8) {
        /// Connection Not Synchronized (bad marker).
        CONNECTION_NOT_SYNCHRONIZED = 1,
        /// Bad Message Length.
        BAD_MESSAGE_LENGTH = 2,
        /// Bad Message Type.
        BAD_MESSAGE_TYPE = 3,
    }
}

code_point! {
    /// OPEN Message Error subcodes (RFC 4271 §6.2, RFC 5492).
    ///
    /// Registry: <https://www.iana.org/assignments/bgp-parameters/bgp-parameters.xhtml#bgp-parameters-6>
    OpenSubcode(u8) {
        /// Unspecific (RFC 4493 registry value 0).
        UNSPECIFIC = 0,
        /// Unsupported Version Number.
        UNSUPPORTED_VERSION_NUMBER = 1,
        /// Bad Peer AS.
        BAD_PEER_AS = 2,
        /// Bad BGP Identifier.
        BAD_BGP_IDENTIFIER = 3,
        /// Unsupported Optional Parameter.
        UNSUPPORTED_OPTIONAL_PARAMETER = 4,
        /// Unacceptable Hold Time.
        UNACCEPTABLE_HOLD_TIME = 6,
        /// Unsupported Capability (RFC 5492 §5).
        UNSUPPORTED_CAPABILITY = 7,
        /// Role Mismatch (RFC 9234).
        ROLE_MISMATCH = 11,
    }
}

code_point! {
    /// UPDATE Message Error subcodes (RFC 4271 §6.3).
    ///
    /// Registry: <https://www.iana.org/assignments/bgp-parameters/bgp-parameters.xhtml#bgp-parameters-7>
    UpdateSubcode(u8) {
        /// Malformed Attribute List.
        MALFORMED_ATTRIBUTE_LIST = 1,
        /// Unrecognized Well-known Attribute.
        UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE = 2,
        /// Missing Well-known Attribute.
        MISSING_WELL_KNOWN_ATTRIBUTE = 3,
        /// Attribute Flags Error.
        ATTRIBUTE_FLAGS_ERROR = 4,
        /// Attribute Length Error.
        ATTRIBUTE_LENGTH_ERROR = 5,
        /// Invalid ORIGIN Attribute.
        INVALID_ORIGIN_ATTRIBUTE = 6,
        /// Invalid NEXT_HOP Attribute.
        INVALID_NEXT_HOP_ATTRIBUTE = 8,
        /// Optional Attribute Error.
        OPTIONAL_ATTRIBUTE_ERROR = 9,
        /// Invalid Network Field.
        INVALID_NETWORK_FIELD = 10,
        /// Malformed AS_PATH.
        MALFORMED_AS_PATH = 11,
    }
}

code_point! {
    /// Finite State Machine Error subcodes (RFC 6608).
    ///
    /// Registry: <https://www.iana.org/assignments/bgp-parameters/bgp-parameters.xhtml#bgp-finite-state-machine-error-subcodes>
    FsmSubcode(u8) {
        /// Unspecified Error.
        UNSPECIFIED = 0,
        /// Receive Unexpected Message in OpenSent State.
        UNEXPECTED_MESSAGE_IN_OPEN_SENT = 1,
        /// Receive Unexpected Message in OpenConfirm State.
        UNEXPECTED_MESSAGE_IN_OPEN_CONFIRM = 2,
        /// Receive Unexpected Message in Established State.
        UNEXPECTED_MESSAGE_IN_ESTABLISHED = 3,
    }
}

code_point! {
    /// Cease subcodes (RFC 4486, RFC 8203/9003 for the shutdown communication).
    ///
    /// Registry: <https://www.iana.org/assignments/bgp-parameters/bgp-parameters.xhtml#bgp-parameters-8>
    CeaseSubcode(u8) {
        /// Maximum Number of Prefixes Reached.
        MAXIMUM_NUMBER_OF_PREFIXES_REACHED = 1,
        /// Administrative Shutdown (may carry a shutdown communication, RFC 9003).
        ADMINISTRATIVE_SHUTDOWN = 2,
        /// Peer De-configured.
        PEER_DECONFIGURED = 3,
        /// Administrative Reset (may carry a shutdown communication, RFC 9003).
        ADMINISTRATIVE_RESET = 4,
        /// Connection Rejected.
        CONNECTION_REJECTED = 5,
        /// Other Configuration Change.
        OTHER_CONFIGURATION_CHANGE = 6,
        /// Connection Collision Resolution.
        CONNECTION_COLLISION_RESOLUTION = 7,
        /// Out of Resources.
        OUT_OF_RESOURCES = 8,
        /// Hard Reset (RFC 8538).
        HARD_RESET = 9,
        /// BFD Down (RFC 9384).
        BFD_DOWN = 10,
    }
}

code_point! {
    /// ROUTE-REFRESH Message Error subcodes (RFC 7313 §5).
    ///
    /// Registry: <https://www.iana.org/assignments/bgp-parameters/bgp-parameters.xhtml#route-refresh-error-subcodes>
    RouteRefreshSubcode(u8) {
        /// Invalid Message Length.
        INVALID_MESSAGE_LENGTH = 1,
    }
}

code_point! {
    /// ROUTE-REFRESH message subtype, carried in the formerly reserved octet (RFC 7313 §3).
    ///
    /// Registry: <https://www.iana.org/assignments/bgp-parameters/bgp-parameters.xhtml#route-refresh-subcodes>
    RouteRefreshType(u8) {
        /// Normal route refresh request (RFC 2918).
        NORMAL = 0,
        /// Beginning of Route Refresh (RFC 7313).
        BEGIN = 1,
        /// End of Route Refresh (RFC 7313).
        END = 2,
    }
}

code_point! {
    /// AS_PATH segment type (RFC 4271 §4.3, RFC 5065 §3).
    ///
    /// Registry: <https://www.iana.org/assignments/bgp-parameters/bgp-parameters.xhtml#bgp-as-path-segment-types>
    SegmentType(u8) {
        /// AS_SET: unordered set of ASes a route has traversed.
        AS_SET = 1,
        /// AS_SEQUENCE: ordered ASes the route has traversed.
        AS_SEQUENCE = 2,
        /// AS_CONFED_SEQUENCE (RFC 5065).
        AS_CONFED_SEQUENCE = 3,
        /// AS_CONFED_SET (RFC 5065).
        AS_CONFED_SET = 4,
    }
}

code_point! {
    /// ADD-PATH Send/Receive field (RFC 7911 §4).
    ///
    /// Registry: none (values fixed by RFC 7911 §4).
    AddPathMode(u8) {
        /// The sender is able to receive multiple paths.
        RECEIVE = 1,
        /// The sender is able to send multiple paths.
        SEND = 2,
        /// Both.
        SEND_RECEIVE = 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_code_points_print_in_hex() {
        assert_eq!(format!("{:?}", Afi(0x4242)), "Afi(0x4242)");
        assert_eq!(format!("{}", Afi::IPV6), "IPV6");
        assert_eq!(AttrType(99).name(), None);
        assert_eq!(
            CeaseSubcode::ADMINISTRATIVE_SHUTDOWN.name(),
            Some("ADMINISTRATIVE_SHUTDOWN")
        );
    }
}
