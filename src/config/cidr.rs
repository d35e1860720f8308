//! Source addresses as Auth 2.0 writes them (`IPAddressUtils`): a single
//! IPv4 or IPv6 address, or an address with a prefix length. Auth 1.0's
//! `192.168.*.*` and `1-5` forms are not part of Auth 2.0 and are refused.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an IP address or CIDR block (e.g. 10.0.0.0/8, 192.168.1.5, ::1/128)")]
pub struct CidrError(pub String);

/// An address range: one address, or a network and its prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
    /// Written without a prefix: printed back so.
    single: bool,
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        // A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d; an
        // IPv4 range must still match them.
        let ip = canonical(ip);
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                within(u32::from(net).into(), u32::from(ip).into(), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                within(u128::from(net), u128::from(ip), self.prefix, 128)
            }
            // Java compares the two as unsigned integers of different
            // widths, which matches nothing meaningful; a range of one
            // family never holds an address of the other.
            _ => false,
        }
    }
}

/// `ip` with IPv4-mapped IPv6 addresses turned back into IPv4.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => ip,
        },
        v4 => v4,
    }
}

fn within(net: u128, ip: u128, prefix: u8, bits: u8) -> bool {
    let host_bits = u32::from(bits - prefix);
    let mask =
        u128::MAX.checked_shl(host_bits).unwrap_or(0) & (u128::MAX >> (128 - u32::from(bits)));
    net & mask == ip & mask
}

impl FromStr for Cidr {
    type Err = CidrError;

    fn from_str(text: &str) -> Result<Self, CidrError> {
        let bad = || CidrError(text.to_string());
        let (addr_text, prefix_text) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: IpAddr = addr_text.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix_text {
            // Digits only: u8's parser would take "+8".
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().ok().filter(|&n| n <= max).ok_or_else(bad)?
            }
            Some(_) => return Err(bad()),
            None => max,
        };
        Ok(Cidr {
            addr,
            prefix,
            single: prefix_text.is_none(),
        })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.single {
            write!(f, "{}", self.addr)
        } else {
            write!(f, "{}/{}", self.addr, self.prefix)
        }
    }
}

/// Parses a comma-separated list, blanks ignored (as Java's
/// `StringUtils.split` does).
pub fn parse_list(text: &str) -> Result<Vec<Cidr>, CidrError> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::parse)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn cidr(s: &str) -> Cidr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv4_blocks_and_single_addresses() {
        assert!(cidr("10.0.0.0/8").contains(ip("10.200.3.4")));
        assert!(!cidr("10.0.0.0/8").contains(ip("11.0.0.1")));
        assert!(cidr("192.168.1.5").contains(ip("192.168.1.5")));
        assert!(!cidr("192.168.1.5").contains(ip("192.168.1.6")));
        assert!(cidr("0.0.0.0/0").contains(ip("8.8.8.8")));
        assert!(cidr("192.168.1.7/32").contains(ip("192.168.1.7")));
        // A network written with host bits set still means the network.
        assert!(cidr("10.1.2.3/16").contains(ip("10.1.200.1")));
    }

    #[test]
    fn ipv6_blocks_and_mapped_peers() {
        assert!(cidr("::1/128").contains(ip("::1")));
        assert!(!cidr("::1/128").contains(ip("::2")));
        assert!(cidr("fd00::/8").contains(ip("fd12:3456::1")));
        assert!(!cidr("fd00::/8").contains(ip("fe80::1")));
        assert!(cidr("::/0").contains(ip("2001:db8::1")));
        // IPv4 peers seen through a dual-stack socket.
        assert!(cidr("10.0.0.0/8").contains(ip("::ffff:10.1.2.3")));
        assert!(!cidr("::1/128").contains(ip("127.0.0.1")));
        assert!(!cidr("10.0.0.0/8").contains(ip("fd00::1")));
    }

    #[test]
    fn bad_forms_are_refused_and_good_ones_print_back() {
        for bad in [
            "",
            "10.0.0.0/33",
            "::/129",
            "10.0.0.0/",
            "10.0.0.0/+8",
            "192.168.*.*",
            "1.2.3.1-5",
            "host",
            "10.0.0.0/8/8",
        ] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
        for good in ["10.0.0.0/8", "192.168.1.5", "::1/128", "fd00::"] {
            assert_eq!(cidr(good).to_string(), good);
        }
        let list = parse_list(" 10.0.0.0/8, ,::1 ").unwrap();
        assert_eq!(list.len(), 2);
        assert!(parse_list("10.0.0.0/8,nope").is_err());
        assert!(parse_list("").unwrap().is_empty());
    }
}
