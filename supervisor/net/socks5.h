// The SOCKS5 handshake a sandboxed client sends to the proxy's SOCKS port (RFC 1928), and the
// bytes the proxy answers. Only what the proxy offers is accepted: no authentication, and the
// CONNECT command.
//
//   client greeting   VER=5  NMETHODS>=1  METHODS[NMETHODS]
//   proxy             VER=5  METHOD (0x00 no authentication, or 0xFF: none acceptable)
//   client request    VER=5  CMD  RSV=0  ATYP  DST.ADDR  DST.PORT (big-endian, not 0)
//                     ATYP 1: 4 bytes; 3: a length byte (at least 1) and that many bytes; 4: 16
//   proxy reply       VER=5  REP  RSV=0  ATYP  BND.ADDR  BND.PORT
//
// Bytes only: no syscalls, no exceptions, the standard library alone. Like ParseRequestHead,
// each parser is handed everything received so far and decides from the first byte that shows
// an error: a wrong version, command, reserved byte or address type is refused as soon as it
// arrives.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "supervisor/net/parse_state.h"

namespace tollgate::net {

struct SocksGreeting {
  ParseState state = ParseState::kIncomplete;
  std::size_t consumed = 0;     // with kComplete: the greeting's length; the request follows
  bool offers_no_auth = false;  // with kComplete: method 0x00 is among those offered
  bool socks4 = false;          // with kError: the first byte was 4 (a SOCKS4 or 4a client)
  std::string error;            // with kError: printable ASCII

  bool operator==(const SocksGreeting&) const = default;
};

SocksGreeting ParseSocksGreeting(std::string_view received);

// The proxy's answer to a greeting: {5, 0x00} when `accept`, else {5, 0xFF} (then it closes).
std::string SocksMethodChoice(bool accept);

namespace socks_reply {
constexpr std::uint8_t kSucceeded = 0;
constexpr std::uint8_t kGeneralFailure = 1;
constexpr std::uint8_t kNotAllowed = 2;
constexpr std::uint8_t kNetworkUnreachable = 3;
constexpr std::uint8_t kHostUnreachable = 4;
constexpr std::uint8_t kConnectionRefused = 5;
constexpr std::uint8_t kTtlExpired = 6;
constexpr std::uint8_t kCommandNotSupported = 7;
constexpr std::uint8_t kAddressTypeNotSupported = 8;
}  // namespace socks_reply

namespace socks_address {
constexpr std::uint8_t kIpv4 = 1;
constexpr std::uint8_t kDomain = 3;
constexpr std::uint8_t kIpv6 = 4;
}  // namespace socks_address

struct SocksRequest {
  ParseState state = ParseState::kIncomplete;
  std::size_t consumed = 0;       // with kComplete: the request's length; tunnel data follows
  std::uint8_t command = 0;       // 1 CONNECT (set as soon as it is read, errors included)
  std::uint8_t address_type = 0;  // socks_address (set as soon as it is read, errors included)
  // A domain: the bytes exactly as sent, NUL or dots or anything else included (the caller
  // normalises the name and refuses what is not one). An address: its text form, a.b.c.d for
  // IPv4 and RFC 5952 for IPv6 (lowercase, the longest run of zero groups as "::", an
  // IPv4-mapped address as ::ffff:a.b.c.d).
  std::string host;
  std::uint16_t port = 0;
  std::uint8_t reply = 0;  // with kError: the reply code to send (socks_reply)
  std::string error;       // with kError: printable ASCII

  bool operator==(const SocksRequest&) const = default;
};

// Refuses (reply kGeneralFailure) a version other than 5, a reserved byte other than 0, an empty
// domain and port 0; a command other than CONNECT with kCommandNotSupported; an address type
// other than 1, 3 and 4 with kAddressTypeNotSupported.
SocksRequest ParseSocksRequest(std::string_view received);

// A reply with the bound address 0.0.0.0:0 (what a refusal sends, and what a client that does
// not use the bound address gets).
std::string SocksReply(std::uint8_t code);
// A reply with a bound address, given in network byte order, and a port in host byte order.
std::string SocksReply(std::uint8_t code, const std::array<std::uint8_t, 4>& ipv4,
                       std::uint16_t port);
std::string SocksReply(std::uint8_t code, const std::array<std::uint8_t, 16>& ipv6,
                       std::uint16_t port);

}  // namespace tollgate::net
