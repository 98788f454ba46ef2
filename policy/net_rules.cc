#include "policy/net_rules.h"

#include <idn2.h>

#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <memory>

#include "policy/idna.h"

namespace tollgate::policy {
namespace {

constexpr std::size_t kMaxLabelBytes = 63;
constexpr std::size_t kMaxNameBytes = 253;
// Longer input is refused before IDN mapping ever sees it: 253 full-width characters take 759
// bytes, so no name that could normalise within 253 bytes is lost in practice.
constexpr std::size_t kMaxRawHostBytes = 1024;
// Messages quote at most this much of the input: a refusal stays one readable line.
constexpr std::size_t kQuoteLimit = 64;
constexpr int kIdnFlags = IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL;
// IdnLookup's error when libidn2 itself could not be loaded (libidn2's own codes are negative).
constexpr int kIdnUnavailable = 1;

// --- printing input in messages ---

std::string HexByte(unsigned char byte) {
  static constexpr char kDigits[] = "0123456789abcdef";
  return {'\\', 'x', kDigits[byte >> 4], kDigits[byte & 0xf]};
}

// Printable ASCII stays; every other byte, and '"' and '\\' (so that the quoting is unambiguous),
// becomes \xNN. Input is cut after `limit` bytes.
std::string EscapeBytes(std::string_view bytes, std::size_t limit = kQuoteLimit) {
  std::string out;
  const std::size_t shown = std::min(bytes.size(), limit);
  for (std::size_t i = 0; i < shown; ++i) {
    const auto byte = static_cast<unsigned char>(bytes[i]);
    if (byte < 0x20 || byte >= 0x7f || byte == '"' || byte == '\\') {
      out += HexByte(byte);
    } else {
      out += static_cast<char>(byte);
    }
  }
  if (bytes.size() > shown) out += "...";
  return out;
}

std::string Quote(std::string_view bytes) {
  return "\"" + EscapeBytes(bytes) + "\"";
}

// One byte as a message shows it: 'x' when printable, \xNN otherwise (and for the quotes and
// the backslash, which would make the message ambiguous).
std::string ShowByte(unsigned char byte) {
  if (byte < 0x20 || byte >= 0x7f || byte == '\\' || byte == '\'' || byte == '"') {
    return HexByte(byte);
  }
  return std::string("'") + static_cast<char>(byte) + "'";
}

// --- addresses ---

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<IpAddress> ParseIpv4(std::string_view text) {
  IpAddress address;
  std::size_t i = 0;
  for (int part = 0; part < 4; ++part) {
    const std::size_t start = i;
    int value = 0;
    while (i < text.size() && IsDigit(text[i]) && i - start < 3)
      value = value * 10 + (text[i++] - '0');
    const std::size_t length = i - start;
    if (length == 0 || (length > 1 && text[start] == '0') || value > 255) return std::nullopt;
    address.bytes[part] = static_cast<std::uint8_t>(value);
    if (part < 3) {
      if (i >= text.size() || text[i] != '.') return std::nullopt;
      ++i;
    }
  }
  if (i != text.size()) return std::nullopt;
  return address;
}

// The colon-separated groups of one side of "::". A dotted quad may stand for the last two
// groups, and only where `dotted_last` allows (the side that ends the address).
bool ParseGroups(std::string_view part, bool dotted_last, std::vector<std::uint16_t>& groups) {
  if (part.empty()) return true;
  std::size_t start = 0;
  while (true) {
    const std::size_t colon = part.find(':', start);
    const bool last = colon == std::string_view::npos;
    std::string_view piece = part.substr(start, last ? std::string_view::npos : colon - start);
    if (piece.find('.') != std::string_view::npos) {
      if (!last || !dotted_last) return false;
      std::optional<IpAddress> v4 = ParseIpv4(piece);
      if (!v4) return false;
      groups.push_back(static_cast<std::uint16_t>(v4->bytes[0] << 8 | v4->bytes[1]));
      groups.push_back(static_cast<std::uint16_t>(v4->bytes[2] << 8 | v4->bytes[3]));
      return true;
    }
    if (piece.empty() || piece.size() > 4) return false;
    int value = 0;
    for (char c : piece) {
      const int digit = HexValue(c);
      if (digit < 0) return false;
      value = value * 16 + digit;
    }
    groups.push_back(static_cast<std::uint16_t>(value));
    if (last) return true;
    start = colon + 1;
  }
}

std::optional<IpAddress> ParseIpv6(std::string_view text) {
  // "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" is the longest spelling.
  if (text.size() < 2 || text.size() > 45) return std::nullopt;
  std::vector<std::uint16_t> head, tail;
  const std::size_t gap = text.find("::");
  if (gap == std::string_view::npos) {
    if (!ParseGroups(text, true, head) || head.size() != 8) return std::nullopt;
  } else {
    if (text.find("::", gap + 1) != std::string_view::npos) return std::nullopt;
    if (!ParseGroups(text.substr(0, gap), false, head) ||
        !ParseGroups(text.substr(gap + 2), true, tail) || head.size() + tail.size() > 7) {
      return std::nullopt;
    }
  }
  IpAddress address;
  address.v6 = true;
  auto put = [&](std::size_t index, std::uint16_t group) {
    address.bytes[2 * index] = static_cast<std::uint8_t>(group >> 8);
    address.bytes[2 * index + 1] = static_cast<std::uint8_t>(group & 0xff);
  };
  for (std::size_t i = 0; i < head.size(); ++i) put(i, head[i]);
  for (std::size_t i = 0; i < tail.size(); ++i) put(8 - tail.size() + i, tail[i]);
  return address;
}

int FullLength(const IpAddress& address) {
  return address.v6 ? 128 : 32;
}

bool InPrefix(const IpAddress& address, const IpAddress& base, int prefix_length) {
  if (address.v6 != base.v6) return false;
  const int whole = prefix_length / 8;
  for (int i = 0; i < whole; ++i) {
    if (address.bytes[i] != base.bytes[i]) return false;
  }
  if (const int bits = prefix_length % 8; bits != 0) {
    const auto mask = static_cast<std::uint8_t>(0xff << (8 - bits));
    if (((address.bytes[whole] ^ base.bytes[whole]) & mask) != 0) return false;
  }
  return true;
}

IpAddress Masked(const IpAddress& address, int prefix_length) {
  IpAddress masked = address;
  for (int i = 0; i < 16; ++i) {
    const int kept = std::clamp(prefix_length - 8 * i, 0, 8);
    masked.bytes[i] &= static_cast<std::uint8_t>(kept == 0 ? 0 : 0xff << (8 - kept));
  }
  return masked;
}

bool AllZero(const IpAddress& address, int from, int to) {
  return std::all_of(address.bytes.begin() + from, address.bytes.begin() + to,
                     [](std::uint8_t byte) { return byte == 0; });
}

bool IsIpv4Mapped(const IpAddress& address) {
  return address.v6 && AllZero(address, 0, 10) && address.bytes[10] == 0xff &&
         address.bytes[11] == 0xff;
}

IpAddress Ipv4At(const IpAddress& address, int at) {
  IpAddress v4;
  std::copy_n(address.bytes.begin() + at, 4, v4.bytes.begin());
  return v4;
}

IpAddress MappedForm(const IpAddress& v4) {
  IpAddress mapped;
  mapped.v6 = true;
  mapped.bytes[10] = mapped.bytes[11] = 0xff;
  std::copy_n(v4.bytes.begin(), 4, mapped.bytes.begin() + 12);
  return mapped;
}

// The IPv4 address an IPv6 address carries, and how many bits precede it: a connection to the
// IPv6 address can end at that IPv4 address (on this host, through a NAT64 gateway or a 6to4
// relay). :: and ::1 are not IPv4-compatible addresses; callers take them first.
struct CarriedIpv4 {
  IpAddress v4;
  int offset = 0;
};

std::optional<CarriedIpv4> CarriedAddress(const IpAddress& address) {
  if (!address.v6) return std::nullopt;
  const auto& b = address.bytes;
  // IPv4-mapped ::ffff:0:0/96 (RFC 4291 2.5.5.2): the same socket reaches the IPv4 address.
  if (IsIpv4Mapped(address)) return CarriedIpv4{Ipv4At(address, 12), 96};
  // IPv4-translated ::ffff:0:0:0/96 (SIIT, RFC 7915).
  if (AllZero(address, 0, 8) && b[8] == 0xff && b[9] == 0xff && AllZero(address, 10, 12)) {
    return CarriedIpv4{Ipv4At(address, 12), 96};
  }
  // IPv4-compatible ::/96 (RFC 4291 2.5.5.1, deprecated).
  if (AllZero(address, 0, 12)) return CarriedIpv4{Ipv4At(address, 12), 96};
  // NAT64 well-known prefix 64:ff9b::/96 (RFC 6052).
  if (b[0] == 0 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && AllZero(address, 4, 12)) {
    return CarriedIpv4{Ipv4At(address, 12), 96};
  }
  // 6to4 2002::/16 (RFC 3056): the IPv4 address is bits 16..47.
  if (b[0] == 0x20 && b[1] == 0x02) return CarriedIpv4{Ipv4At(address, 2), 16};
  return std::nullopt;
}

// The spellings of one destination: an IPv4 address and its IPv4-mapped form reach the same
// socket.
std::vector<IpAddress> SameDestination(const IpAddress& address) {
  std::vector<IpAddress> forms{address};
  if (!address.v6) {
    forms.push_back(MappedForm(address));
  } else if (IsIpv4Mapped(address)) {
    forms.push_back(Ipv4At(address, 12));
  }
  return forms;
}

// Every address a connection to `address` may end at: its own spellings and the IPv4 address it
// carries (a deny of 10.0.0.0/8 also refuses 64:ff9b::a00:1).
std::vector<IpAddress> EveryCarriedForm(const IpAddress& address) {
  std::vector<IpAddress> forms = SameDestination(address);
  if (std::optional<CarriedIpv4> carried = CarriedAddress(address); carried) {
    forms.push_back(carried->v4);
    forms.push_back(MappedForm(carried->v4));
  }
  return forms;
}

struct SpecialBlock {
  const char* base;
  int prefix_length;
  AddressClass address_class;
};

// IPv4: the IANA IPv4 special-purpose address registry (RFC 6890 and its updates), plus the
// cloud metadata endpoints. The longest matching block decides.
constexpr SpecialBlock kIpv4Blocks[] = {
    // "This network"; Linux connects 0.0.0.0 to the local host.
    {"0.0.0.0", 8, AddressClass::kUnspecified},
    {"10.0.0.0", 8, AddressClass::kPrivate},             // RFC 1918
    {"100.64.0.0", 10, AddressClass::kSharedNat},        // carrier-grade NAT, RFC 6598
    {"127.0.0.0", 8, AddressClass::kLoopback},           // RFC 1122
    {"169.254.0.0", 16, AddressClass::kLinkLocal},       // RFC 3927
    {"172.16.0.0", 12, AddressClass::kPrivate},          // RFC 1918
    {"192.0.0.0", 24, AddressClass::kReserved},          // IETF protocol assignments, RFC 6890
    {"192.0.2.0", 24, AddressClass::kDocumentation},     // TEST-NET-1, RFC 5737
    {"192.88.99.0", 24, AddressClass::kReserved},        // 6to4 relay anycast, RFC 7526
    {"192.168.0.0", 16, AddressClass::kPrivate},         // RFC 1918
    {"198.18.0.0", 15, AddressClass::kReserved},         // benchmarking, RFC 2544
    {"198.51.100.0", 24, AddressClass::kDocumentation},  // TEST-NET-2, RFC 5737
    {"203.0.113.0", 24, AddressClass::kDocumentation},   // TEST-NET-3, RFC 5737
    {"224.0.0.0", 4, AddressClass::kMulticast},          // RFC 5771
    {"240.0.0.0", 4, AddressClass::kReserved},           // RFC 1112
    {"255.255.255.255", 32, AddressClass::kBroadcast},   // limited broadcast, RFC 919
    // Cloud metadata services hand out instance credentials to whoever asks from the VM.
    // AWS (IMDS), Azure (IMDS), Google Cloud, Oracle Cloud, OpenStack, DigitalOcean, Hetzner, …
    {"169.254.169.254", 32, AddressClass::kMetadata},
    // AWS ECS task metadata and container credentials.
    {"169.254.170.2", 32, AddressClass::kMetadata},
    // AWS EKS Pod Identity Agent (credentials).
    {"169.254.170.23", 32, AddressClass::kMetadata},
    // Scaleway instance metadata.
    {"169.254.42.42", 32, AddressClass::kMetadata},
    // Alibaba Cloud ECS metadata; inside the shared NAT block.
    {"100.100.100.200", 32, AddressClass::kMetadata},
    // Oracle Cloud Classic metadata; inside 192.0.0.0/24.
    {"192.0.0.192", 32, AddressClass::kMetadata},
    // Azure WireServer: VM extension settings and certificates, reachable from every Azure VM;
    // a public address, so no private-range rule would catch it.
    {"168.63.129.16", 32, AddressClass::kMetadata},
};

// IPv6: the IANA IPv6 address space and special-purpose registries. Only 2000::/3 is global
// unicast; every other top-level block is reserved by the IETF. ::, ::1 and the forms that carry
// an IPv4 address (::ffff:0:0/96, ::ffff:0:0:0/96, ::/96, 64:ff9b::/96, 2002::/16) are decided
// before this table.
constexpr SpecialBlock kIpv6Blocks[] = {
    {"::", 8, AddressClass::kReserved},     // holds 64:ff9b:1::/48, local-use NAT64 (RFC 8215)
    {"100::", 8, AddressClass::kReserved},  // holds 100::/64, discard-only (RFC 6666)
    {"200::", 7, AddressClass::kReserved},
    {"400::", 6, AddressClass::kReserved},
    {"800::", 5, AddressClass::kReserved},
    {"1000::", 4, AddressClass::kReserved},
    // IETF protocol assignments: Teredo 2001::/32 (carries an obfuscated IPv4 address),
    // benchmarking 2001:2::/48, ORCHID, AMT, AS112 — never a destination for an agent.
    {"2001::", 23, AddressClass::kReserved},
    {"2001:db8::", 32, AddressClass::kDocumentation},  // RFC 3849
    {"3fff::", 20, AddressClass::kDocumentation},      // RFC 9637
    {"4000::", 3, AddressClass::kReserved},            // holds 5f00::/16, SRv6 SIDs (RFC 9602)
    {"6000::", 3, AddressClass::kReserved},
    {"8000::", 3, AddressClass::kReserved},
    {"a000::", 3, AddressClass::kReserved},
    {"c000::", 3, AddressClass::kReserved},
    {"e000::", 4, AddressClass::kReserved},
    {"f000::", 5, AddressClass::kReserved},
    {"f800::", 6, AddressClass::kReserved},
    {"fc00::", 7, AddressClass::kPrivate},  // unique local, RFC 4193
    {"fe00::", 9, AddressClass::kReserved},
    {"fe80::", 10, AddressClass::kLinkLocal},  // RFC 4291
    {"fec0::", 10, AddressClass::kPrivate},    // site-local, deprecated by RFC 3879
    {"ff00::", 8, AddressClass::kMulticast},   // RFC 4291
    // Cloud metadata over IPv6, inside the unique-local block: fc00::/7 or fd00::/8 must not
    // open them.
    {"fd00:ec2::254", 128, AddressClass::kMetadata},       // AWS IMDS (Nitro instances)
    {"fd00:ec2::23", 128, AddressClass::kMetadata},        // AWS EKS Pod Identity Agent
    {"fd20:ce::254", 128, AddressClass::kMetadata},        // Google Cloud metadata server
    {"fd00:c1::a9fe:a9fe", 128, AddressClass::kMetadata},  // Oracle Cloud (OCI) IMDS
    {"fd00:42::42", 128, AddressClass::kMetadata},         // Scaleway instance metadata
};

struct ParsedBlock {
  IpAddress base;
  int prefix_length;
  AddressClass address_class;
};

std::vector<ParsedBlock> ParseBlocks(const SpecialBlock* begin, const SpecialBlock* end) {
  std::vector<ParsedBlock> blocks;
  for (const SpecialBlock* block = begin; block != end; ++block) {
    // The tables are constants: a typo shows up as a block that never matches, and the
    // classification tests name an address in every block.
    if (std::optional<IpAddress> base = ParseIpAddress(block->base); base) {
      blocks.push_back({*base, block->prefix_length, block->address_class});
    }
  }
  return blocks;
}

const std::vector<ParsedBlock>& Ipv4Blocks() {
  static const std::vector<ParsedBlock> blocks =
      ParseBlocks(std::begin(kIpv4Blocks), std::end(kIpv4Blocks));
  return blocks;
}

const std::vector<ParsedBlock>& Ipv6Blocks() {
  static const std::vector<ParsedBlock> blocks =
      ParseBlocks(std::begin(kIpv6Blocks), std::end(kIpv6Blocks));
  return blocks;
}

// An address's class and the prefix length of the special block that holds it, in the
// address's own family (0 for a public address). Metadata and host-own addresses are blocks of
// their own: only the exact address names them.
struct Special {
  AddressClass address_class = AddressClass::kPublic;
  int block_length = 0;
};

bool InHostOwn(const IpAddress& address, const std::vector<IpAddress>& host_own) {
  for (const IpAddress& form : SameDestination(address)) {
    if (std::find(host_own.begin(), host_own.end(), form) != host_own.end()) return true;
  }
  return false;
}

Special ClassifyWithBlock(const IpAddress& address, const std::vector<IpAddress>& host_own) {
  Special special;
  if (address.v6 && AllZero(address, 0, 15) && address.bytes[15] <= 1) {
    special = {address.bytes[15] == 0 ? AddressClass::kUnspecified : AddressClass::kLoopback, 128};
  } else if (std::optional<CarriedIpv4> carried = CarriedAddress(address)) {
    Special inner = ClassifyWithBlock(carried->v4, host_own);
    if (inner.address_class == AddressClass::kPublic) {
      special = {};
    } else if (inner.address_class == AddressClass::kMetadata ||
               inner.address_class == AddressClass::kHostOwn) {
      special = {inner.address_class, 128};
    } else {
      special = {inner.address_class, carried->offset + inner.block_length};
    }
  } else {
    for (const ParsedBlock& block : address.v6 ? Ipv6Blocks() : Ipv4Blocks()) {
      if (block.prefix_length >= special.block_length &&
          InPrefix(address, block.base, block.prefix_length)) {
        special = {block.address_class, block.prefix_length};
      }
    }
  }
  if (special.address_class != AddressClass::kLoopback && InHostOwn(address, host_own)) {
    return {AddressClass::kHostOwn, FullLength(address)};
  }
  return special;
}

// --- host names ---

bool IsAscii(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

std::string LowerAscii(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

// Well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
bool IsValidUtf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    int extra = 0;
    std::uint32_t code = 0, minimum = 0;
    if (lead < 0x80) {
      ++i;
      continue;
    } else if ((lead & 0xe0) == 0xc0) {
      extra = 1, code = lead & 0x1f, minimum = 0x80;
    } else if ((lead & 0xf0) == 0xe0) {
      extra = 2, code = lead & 0x0f, minimum = 0x800;
    } else if ((lead & 0xf8) == 0xf0) {
      extra = 3, code = lead & 0x07, minimum = 0x10000;
    } else {
      return false;
    }
    if (i + extra >= text.size()) return false;
    for (int k = 1; k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xc0) != 0x80) return false;
      code = code << 6 | (next & 0x3f);
    }
    if (code < minimum || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return false;
    i += extra + 1;
  }
  return true;
}

// Why a byte can never be part of a host, or nullopt when it may be.
std::optional<std::string> ForbiddenByteReason(unsigned char byte) {
  switch (byte) {
    case 0:
      return "contains a NUL byte";
    case '@':
      return "contains '@' (user info is not part of a host)";
    case '%':
      return "contains '%' (percent-encoding and IPv6 zone ids are refused)";
    case '/':
    case '\\':
    case '?':
    case '#':
      return "contains " + ShowByte(byte) + " (a URL or a path, not a host)";
    case ' ':
      return "contains a space";
    case ':':
      return "contains ':' outside IPv6 brackets (a port is given separately)";
    case '[':
    case ']':
      return "contains " + ShowByte(byte) + " outside an IPv6 address in brackets";
    default:
      break;
  }
  if (byte < 0x20 || byte == 0x7f) return "contains a control character (" + HexByte(byte) + ")";
  return std::nullopt;
}

std::optional<std::string> FirstForbiddenByte(std::string_view text) {
  for (char c : text) {
    if (auto reason = ForbiddenByteReason(static_cast<unsigned char>(c)); reason) return reason;
  }
  return std::nullopt;
}

struct FreeDeleter {
  void operator()(void* memory) const { std::free(memory); }
};

// The A-label form of a Unicode name (UTS #46 non-transitional mapping, NFC), or the libidn2
// error code.
std::optional<std::string> IdnLookup(const std::string& name, int& error) {
  const idna::Library* idn = idna::Get(nullptr);
  if (idn == nullptr) {
    error = kIdnUnavailable;
    return std::nullopt;
  }
  std::uint8_t* out = nullptr;
  error = idn->lookup_u8(reinterpret_cast<const std::uint8_t*>(name.c_str()), &out, kIdnFlags);
  std::unique_ptr<std::uint8_t, FreeDeleter> owned(out);
  if (error != IDN2_OK || out == nullptr) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(out));
}

