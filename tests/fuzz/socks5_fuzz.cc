// libFuzzer target: the proxy's SOCKS5 greeting and request parsers, on whatever bytes a
// sandboxed client could send to the proxy's SOCKS port. Built with clang by
// tests/fuzz/CMakeLists.txt (see tests/fuzz/run.sh).
//
// Input: one byte choosing where each message is cut into two reads, then the stream: a greeting
// and, after what it consumed, a request. The request parser also reads the whole stream, so
// that it sees every byte pattern and not only those behind a valid greeting. Checked:
//   - what a parse says is consistent: consumed within the input and equal to the message's
//     length, errors printable with the documented reply codes, a domain returned byte for byte,
//     an address's text form one that inet_pton reads back to the bytes sent;
//   - the first read, parsed alone, is kIncomplete or gives exactly the answer of the whole;
//   - a reply is laid out like a request (RFC 1928 §6), so a reply built from a parsed address,
//     with code 1 in the place of CONNECT, parses back to the same request.
#include <arpa/inet.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "supervisor/net/socks5.h"

#include "tests/fuzz/fuzz_checks.h"

using namespace tollgate::net;

namespace {

using tollgate::fuzz::IsPrintableLine;

[[noreturn]] void Fail(const char* what) {
  tollgate::fuzz::Fail("socks5", what);
}

void Check(bool ok, const char* what) {
  if (!ok) Fail(what);
}

std::uint8_t ByteAt(std::string_view bytes, std::size_t index) {
  return static_cast<std::uint8_t>(bytes[index]);
}

void CheckGreeting(const SocksGreeting& greeting, std::string_view input) {
  Check(!greeting.socks4 || (greeting.state == ParseState::kError && ByteAt(input, 0) == 4),
        "socks4 set for something else than a first byte 4");
  switch (greeting.state) {
    case ParseState::kIncomplete:
      Check(greeting.consumed == 0 && greeting.error.empty(), "kIncomplete with a result");
      return;
    case ParseState::kError:
      Check(greeting.consumed == 0, "an error that consumed bytes");
      Check(!greeting.error.empty() && IsPrintableLine(greeting.error),
            "an error message that is empty or not printable ASCII");
      return;
    case ParseState::kComplete:
      break;
  }
  Check(greeting.error.empty(), "kComplete with an error");
  Check(greeting.consumed <= input.size(), "consumed past the input");
  Check(ByteAt(input, 0) == 5 && greeting.consumed == 2u + ByteAt(input, 1),
        "consumed is not the greeting's length");
  bool offered = false;
  for (std::size_t i = 2; i < greeting.consumed; ++i) offered = offered || ByteAt(input, i) == 0;
  Check(greeting.offers_no_auth == offered, "offers_no_auth is not what the methods say");
}

void CheckRequest(const SocksRequest& request, std::string_view input) {
  switch (request.state) {
    case ParseState::kIncomplete:
      Check(request.consumed == 0 && request.error.empty() && request.host.empty(),
            "kIncomplete with a result");
      return;
    case ParseState::kError:
      Check(request.consumed == 0 && request.host.empty(), "an error with a result");
      Check(request.reply == 1 || request.reply == 7 || request.reply == 8,
            "an error with a reply code the parser does not document");
      Check(!request.error.empty() && IsPrintableLine(request.error),
            "an error message that is empty or not printable ASCII");
      return;
    case ParseState::kComplete:
      break;
  }
  Check(request.error.empty() && request.reply == 0, "kComplete with an error");
  Check(request.consumed <= input.size(), "consumed past the input");
  Check(request.command == 1 && request.port != 0, "a complete request that is not a CONNECT");
  Check(request.port ==
            (ByteAt(input, request.consumed - 2) << 8 | ByteAt(input, request.consumed - 1)),
        "the port is not the request's last two bytes");
  switch (request.address_type) {
    case 1:
    case 4: {
      bool ipv4 = request.address_type == 1;
      std::size_t bytes = ipv4 ? 4 : 16;
      Check(request.consumed == 4 + bytes + 2, "consumed is not the request's length");
      unsigned char address[16] = {};
      Check(inet_pton(ipv4 ? AF_INET : AF_INET6, request.host.c_str(), address) == 1,
            "the address's text form does not read back");
      Check(std::memcmp(address, input.data() + 4, bytes) == 0,
            "the address's text form reads back to other bytes");
      break;
    }
    case 3:
      Check(ByteAt(input, 4) != 0 && request.consumed == 4 + 1 + ByteAt(input, 4) + 2u,
            "consumed is not the request's length");
      Check(request.host == input.substr(5, ByteAt(input, 4)), "the domain is not the bytes sent");
      break;
    default:
      Fail("a complete request with an unknown address type");
  }
}

// A reply carries BND.ADDR as a request carries DST.ADDR; with REP 1 it reads as a CONNECT.
void CheckReplyRoundTrip(const SocksRequest& request, std::string_view input) {
  if (request.address_type == 3) return;  // SocksReply sends addresses, not names
  std::string reply;
  if (request.address_type == 1) {
    std::array<std::uint8_t, 4> address;
    std::memcpy(address.data(), input.data() + 4, address.size());
    reply = SocksReply(1, address, request.port);
  } else {
    std::array<std::uint8_t, 16> address;
    std::memcpy(address.data(), input.data() + 4, address.size());
    reply = SocksReply(1, address, request.port);
  }
  Check(ParseSocksRequest(reply) == request, "a reply does not read back as its request");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto split = [cut = data[0]](std::string_view message) {
    return message.substr(0, cut % (message.size() + 1));
  };

  SocksGreeting greeting = ParseSocksGreeting(input);
  CheckGreeting(greeting, input);
  SocksGreeting first_greeting = ParseSocksGreeting(split(input));
  CheckGreeting(first_greeting, split(input));
  Check(first_greeting.state == ParseState::kIncomplete || first_greeting == greeting,
        "the first read of a greeting decided otherwise than the whole");

  // The request behind the greeting, and the whole stream read as a request.
  std::string_view behind =
      greeting.state == ParseState::kComplete ? input.substr(greeting.consumed) : input;
  for (std::string_view stream : {behind, input}) {
    SocksRequest request = ParseSocksRequest(stream);
    CheckRequest(request, stream);
    SocksRequest first_request = ParseSocksRequest(split(stream));
    CheckRequest(first_request, split(stream));
    Check(first_request.state == ParseState::kIncomplete || first_request == request,
          "the first read of a request decided otherwise than the whole");
    if (request.state == ParseState::kComplete) CheckReplyRoundTrip(request, stream);
  }
  return 0;
}
