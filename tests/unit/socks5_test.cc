// The SOCKS5 handshake the proxy parses: greetings, CONNECT requests with each address type,
// each refusal with the reply code it sends, incremental input, and the reply bytes.
#include "supervisor/net/socks5.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace tollgate::net {
namespace {

std::string Bytes(std::initializer_list<int> values) {
  std::string bytes;
  for (int value : values) bytes.push_back(static_cast<char>(value));
  return bytes;
}

// A CONNECT request for `address` of type `type`, port `port`.
std::string Request(std::uint8_t type, std::string_view address, std::uint16_t port,
                    std::uint8_t command = 1) {
  std::string bytes = Bytes({5, command, 0, type});
  if (type == 3) bytes.push_back(static_cast<char>(address.size()));
  bytes += address;
  bytes.push_back(static_cast<char>(port >> 8));
  bytes.push_back(static_cast<char>(port & 0xff));
  return bytes;
}

std::string Ipv6Host(std::initializer_list<int> bytes) {
  SocksRequest request = ParseSocksRequest(Request(4, Bytes(bytes), 443));
  EXPECT_EQ(request.state, ParseState::kComplete) << request.error;
  return request.host;
}

TEST(SocksGreeting, NoAuthenticationOffered) {
  SocksGreeting greeting = ParseSocksGreeting(Bytes({5, 1, 0}));
  EXPECT_EQ(greeting.state, ParseState::kComplete);
  EXPECT_EQ(greeting.consumed, 3u);
  EXPECT_TRUE(greeting.offers_no_auth);
  EXPECT_FALSE(greeting.socks4);
  EXPECT_EQ(greeting.error, "");

  // Among others, and with the request already behind it.
  greeting = ParseSocksGreeting(Bytes({5, 3, 2, 1, 0, 5, 1, 0, 3}));
  EXPECT_EQ(greeting.state, ParseState::kComplete);
  EXPECT_EQ(greeting.consumed, 5u);
  EXPECT_TRUE(greeting.offers_no_auth);
}

TEST(SocksGreeting, OnlyOtherMethodsOffered) {
  SocksGreeting greeting = ParseSocksGreeting(Bytes({5, 2, 2, 1}));
  EXPECT_EQ(greeting.state, ParseState::kComplete);
  EXPECT_EQ(greeting.consumed, 4u);
  EXPECT_FALSE(greeting.offers_no_auth);
}

TEST(SocksGreeting, IncompleteUntilEveryMethodArrived) {
  std::string greeting = Bytes({5, 3, 2, 1, 0});
  for (std::size_t size = 0; size < greeting.size(); ++size) {
    SocksGreeting part = ParseSocksGreeting(greeting.substr(0, size));
    EXPECT_EQ(part.state, ParseState::kIncomplete) << size;
    EXPECT_EQ(part.consumed, 0u);
    EXPECT_FALSE(part.offers_no_auth);
  }
  EXPECT_EQ(ParseSocksGreeting(greeting).state, ParseState::kComplete);
}

TEST(SocksGreeting, Refusals) {
  SocksGreeting socks4 = ParseSocksGreeting(Bytes({4}));
  EXPECT_EQ(socks4.state, ParseState::kError);
  EXPECT_TRUE(socks4.socks4);
  EXPECT_EQ(socks4.error, "SOCKS4 is not supported, only SOCKS5");
  EXPECT_EQ(ParseSocksGreeting(Bytes({4, 1, 0, 80, 127, 0, 0, 1, 0})), socks4);

  SocksGreeting http = ParseSocksGreeting("GET http://example.com/ HTTP/1.1\r\n");
  EXPECT_EQ(http.state, ParseState::kError);
  EXPECT_FALSE(http.socks4);
  EXPECT_EQ(http.error, "version byte 71 is not SOCKS5");
  EXPECT_EQ(ParseSocksGreeting(Bytes({0})).error, "version byte 0 is not SOCKS5");

  SocksGreeting none = ParseSocksGreeting(Bytes({5, 0}));
  EXPECT_EQ(none.state, ParseState::kError);
  EXPECT_EQ(none.error, "greeting offers no authentication method");
  EXPECT_EQ(none.consumed, 0u);
}

TEST(SocksGreeting, MethodChoice) {
  EXPECT_EQ(SocksMethodChoice(true), Bytes({5, 0x00}));
  EXPECT_EQ(SocksMethodChoice(false), Bytes({5, 0xff}));
}

TEST(SocksRequest, ConnectToADomain) {
  std::string request = Request(3, "example.com", 443);
  SocksRequest parsed = ParseSocksRequest(request + "tunnel data");
  ASSERT_EQ(parsed.state, ParseState::kComplete) << parsed.error;
  EXPECT_EQ(parsed.consumed, request.size());
  EXPECT_EQ(parsed.consumed, 4u + 1 + 11 + 2);
  EXPECT_EQ(parsed.command, 1);
  EXPECT_EQ(parsed.address_type, socks_address::kDomain);
  EXPECT_EQ(parsed.host, "example.com");
  EXPECT_EQ(parsed.port, 443);
  EXPECT_EQ(parsed.reply, 0);
  EXPECT_EQ(parsed.error, "");
}

TEST(SocksRequest, DomainBytesAreReturnedExactlyAsSent) {
  // NUL, a trailing dot, upper case, non-ASCII: the caller normalises and refuses.
  std::string with_nul("allowed.com\0.evil.com", 21);
  SocksRequest parsed = ParseSocksRequest(Request(3, with_nul, 80));
  ASSERT_EQ(parsed.state, ParseState::kComplete) << parsed.error;
  EXPECT_EQ(parsed.host.size(), 21u);
  EXPECT_EQ(parsed.host, with_nul);

  EXPECT_EQ(ParseSocksRequest(Request(3, "Example.COM.", 80)).host, "Example.COM.");
  EXPECT_EQ(ParseSocksRequest(Request(3, "caf\xc3\xa9\n\x1b", 80)).host, "caf\xc3\xa9\n\x1b");
  std::string longest(255, 'a');
  EXPECT_EQ(ParseSocksRequest(Request(3, longest, 80)).host, longest);
  EXPECT_EQ(ParseSocksRequest(Request(3, "1", 80)).host, "1");
}

TEST(SocksRequest, ConnectToAnIpv4Address) {
  SocksRequest parsed = ParseSocksRequest(Request(1, Bytes({192, 0, 2, 255}), 0x1f90));
  ASSERT_EQ(parsed.state, ParseState::kComplete) << parsed.error;
  EXPECT_EQ(parsed.address_type, socks_address::kIpv4);
  EXPECT_EQ(parsed.host, "192.0.2.255");
  EXPECT_EQ(parsed.port, 8080);
  EXPECT_EQ(parsed.consumed, 10u);
  EXPECT_EQ(ParseSocksRequest(Request(1, Bytes({0, 0, 0, 0}), 65535)).host, "0.0.0.0");
  EXPECT_EQ(ParseSocksRequest(Request(1, Bytes({169, 254, 169, 254}), 80)).host, "169.254.169.254");
}

TEST(SocksRequest, ConnectToAnIpv6Address) {
  std::string address = Bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  SocksRequest parsed = ParseSocksRequest(Request(4, address, 22));
  ASSERT_EQ(parsed.state, ParseState::kComplete) << parsed.error;
  EXPECT_EQ(parsed.address_type, socks_address::kIpv6);
  EXPECT_EQ(parsed.host, "2001:db8::1");
  EXPECT_EQ(parsed.port, 22);
  EXPECT_EQ(parsed.consumed, 22u);
}

TEST(SocksRequest, Ipv6TextFormIsRfc5952) {
  EXPECT_EQ(Ipv6Host({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}), "::");
  EXPECT_EQ(Ipv6Host({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}), "::1");
  EXPECT_EQ(Ipv6Host({0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}), "1::");
  // Leading zeros dropped, lower case.
  EXPECT_EQ(Ipv6Host({0x20, 0x01, 0x0d, 0xb8, 0x00, 0x0a, 0xab, 0xcd, 0x01, 0x00, 0x00, 0x10, 0xfe,
                      0xdc, 0xff, 0xff}),
            "2001:db8:a:abcd:100:10:fedc:ffff");
  // A single zero group is not shortened.
  EXPECT_EQ(Ipv6Host({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1}),
            "2001:db8:0:1:1:1:1:1");
  // The longest run, and the first of two equal ones.
  EXPECT_EQ(Ipv6Host({0x20, 0x01, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}), "2001:0:0:1::1");
  EXPECT_EQ(Ipv6Host({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1}),
            "2001:db8::1:0:0:1");
  // IPv4-mapped addresses keep their IPv4 form (§5), so that a mapped loopback reads as one.
  EXPECT_EQ(Ipv6Host({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1}), "::ffff:127.0.0.1");
  EXPECT_EQ(Ipv6Host({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 127, 0, 0, 1}), "::7f00:1");
  EXPECT_EQ(Ipv6Host({0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xab, 0xcd}), "fe80::abcd");
}

TEST(SocksRequest, Refusals) {
  struct Case {
    std::string bytes;
    std::uint8_t reply;
    std::string error;
  };
  const Case cases[] = {
      {Bytes({4, 1, 0, 80}), socks_reply::kGeneralFailure, "version byte 4 is not SOCKS5"},
      {Bytes({6}), socks_reply::kGeneralFailure, "version byte 6 is not SOCKS5"},
      {Request(3, "example.com", 80, 2), socks_reply::kCommandNotSupported,
       "command 2 (BIND) is not supported, only CONNECT"},
      {Request(3, "example.com", 80, 3), socks_reply::kCommandNotSupported,
       "command 3 (UDP ASSOCIATE) is not supported, only CONNECT"},
      {Request(3, "example.com", 80, 0), socks_reply::kCommandNotSupported,
       "command 0 is not supported, only CONNECT"},
      {Request(3, "example.com", 80, 0xf0), socks_reply::kCommandNotSupported,
       "command 240 is not supported, only CONNECT"},
      {Bytes({5, 1, 1, 3, 1, 'a', 0, 80}), socks_reply::kGeneralFailure,
       "reserved byte is 1, not 0"},
      {Bytes({5, 1, 0, 5, 1, 2, 3, 4, 0, 80}), socks_reply::kAddressTypeNotSupported,
       "address type 5 is not supported"},
      {Bytes({5, 1, 0, 0}), socks_reply::kAddressTypeNotSupported,
       "address type 0 is not supported"},
      {Bytes({5, 1, 0, 2}), socks_reply::kAddressTypeNotSupported,
       "address type 2 is not supported"},
      {Bytes({5, 1, 0, 3, 0, 0, 80}), socks_reply::kGeneralFailure, "empty domain name"},
      {Request(3, "example.com", 0), socks_reply::kGeneralFailure, "port 0"},
      {Request(1, Bytes({192, 0, 2, 1}), 0), socks_reply::kGeneralFailure, "port 0"},
  };
  for (const Case& c : cases) {
    SocksRequest request = ParseSocksRequest(c.bytes);
    EXPECT_EQ(request.state, ParseState::kError) << c.error;
    EXPECT_EQ(request.reply, c.reply) << c.error;
    EXPECT_EQ(request.error, c.error);
    EXPECT_EQ(request.consumed, 0u) << c.error;
    EXPECT_EQ(request.host, "") << c.error;
  }
  // What was read before the error is kept, for the record.
  SocksRequest bind = ParseSocksRequest(Bytes({5, 2}));
  EXPECT_EQ(bind.command, 2);
  SocksRequest type = ParseSocksRequest(Bytes({5, 1, 0, 5}));
  EXPECT_EQ(type.command, 1);
  EXPECT_EQ(type.address_type, 5);
}

TEST(SocksRequest, RefusedFromTheByteThatShowsTheError) {
  EXPECT_EQ(ParseSocksRequest(Bytes({5, 2})).reply, socks_reply::kCommandNotSupported);
  EXPECT_EQ(ParseSocksRequest(Bytes({5, 1, 7})).state, ParseState::kError);
  EXPECT_EQ(ParseSocksRequest(Bytes({5, 1, 0, 9})).reply, socks_reply::kAddressTypeNotSupported);
  EXPECT_EQ(ParseSocksRequest(Bytes({5, 1, 0, 3, 0})).error, "empty domain name");
  EXPECT_EQ(ParseSocksRequest(Bytes({5, 1, 0, 3, 3, 'a', 'b', 'c', 0})).state,
            ParseState::kIncomplete);
}

// Given one byte more at a time, a request is kIncomplete until some prefix decides it, and from
// there on every longer prefix gives the same answer as the whole.
TEST(SocksRequest, IncrementalInputGivesTheSameAnswer) {
  const std::string requests[] = {
      Request(3, "example.com", 443) + "data",
      Request(1, Bytes({10, 0, 0, 1}), 80),
      Request(4, std::string(15, '\0') + "\x01", 443),
      Request(3, std::string("a\0b", 3), 1),
      Request(3, "example.com", 443, 2),
      Request(3, "example.com", 0),
      Bytes({5, 1, 0, 3, 0, 1, 1}),
      Bytes({5, 1, 0, 5, 1, 2, 3, 4, 0, 80}),
  };
  for (const std::string& request : requests) {
    SocksRequest whole = ParseSocksRequest(request);
    ASSERT_NE(whole.state, ParseState::kIncomplete) << testing::PrintToString(request);
    bool decided = false;
    for (std::size_t size = 0; size <= request.size(); ++size) {
      SocksRequest part = ParseSocksRequest(std::string_view(request).substr(0, size));
      if (!decided && part.state == ParseState::kIncomplete) {
        EXPECT_EQ(part.consumed, 0u);
        EXPECT_EQ(part.host, "");
        continue;
      }
      decided = true;
      EXPECT_EQ(part, whole) << testing::PrintToString(request) << " cut at " << size;
    }
  }
}

TEST(SocksReply, DefaultBoundAddress) {
  EXPECT_EQ(SocksReply(socks_reply::kSucceeded), Bytes({5, 0, 0, 1, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(SocksReply(socks_reply::kNotAllowed), Bytes({5, 2, 0, 1, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(SocksReply(socks_reply::kAddressTypeNotSupported),
            Bytes({5, 8, 0, 1, 0, 0, 0, 0, 0, 0}));
}

TEST(SocksReply, BoundAddresses) {
  std::array<std::uint8_t, 4> ipv4 = {192, 0, 2, 1};
  EXPECT_EQ(SocksReply(socks_reply::kSucceeded, ipv4, 0x1234),
            Bytes({5, 0, 0, 1, 192, 0, 2, 1, 0x12, 0x34}));
  std::array<std::uint8_t, 16> ipv6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  EXPECT_EQ(
      SocksReply(socks_reply::kConnectionRefused, ipv6, 443),
      Bytes({5, 5, 0, 4, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0xbb}));
}

TEST(SocksReply, Codes) {
  EXPECT_EQ(socks_reply::kSucceeded, 0);
  EXPECT_EQ(socks_reply::kGeneralFailure, 1);
  EXPECT_EQ(socks_reply::kNotAllowed, 2);
  EXPECT_EQ(socks_reply::kNetworkUnreachable, 3);
  EXPECT_EQ(socks_reply::kHostUnreachable, 4);
  EXPECT_EQ(socks_reply::kConnectionRefused, 5);
  EXPECT_EQ(socks_reply::kTtlExpired, 6);
  EXPECT_EQ(socks_reply::kCommandNotSupported, 7);
  EXPECT_EQ(socks_reply::kAddressTypeNotSupported, 8);
}

}  // namespace
}  // namespace tollgate::net