// An "xn--" label must be what libidn2 makes of its own Unicode form: "xn--example-" (plain
// ASCII in disguise), labels that decode to mapped or disallowed characters, and punycode that
// does not decode are all refused.
bool ALabelRoundTrips(const std::string& label) {
  const idna::Library* idn = idna::Get(nullptr);
  if (idn == nullptr) return false;
  char* unicode = nullptr;
  const int rc = idn->to_unicode_8z8z(label.c_str(), &unicode, 0);
  std::unique_ptr<char, FreeDeleter> owned(unicode);
  if (rc != IDN2_OK || unicode == nullptr) return false;
  int error = 0;
  std::optional<std::string> back = IdnLookup(unicode, error);
  return back && *back == label;
}

std::string IdnErrorReason(int error) {
  std::string why;
  const idna::Library* idn = idna::Get(&why);
  if (error == kIdnUnavailable || idn == nullptr)
    return "cannot be checked as an internationalised name (" + why + ")";
  switch (error) {
    case IDN2_TOO_BIG_LABEL:
    case IDN2_PUNYCODE_BIG_OUTPUT:
      return "has a label longer than 63 bytes as an A-label";
    case IDN2_TOO_BIG_DOMAIN:
      return "is longer than 253 bytes as A-labels";
    default:
      return "is not a valid internationalised name (" +
             EscapeBytes(idn->strerror(error), std::string_view::npos) + ")";
  }
}

