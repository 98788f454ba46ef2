// Network rules of the allowlist proxy: host names and addresses as the sandbox asks for them,
// the profile's `network.allow` / `network.deny` host patterns, and the two decisions the proxy
// makes for every connection:
//   1. before resolution, whether the sandbox may ask for host:port at all (DecideHost);
//   2. after the supervisor resolved a permitted name, which of its addresses it may connect to
//      (DecideAddresses). A listed name that resolves to loopback, a private network, link-local,
//      a cloud metadata service or the host's own addresses is refused unless a pattern names
//      that address explicitly: DNS is not the profile author's to trust.
//
// Everything a decision compares is normalised once, strictly: a host is refused rather than
// guessed at when its spelling could mean different hosts to different parsers (ambiguous
// numeric forms, user info, control bytes, percent-encoding, IDN tricks). The string that was
// judged is the string the supervisor resolves.
//
// Pure: no resolution, no sockets, no I/O. libidn2 maps internationalised names to A-labels.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tollgate::policy {

struct IpAddress {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // IPv4: the first 4 bytes, network order; the rest zero
  // Dotted quad; IPv6 in RFC 5952 form: lower case, no leading zeros, the longest run of two or
  // more zero groups (the first of equals) as "::", and an IPv4-mapped address in mixed notation
  // (::ffff:192.0.2.1, RFC 5952 section 5).
  std::string ToString() const;
  auto operator<=>(const IpAddress&) const = default;
};

// Strict: IPv4 only as four dotted decimal parts 0..255 without leading zeros ("0" itself is
// fine); IPv6 without brackets or zone id, an IPv4 dotted quad allowed as its last 32 bits.
std::optional<IpAddress> ParseIpAddress(std::string_view text);
IpAddress Ipv4(std::uint32_t host_order);

enum class AddressClass : std::uint8_t {
  kPublic,
  kUnspecified,
  kLoopback,
  kPrivate,
  kSharedNat,
  kLinkLocal,
  kMetadata,
  kMulticast,
  kBroadcast,
  kReserved,
  kDocumentation,
  kHostOwn,
};
// "public", "unspecified", "loopback", "private", "shared NAT", "link-local", "cloud metadata",
// "multicast", "broadcast", "reserved", "documentation", "host's own".
const char* AddressClassName(AddressClass address_class);

// The class of an address, from the IANA special-purpose registries and the cloud metadata
// endpoints (the table in net_rules.cc names each block and why it is special). IPv4-mapped
// (::ffff:a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64
// (64:ff9b::/96) and 6to4 (2002::/16) addresses are classified by the IPv4 address they carry:
// each of them can deliver a connection to that IPv4 address. An address in `host_own` (the
// supervisor's own interface addresses, in either family) is kHostOwn unless it is loopback.
AddressClass ClassifyAddress(const IpAddress& address, const std::vector<IpAddress>& host_own = {});

// A host as the proxy was asked for it, normalised once.
struct HostName {
  // A-labels (punycode), lower case, no trailing dot; for an IP literal, its canonical
  // ToString() (IPv6 without brackets).
  std::string name;
  std::optional<IpAddress> address;  // set when the host was an IP literal
};

struct HostNameResult {
  std::optional<HostName> host;
  // Why it was refused: one line of printable ASCII; the input is quoted with every byte
  // outside printable ASCII (and '"', '\\') as \xNN, cut after 64 bytes.
  std::string error;
};

// Strict normalisation of a requested host (SECURITY.md item 26):
// - IP literals: IPv4 as a strict dotted quad; IPv6 bare or in brackets, without zone id. A
//   name whose last label is all digits or 0x-hex ("127.1", "0x7f.0.0.1", "0177.0.0.1",
//   "2130706433", "1.2.3.4.5") is refused: resolvers read such names as IPv4 addresses, each in
//   its own way (WHATWG "ends in a number").
// - Refused anywhere: NUL and control bytes, '@', '%', '/', '\\', '?', '#', spaces, ':' outside
//   IPv6 brackets, invalid UTF-8, empty labels, more than one trailing dot, a label over 63 or a
//   name over 253 bytes as A-labels, characters other than letters, digits, '-' and '_', a label
//   starting or ending with '-', and "xn--" labels that do not survive a round trip through
//   Unicode. The same checks run again after IDN mapping: full-width '．', '＠' or '：' map to
//   their ASCII forms and are judged as those.
// - One trailing dot is removed and ASCII is lower-cased; a non-ASCII name is mapped to A-labels
//   by UTS #46 (non-transitional) and NFC, so a name IDN-equivalent to an ASCII name
//   ("ＥＸＡＭＰＬＥ.com") normalises to that name ("example.com").
HostNameResult NormaliseHostName(std::string_view raw);