// WHATWG URL "ends in a number": inet_aton and browsers read such a name as an IPv4 address,
// in decimal, octal or hex, with fewer than four parts; what it means depends on who parses it.
bool LooksNumeric(std::string_view label) {
  if (!label.empty() && std::all_of(label.begin(), label.end(), IsDigit)) return true;
  return label.starts_with("0x") &&
         std::all_of(label.begin() + 2, label.end(), [](char c) { return HexValue(c) >= 0; });
}

bool IsLabelByte(char c) {
  return (c >= 'a' && c <= 'z') || IsDigit(c) || c == '-' || c == '_';
}

std::vector<std::string_view> SplitLabels(std::string_view name) {
  std::vector<std::string_view> labels;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = name.find('.', start);
    if (dot == std::string_view::npos) {
      labels.push_back(name.substr(start));
      return labels;
    }
    labels.push_back(name.substr(start, dot - start));
    start = dot + 1;
  }
}

// The checks on an ASCII (lower-case, or A-label) name.
std::optional<HostName> CheckAsciiName(std::string name, std::string& reason) {
  if (name.ends_with("..")) {
    reason = "ends in more than one dot";
    return std::nullopt;
  }
  if (name.ends_with('.')) name.pop_back();
  if (name.empty()) {
    reason = "names no host";
    return std::nullopt;
  }
  const std::vector<std::string_view> labels = SplitLabels(name);
  for (std::string_view label : labels) {
    if (label.empty()) {
      reason = "has an empty label";
      return std::nullopt;
    }
  }
  if (name.size() > kMaxNameBytes) {
    reason = "is longer than 253 bytes";
    return std::nullopt;
  }
  for (std::string_view label : labels) {
    if (label.size() > kMaxLabelBytes) {
      reason = "has a label longer than 63 bytes";
      return std::nullopt;
    }
  }
  if (std::optional<IpAddress> v4 = ParseIpv4(name); v4) return HostName{v4->ToString(), v4};
  if (LooksNumeric(labels.back())) {
    reason =
        "is an ambiguous numeric host; write an IPv4 address as four decimal numbers 0-255 "
        "without leading zeros";
    return std::nullopt;
  }
  for (std::string_view label : labels) {
    for (char c : label) {
      if (!IsLabelByte(c)) {
        reason = "contains " + ShowByte(static_cast<unsigned char>(c)) +
                 ", which is not a letter, a digit, '-' or '_'";
        return std::nullopt;
      }
    }
    if (label.front() == '-' || label.back() == '-') {
      reason = "has a label that starts or ends with '-'";
      return std::nullopt;
    }
    if (label.starts_with("xn--") && !ALabelRoundTrips(std::string(label))) {
      reason = "has an invalid A-label (\"" + std::string(label) + "\")";
      return std::nullopt;
    }
  }
  return HostName{std::move(name), std::nullopt};
}

std::optional<HostName> Normalise(std::string_view raw, std::string& reason) {
  if (raw.empty()) {
    reason = "is empty";
    return std::nullopt;
  }
  if (raw.size() > kMaxRawHostBytes) {
    reason = "is longer than 1024 bytes";
    return std::nullopt;
  }
  // NUL and control bytes first, whatever else the text holds: they are the sign of an attempt
  // to make the proxy and a resolver read different names.
  for (char c : raw) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      reason = *ForbiddenByteReason(byte);
      return std::nullopt;
    }
  }
  if (raw.front() == '[') {
    if (raw.size() < 3 || raw.back() != ']') {
      reason = "is not an IPv6 address in brackets";
      return std::nullopt;
    }
    std::string_view inside = raw.substr(1, raw.size() - 2);
    if (inside.find('%') != std::string_view::npos) {
      reason = "has an IPv6 zone id (refused)";
      return std::nullopt;
    }
    std::optional<IpAddress> v6 = ParseIpv6(inside);
    if (!v6) {
      reason = "is not an IPv6 address in brackets";
      return std::nullopt;
    }
    return HostName{v6->ToString(), v6};
  }
  if (raw.find(':') != std::string_view::npos) {
    if (std::optional<IpAddress> v6 = ParseIpv6(raw); v6) return HostName{v6->ToString(), v6};
  }
  if (std::optional<std::string> forbidden = FirstForbiddenByte(raw); forbidden) {
    reason = *forbidden;
    return std::nullopt;
  }
  if (!IsValidUtf8(raw)) {
    reason = "is not valid UTF-8";
    return std::nullopt;
  }
  if (IsAscii(raw)) return CheckAsciiName(LowerAscii(raw), reason);

  int error = 0;
  std::optional<std::string> mapped = IdnLookup(std::string(raw), error);
  if (!mapped) {
    reason = IdnErrorReason(error);
    return std::nullopt;
  }
  // UTS #46 maps full-width and compatibility forms of ASCII punctuation ('＠', '：', '／') to the
  // ASCII characters themselves; what they map to is what a resolver would see.
  if (!IsAscii(*mapped)) {
    reason = "does not map to ASCII";
    return std::nullopt;
  }
  if (std::optional<std::string> forbidden = FirstForbiddenByte(*mapped); forbidden) {
    reason = "after IDN mapping " + *forbidden;
    return std::nullopt;
  }
  return CheckAsciiName(LowerAscii(*mapped), reason);
}