struct PortRange {
  std::uint16_t first = 0, last = 0;
};

// One entry of `network.allow` or `network.deny`:
//   example.com   example.com:443   example.com:8000-8100   *.example.com:80,443
//   192.0.2.1   192.0.2.1:80   10.0.0.0/8   10.0.0.0/8:443
//   [2001:db8::1]:443   [fd00::/8]   2001:db8::/32 (bare IPv6 takes no port)
// `*` only as the whole first label: `*.example.com` matches every name below example.com (at
// any depth), never example.com itself.
struct HostPattern {
  enum class Kind : std::uint8_t { kName, kSuffix, kAddress, kNetwork };
  Kind kind = Kind::kName;
  std::string name;              // kName, kSuffix: normalised (kSuffix without the "*.")
  IpAddress address;             // kAddress, kNetwork: the (masked) base
  int prefix_length = 0;         // kAddress: 32 or 128; kNetwork: as written
  std::vector<PortRange> ports;  // empty: every port
  std::string text;              // as written, for records and `tollgate explain`
};

struct HostPatternResult {
  std::optional<HostPattern> pattern;
  std::string error;  // "<pattern>: <what is wrong>", printable ASCII
  std::string hint;   // what to write instead
};

HostPatternResult ParseHostPattern(std::string_view text);

// Whether a pattern matches a host and port. Name patterns never match an IP literal; address
// and network patterns match only IP literals here (their addresses, after resolution, are
// DecideAddresses' concern). An address pattern matches an IPv4 address and its IPv4-mapped form
// alike: both reach the same destination.
bool HostPatternMatches(const HostPattern& pattern, const HostName& host, std::uint16_t port);

struct NetworkRules {
  std::vector<HostPattern> allow, deny;
};

enum class NetworkMode {
  kNone,   // a private network namespace with only loopback up
  kProxy,  // the same, plus the supervisor's allowlist proxies on its loopback
  kHost,   // the host's network; connections observed and recorded, not filtered
};

// The rule that refuses a non-public address no allow pattern names explicitly.
inline constexpr std::string_view kSpecialAddressRule = "special-address";

struct NameDecision {
  bool allowed = false;
  std::string rule;  // the deciding pattern as written, "default", or kSpecialAddressRule
  std::string why;   // one line for the agent and the record
};

// Before resolution: may the sandbox ask for host:port at all? Deny wins over allow; no match is
// a deny with rule "default". A name is judged by name patterns only. An IP literal is judged as
// DecideAddresses judges a resolved address, by address patterns only, and a public literal
// needs an allow address or network pattern containing it.
NameDecision DecideHost(const NetworkRules& rules, const HostName& host, std::uint16_t port,
                        const std::vector<IpAddress>& host_own = {});

struct AddressVerdict {
  IpAddress address;
  AddressClass address_class = AddressClass::kPublic;
  bool allowed = false;
  std::string rule;
  std::string why;
};

// After the supervisor resolved a permitted name: one verdict per address, in order (the
// supervisor connects only to allowed ones, in that order). When the name itself is not
// permitted (DecideHost), every address is refused with the name's rule. Otherwise:
//   - an address a deny address or network pattern contains (in any form it carries: the
//     IPv4 inside a mapped, NAT64 or 6to4 address too) is refused, rule = that pattern;
//   - an address whose class is not kPublic is refused (rule kSpecialAddressRule) unless an
//     allow address or network pattern names it explicitly: the pattern contains the address,
//     matches the port, and lies wholly within the special block that contains the address (its
//     prefix is at least as long as the block's: 127.0.0.0/8 or 127.0.0.1 names 127.0.0.1,
//     0.0.0.0/0 does not). Metadata and host-own addresses are named only by their exact /32 or
//     /128. The rule is then that pattern;
//   - a public address is allowed with the name's rule.
std::vector<AddressVerdict> DecideAddresses(const NetworkRules& rules, const HostName& host,
                                            std::uint16_t port,
                                            const std::vector<IpAddress>& addresses,
                                            const std::vector<IpAddress>& host_own = {});

}  // namespace tollgate::policy