// --- patterns ---

constexpr const char* kPatternForms =
    "write a host (example.com), its subdomains (*.example.com), an address (192.0.2.1, "
    "[2001:db8::1]) or a network (10.0.0.0/8), optionally followed by ports (:443, :80,443, "
    ":8000-8100)";

HostPatternResult Refuse(std::string_view text, const std::string& what, std::string hint) {
  return {std::nullopt, EscapeBytes(text) + ": " + what, std::move(hint)};
}

std::optional<std::uint16_t> ParsePort(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  int value = 0;
  for (char c : text) {
    if (!IsDigit(c)) return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value < 1 || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

// "443", "80,443", "8000-8100"; an error in `what` and `hint` otherwise.
std::optional<std::vector<PortRange>> ParsePorts(std::string_view text, std::string& what,
                                                 std::string& hint) {
  if (text.empty()) {
    what = "no port after ':'";
    hint = "leave out the ':' to allow every port, or list the ports: example.com:443";
    return std::nullopt;
  }
  std::vector<PortRange> ranges;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    std::string_view item = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (item.empty()) {
      what = "empty entry in the port list";
      hint = "separate ports with single commas: example.com:80,443";
      return std::nullopt;
    }
    const std::size_t dash = item.find('-');
    std::string_view first_text = item.substr(0, dash);
    std::string_view last_text = dash == std::string_view::npos ? item : item.substr(dash + 1);
    std::optional<std::uint16_t> first = ParsePort(first_text);
    std::optional<std::uint16_t> last = ParsePort(last_text);
    if (!first || !last) {
      what = "\"" + EscapeBytes(first ? last_text : first_text) +
             "\" is not a port (a number from 1 to 65535)";
      hint =
          "ports are 1-65535, single (443), listed (80,443) or ranges (8000-8100); leave "
          "them out to allow every port";
      return std::nullopt;
    }
    if (*first > *last) {
      what = "port range " + EscapeBytes(item) + " runs backwards";
      hint = "write " + std::to_string(*last) + "-" + std::to_string(*first);
      return std::nullopt;
    }
    ranges.push_back({*first, *last});
    if (comma == std::string_view::npos) return ranges;
    start = comma + 1;
  }
}

// An address or a network: "192.0.2.1", "10.0.0.0/8", "2001:db8::/32". `bracketed`: it stood in
// brackets, which only IPv6 takes.
std::optional<HostPatternResult> ParseAddressPattern(std::string_view text, std::string_view part,
                                                     bool bracketed, HostPattern& pattern) {
  const std::size_t slash = part.find('/');
  std::string_view base_text = part.substr(0, slash);
  if (base_text.find('%') != std::string_view::npos) {
    return Refuse(text, "IPv6 zone ids are refused", "write the address without its %zone");
  }
  std::optional<IpAddress> base = ParseIpAddress(base_text);
  if (!base) {
    const bool looks_v6 = base_text.find(':') != std::string_view::npos;
    return Refuse(text, "\"" + EscapeBytes(base_text) + "\" is not an IP address",
                  looks_v6 ? "write IPv6 as 2001:db8::1 or 2001:db8::/32, in brackets when ports "
                             "follow: [2001:db8::1]:443"
                           : "write IPv4 as four decimal numbers 0-255 without leading zeros, as "
                             "in 192.0.2.1 or 10.0.0.0/8");
  }
  if (bracketed && !base->v6) {
    return Refuse(text, "brackets are only for IPv6 addresses",
                  "write " + EscapeBytes(part) + " without brackets");
  }
  const int full = FullLength(*base);
  if (slash == std::string_view::npos) {
    pattern.kind = HostPattern::Kind::kAddress;
    pattern.address = *base;
    pattern.prefix_length = full;
    return std::nullopt;
  }
  std::string_view length_text = part.substr(slash + 1);
  int length = 0;
  bool valid = !length_text.empty() && length_text.size() <= 3 &&
               (length_text.size() == 1 || length_text[0] != '0');
  for (char c : length_text) {
    if (!IsDigit(c)) valid = false;
    length = length * 10 + (c - '0');
    if (length > 999) break;
  }
  if (!valid || length > full) {
    return Refuse(text,
                  "\"/" + EscapeBytes(length_text) + "\" is not a prefix length (0-" +
                      std::to_string(full) + ")",
                  std::string("write a network as ") + (base->v6 ? "2001:db8::/32" : "10.0.0.0/8"));
  }
  const IpAddress masked = Masked(*base, length);
  if (masked != *base) {
    const std::string network = masked.ToString() + "/" + std::to_string(length);
    return Refuse(
        text, "host bits set; write " + network,
        "write " + network + " for the network, or " + base->ToString() + " for the one address");
  }
  pattern.kind = HostPattern::Kind::kNetwork;
  pattern.address = masked;
  pattern.prefix_length = length;
  return std::nullopt;
}

// A name, "*.name", or an IPv4 address written as a name.
std::optional<HostPatternResult> ParseNamePattern(std::string_view text, std::string_view host,
                                                  HostPattern& pattern) {
  std::string reason;
  if (host.find('*') != std::string_view::npos) {
    if (host == "*") {
      return Refuse(text, "'*' alone would allow every host",
                    "list the hosts the task needs; *.example.com allows every subdomain of "
                    "example.com");
    }
    if (host == "*.") {
      return Refuse(text, "'*.' names no domain",
                    "write *.example.com to allow every subdomain of example.com");
    }
    if (host.starts_with("*.") && host.find('*', 1) == std::string_view::npos) {
      std::optional<HostName> domain = Normalise(host.substr(2), reason);
      if (!domain) return Refuse(text, "the domain after '*.' " + reason, kPatternForms);
      if (domain->address) {
        return Refuse(text, "'*.' takes a domain name, not an address",
                      "write a network instead, such as 192.0.2.0/24");
      }
      pattern.kind = HostPattern::Kind::kSuffix;
      pattern.name = std::move(domain->name);
      return std::nullopt;
    }
    std::string_view after = host.substr(host.rfind('*') + 1);
    while (after.starts_with('.')) after.remove_prefix(1);
    const std::string domain = EscapeBytes(after);
    if (host.front() == '*') {
      return Refuse(text, "'*' must be a whole label, followed by '.'",
                    domain.empty() ? "write *.example.com to allow every subdomain of example.com"
                                   : "write *." + domain + " for the subdomains of " + domain +
                                         ", or " + domain + " for the name itself");
    }
    return Refuse(text, "'*' may only be the whole first label",
                  domain.empty() ? "list the hosts one by one"
                                 : "list the hosts one by one, or write *." + domain +
                                       " to allow every subdomain of " + domain);
  }
  std::optional<HostName> name = Normalise(host, reason);
  if (!name) return Refuse(text, "host " + Quote(host) + " " + reason, kPatternForms);
  if (name->address) {
    pattern.kind = HostPattern::Kind::kAddress;
    pattern.address = *name->address;
    pattern.prefix_length = FullLength(*name->address);
  } else {
    pattern.kind = HostPattern::Kind::kName;
    pattern.name = std::move(name->name);
  }
  return std::nullopt;
}

// --- decisions ---

bool PortsMatch(const std::vector<PortRange>& ports, std::uint16_t port) {
  if (ports.empty()) return true;
  return std::any_of(ports.begin(), ports.end(), [&](const PortRange& range) {
    return range.first <= port && port <= range.last;
  });
}

bool IsAddressPattern(const HostPattern& pattern) {
  return pattern.kind == HostPattern::Kind::kAddress || pattern.kind == HostPattern::Kind::kNetwork;
}

bool ContainsAny(const HostPattern& pattern, const std::vector<IpAddress>& forms) {
  return std::any_of(forms.begin(), forms.end(), [&](const IpAddress& form) {
    return InPrefix(form, pattern.address, pattern.prefix_length);
  });
}

std::string HostPort(const HostName& host, std::uint16_t port) {
  const bool brackets = host.address && host.address->v6;
  return (brackets ? "[" + host.name + "]" : host.name) + ":" + std::to_string(port);
}

std::string Quoted(const std::string& text) {
  return "\"" + text + "\"";
}

// Whether an allow pattern names a special address explicitly: it contains the address, lists
// the port, and lies wholly within the address's special block. On a pattern that contains the
// address but is broader, `broader_than` gets that block.
bool NamesExplicitly(const HostPattern& pattern, const IpAddress& address, std::uint16_t port,
                     const std::vector<IpAddress>& host_own, std::string* broader_than) {
  if (!IsAddressPattern(pattern) || !PortsMatch(pattern.ports, port)) return false;
  for (const IpAddress& form : SameDestination(address)) {
    if (!InPrefix(form, pattern.address, pattern.prefix_length)) continue;
    const Special special = ClassifyWithBlock(form, host_own);
    if (pattern.prefix_length >= special.block_length) return true;
    if (broader_than != nullptr && broader_than->empty()) {
      *broader_than = Masked(form, special.block_length).ToString() + "/" +
                      std::to_string(special.block_length);
    }
  }
  return false;
}

// One address: an IP literal the sandbox asked for (`name` null), or an address `name` resolved
// to.
AddressVerdict JudgeAddress(const NetworkRules& rules, const HostName& host,
                            const IpAddress& address, std::uint16_t port,
                            const std::vector<IpAddress>& host_own, const NameDecision* name) {
  AddressVerdict verdict;
  verdict.address = address;
  verdict.address_class = ClassifyWithBlock(address, host_own).address_class;
  const std::string text = address.ToString();
  const std::string class_name = AddressClassName(verdict.address_class);
  HostName literal{text, address};
  // "registry.test resolves to 10.1.2.3," / "10.1.2.3:443 is" — both read on with "denied by".
  const std::string lead =
      name != nullptr ? host.name + " resolves to " + text + "," : HostPort(literal, port) + " is";

  const std::vector<IpAddress> carried = EveryCarriedForm(address);
  for (const HostPattern& deny : rules.deny) {
    if (IsAddressPattern(deny) && PortsMatch(deny.ports, port) && ContainsAny(deny, carried)) {
      verdict.rule = deny.text;
      verdict.why = lead + " denied by " + Quoted(deny.text);
      return verdict;
    }
  }

  if (verdict.address_class != AddressClass::kPublic) {
    std::string broader_than;
    for (const HostPattern& allow : rules.allow) {
      if (NamesExplicitly(allow, address, port, host_own, &broader_than)) {
        verdict.allowed = true;
        verdict.rule = allow.text;
        verdict.why = name != nullptr ? host.name + " resolves to " + text + " (" + class_name +
                                            "), allowed by " + Quoted(allow.text)
                                      : HostPort(literal, port) + " (" + class_name +
                                            ") is allowed by " + Quoted(allow.text);
        return verdict;
      }
    }
    verdict.rule = std::string(kSpecialAddressRule);
    verdict.why =
        (name != nullptr ? host.name + " resolves to " + text + " (" + class_name + ")"
                         : HostPort(literal, port) + " is a special address (" + class_name + ")") +
        "; allow it by address (" + Quoted(text) + ") to reach it";
    if (!broader_than.empty()) {
      verdict.why += " (a pattern broader than " + broader_than + " does not name it)";
    }
    return verdict;
  }

  if (name != nullptr) {
    verdict.allowed = true;
    verdict.rule = name->rule;
    verdict.why = lead + " allowed by " + Quoted(name->rule);
    return verdict;
  }
  const std::vector<IpAddress> same = SameDestination(address);
  for (const HostPattern& allow : rules.allow) {
    if (IsAddressPattern(allow) && PortsMatch(allow.ports, port) && ContainsAny(allow, same)) {
      verdict.allowed = true;
      verdict.rule = allow.text;
      verdict.why = lead + " allowed by " + Quoted(allow.text);
      return verdict;
    }
  }
  verdict.rule = "default";
  verdict.why = HostPort(literal, port) +
                " matches no allow rule (an IP address is allowed only by an address or network "
                "pattern)";
  return verdict;
}

}  // namespace

// --- addresses ---

std::string IpAddress::ToString() const {
  if (!v6) {
    return std::to_string(bytes[0]) + "." + std::to_string(bytes[1]) + "." +
           std::to_string(bytes[2]) + "." + std::to_string(bytes[3]);
  }
  if (IsIpv4Mapped(*this)) return "::ffff:" + Ipv4At(*this, 12).ToString();
  std::array<std::uint16_t, 8> groups{};
  for (int i = 0; i < 8; ++i)
    groups[i] = static_cast<std::uint16_t>(bytes[2 * i] << 8 | bytes[2 * i + 1]);
  // The longest run of at least two zero groups, the first of equals (RFC 5952 4.2).
  int best = -1, best_length = 1;
  for (int i = 0; i < 8;) {
    if (groups[i] != 0) {
      ++i;
      continue;
    }
    int end = i;
    while (end < 8 && groups[end] == 0) ++end;
    if (end - i > best_length) best = i, best_length = end - i;
    i = end;
  }
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 8;) {
    if (i == best) {
      out += "::";
      i += best_length;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      const int digit = groups[i] >> shift & 0xf;
      if (digit != 0 || started || shift == 0) {
        out += kDigits[digit];
        started = true;
      }
    }
    ++i;
  }
  return out;
}

std::optional<IpAddress> ParseIpAddress(std::string_view text) {
  if (text.find(':') != std::string_view::npos) return ParseIpv6(text);
  return ParseIpv4(text);
}

IpAddress Ipv4(std::uint32_t host_order) {
  IpAddress address;
  address.bytes[0] = static_cast<std::uint8_t>(host_order >> 24);
  address.bytes[1] = static_cast<std::uint8_t>(host_order >> 16);
  address.bytes[2] = static_cast<std::uint8_t>(host_order >> 8);
  address.bytes[3] = static_cast<std::uint8_t>(host_order);
  return address;
}

const char* AddressClassName(AddressClass address_class) {
  switch (address_class) {
    case AddressClass::kPublic:
      return "public";
    case AddressClass::kUnspecified:
      return "unspecified";
    case AddressClass::kLoopback:
      return "loopback";
    case AddressClass::kPrivate:
      return "private";
    case AddressClass::kSharedNat:
      return "shared NAT";
    case AddressClass::kLinkLocal:
      return "link-local";
    case AddressClass::kMetadata:
      return "cloud metadata";
    case AddressClass::kMulticast:
      return "multicast";
    case AddressClass::kBroadcast:
      return "broadcast";
    case AddressClass::kReserved:
      return "reserved";
    case AddressClass::kDocumentation:
      return "documentation";
    case AddressClass::kHostOwn:
      return "host's own";
  }
  return "reserved";
}

AddressClass ClassifyAddress(const IpAddress& address, const std::vector<IpAddress>& host_own) {
  return ClassifyWithBlock(address, host_own).address_class;
}

// --- host names ---

HostNameResult NormaliseHostName(std::string_view raw) {
  HostNameResult result;
  std::string reason;
  result.host = Normalise(raw, reason);
  if (!result.host) result.error = Quote(raw) + " " + reason;
  return result;
}

// --- patterns ---

HostPatternResult ParseHostPattern(std::string_view text) {
  if (text.empty()) return Refuse(text, "empty host pattern", kPatternForms);
  if (text.find("://") != std::string_view::npos) {
    return Refuse(text, "a URL, not a host pattern",
                  "write the host alone, with ports if needed: example.com:443");
  }
  HostPattern pattern;
  pattern.text = std::string(text);
  std::string_view ports_text;
  bool has_ports = false;
  std::optional<HostPatternResult> refused;
  if (text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return Refuse(text, "no ']' after the IPv6 address", "write [2001:db8::1]:443");
    }
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return Refuse(text, "unexpected text after ']'",
                      "write [2001:db8::1], or [2001:db8::1]:443 with ports");
      }
      ports_text = rest.substr(1);
      has_ports = true;
    }
    refused = ParseAddressPattern(text, text.substr(1, close - 1), true, pattern);
  } else if (std::count(text.begin(), text.end(), ':') >= 2) {
    // Bare IPv6 takes no port: "2001:db8::1:443" would be an address.
    refused = ParseAddressPattern(text, text, false, pattern);
  } else {
    std::string_view host = text;
    if (const std::size_t colon = text.find(':'); colon != std::string_view::npos) {
      host = text.substr(0, colon);
      ports_text = text.substr(colon + 1);
      has_ports = true;
    }
    if (host.find('/') != std::string_view::npos) {
      refused = ParseAddressPattern(text, host, false, pattern);
    } else {
      refused = ParseNamePattern(text, host, pattern);
    }
  }
  if (refused) return *refused;
  if (has_ports) {
    std::string what, hint;
    std::optional<std::vector<PortRange>> ports = ParsePorts(ports_text, what, hint);
    if (!ports) return Refuse(text, what, hint);
    pattern.ports = std::move(*ports);
  }
  return {std::move(pattern), "", ""};
}

bool HostPatternMatches(const HostPattern& pattern, const HostName& host, std::uint16_t port) {
  if (!PortsMatch(pattern.ports, port)) return false;
  switch (pattern.kind) {
    case HostPattern::Kind::kName:
      return !host.address && host.name == pattern.name;
    case HostPattern::Kind::kSuffix:
      return !host.address && host.name.size() > pattern.name.size() + 1 &&
             host.name.ends_with(pattern.name) &&
             host.name[host.name.size() - pattern.name.size() - 1] == '.';
    case HostPattern::Kind::kAddress:
    case HostPattern::Kind::kNetwork:
      return host.address && ContainsAny(pattern, SameDestination(*host.address));
  }
  return false;
}

// --- decisions ---

NameDecision DecideHost(const NetworkRules& rules, const HostName& host, std::uint16_t port,
                        const std::vector<IpAddress>& host_own) {
  if (host.address) {
    AddressVerdict verdict = JudgeAddress(rules, host, *host.address, port, host_own, nullptr);
    return {verdict.allowed, std::move(verdict.rule), std::move(verdict.why)};
  }
  const std::string subject = host.name.empty() ? "an empty host" : HostPort(host, port);
  for (const HostPattern& deny : rules.deny) {
    if (!IsAddressPattern(deny) && HostPatternMatches(deny, host, port)) {
      return {false, deny.text, subject + " is denied by " + Quoted(deny.text)};
    }
  }
  for (const HostPattern& allow : rules.allow) {
    if (!IsAddressPattern(allow) && HostPatternMatches(allow, host, port)) {
      return {true, allow.text, subject + " is allowed by " + Quoted(allow.text)};
    }
  }
  NameDecision decision{false, "default", subject + " matches no allow rule"};
  // A rule for the host on other ports is the likely slip; say so.
  for (const HostPattern& allow : rules.allow) {
    if (IsAddressPattern(allow) || allow.ports.empty()) continue;
    HostPattern any_port = allow;
    any_port.ports.clear();
    if (HostPatternMatches(any_port, host, port)) {
      decision.why +=
          " (" + Quoted(allow.text) + " does not list port " + std::to_string(port) + ")";
      break;
    }
  }
  return decision;
}

std::vector<AddressVerdict> DecideAddresses(const NetworkRules& rules, const HostName& host,
                                            std::uint16_t port,
                                            const std::vector<IpAddress>& addresses,
                                            const std::vector<IpAddress>& host_own) {
  std::vector<AddressVerdict> verdicts;
  verdicts.reserve(addresses.size());
  if (host.address) {
    for (const IpAddress& address : addresses) {
      verdicts.push_back(JudgeAddress(rules, host, address, port, host_own, nullptr));
    }
    return verdicts;
  }
  const NameDecision name = DecideHost(rules, host, port, host_own);
  for (const IpAddress& address : addresses) {
    if (!name.allowed) {
      verdicts.push_back({address, ClassifyAddress(address, host_own), false, name.rule, name.why});
    } else {
      verdicts.push_back(JudgeAddress(rules, host, address, port, host_own, &name));
    }
  }
  return verdicts;
}

}  // namespace tollgate::policy
