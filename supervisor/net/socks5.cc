#include "supervisor/net/socks5.h"

#include <utility>

namespace tollgate::net {

namespace {

constexpr std::uint8_t kVersion = 5;
constexpr std::uint8_t kSocks4Version = 4;
constexpr std::uint8_t kNoAuthentication = 0x00;
constexpr std::uint8_t kNoAcceptableMethod = 0xff;
constexpr std::uint8_t kConnect = 1;
constexpr std::uint8_t kBind = 2;
constexpr std::uint8_t kUdpAssociate = 3;

// VER CMD RSV ATYP: what precedes the address.
constexpr std::size_t kRequestFixedBytes = 4;

std::uint8_t ByteAt(std::string_view bytes, std::size_t index) {
  return static_cast<std::uint8_t>(bytes[index]);
}

SocksGreeting GreetingError(std::string error) {
  SocksGreeting greeting;
  greeting.state = ParseState::kError;
  greeting.error = std::move(error);
  return greeting;
}

void Fail(SocksRequest* request, std::uint8_t reply, std::string error) {
  request->state = ParseState::kError;
  request->reply = reply;
  request->error = std::move(error);
}

std::string Ipv4Text(std::string_view bytes) {
  std::string text;
  for (std::size_t i = 0; i < 4; ++i) {
    if (i > 0) text.push_back('.');
    text += std::to_string(ByteAt(bytes, i));
  }
  return text;
}

// RFC 5952 §4 and §5.
std::string Ipv6Text(std::string_view bytes) {
  std::array<std::uint16_t, 8> groups{};
  for (std::size_t i = 0; i < 8; ++i)
    groups[i] = static_cast<std::uint16_t>(ByteAt(bytes, 2 * i) << 8 | ByteAt(bytes, 2 * i + 1));

  bool mapped = groups[5] == 0xffff;
  for (std::size_t i = 0; i < 5; ++i) mapped = mapped && groups[i] == 0;
  if (mapped) return "::ffff:" + Ipv4Text(bytes.substr(12));

  // The longest run of two or more zero groups, the first of equal ones.
  std::size_t best_start = 8, best_length = 0;
  for (std::size_t i = 0; i < 8;) {
    if (groups[i] != 0) {
      ++i;
      continue;
    }
    std::size_t start = i;
    while (i < 8 && groups[i] == 0) ++i;
    if (i - start > best_length) {
      best_start = start;
      best_length = i - start;
    }
  }
  if (best_length < 2) best_start = 8;

  constexpr char kHex[] = "0123456789abcdef";
  std::string text;
  for (std::size_t i = 0; i < 8; ++i) {
    if (i == best_start) {
      text += "::";
      i += best_length - 1;
      continue;
    }
    if (!text.empty() && text.back() != ':') text.push_back(':');
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      unsigned digit = groups[i] >> shift & 0xf;
      started = started || digit != 0 || shift == 0;
      if (started) text.push_back(kHex[digit]);
    }
  }
  return text;
}

std::string CommandName(std::uint8_t command) {
  switch (command) {
    case kBind:
      return "command 2 (BIND)";
    case kUdpAssociate:
      return "command 3 (UDP ASSOCIATE)";
  }
  return "command " + std::to_string(command);
}

std::string Reply(std::uint8_t code, std::uint8_t address_type, const std::uint8_t* address,
                  std::size_t address_bytes, std::uint16_t port) {
  std::string reply = {static_cast<char>(kVersion), static_cast<char>(code), 0,
                       static_cast<char>(address_type)};
  reply.append(reinterpret_cast<const char*>(address), address_bytes);
  reply.push_back(static_cast<char>(port >> 8));
  reply.push_back(static_cast<char>(port & 0xff));
  return reply;
}

}  // namespace

SocksGreeting ParseSocksGreeting(std::string_view received) {
  SocksGreeting greeting;
  if (received.empty()) return greeting;
  std::uint8_t version = ByteAt(received, 0);
  if (version == kSocks4Version) {
    greeting = GreetingError("SOCKS4 is not supported, only SOCKS5");
    greeting.socks4 = true;
    return greeting;
  }
  if (version != kVersion)
    return GreetingError("version byte " + std::to_string(version) + " is not SOCKS5");
  if (received.size() < 2) return greeting;
  std::size_t method_count = ByteAt(received, 1);
  if (method_count == 0) return GreetingError("greeting offers no authentication method");
  if (received.size() < 2 + method_count) return greeting;
  for (std::size_t i = 0; i < method_count; ++i) {
    if (ByteAt(received, 2 + i) == kNoAuthentication) greeting.offers_no_auth = true;
  }
  greeting.state = ParseState::kComplete;
  greeting.consumed = 2 + method_count;
  return greeting;
}

std::string SocksMethodChoice(bool accept) {
  return {static_cast<char>(kVersion),
          static_cast<char>(accept ? kNoAuthentication : kNoAcceptableMethod)};
}

SocksRequest ParseSocksRequest(std::string_view received) {
  SocksRequest request;
  if (received.size() < 1) return request;
  if (std::uint8_t version = ByteAt(received, 0); version != kVersion) {
    Fail(&request, socks_reply::kGeneralFailure,
         "version byte " + std::to_string(version) + " is not SOCKS5");
    return request;
  }
  if (received.size() < 2) return request;
  request.command = ByteAt(received, 1);
  if (request.command != kConnect) {
    Fail(&request, socks_reply::kCommandNotSupported,
         CommandName(request.command) + " is not supported, only CONNECT");
    return request;
  }
  if (received.size() < 3) return request;
  if (std::uint8_t reserved = ByteAt(received, 2); reserved != 0) {
    Fail(&request, socks_reply::kGeneralFailure,
         "reserved byte is " + std::to_string(reserved) + ", not 0");
    return request;
  }
  if (received.size() < 4) return request;
  request.address_type = ByteAt(received, 3);

  std::size_t address_begin = kRequestFixedBytes;
  std::size_t address_bytes = 0;
  switch (request.address_type) {
    case socks_address::kIpv4:
      address_bytes = 4;
      break;
    case socks_address::kIpv6:
      address_bytes = 16;
      break;
    case socks_address::kDomain:
      if (received.size() < kRequestFixedBytes + 1) return request;
      address_begin = kRequestFixedBytes + 1;
      address_bytes = ByteAt(received, kRequestFixedBytes);
      if (address_bytes == 0) {
        Fail(&request, socks_reply::kGeneralFailure, "empty domain name");
        return request;
      }
      break;
    default:
      Fail(&request, socks_reply::kAddressTypeNotSupported,
           "address type " + std::to_string(request.address_type) + " is not supported");
      return request;
  }
  std::size_t length = address_begin + address_bytes + 2;
  if (received.size() < length) return request;

  std::string_view address = received.substr(address_begin, address_bytes);
  std::uint16_t port =
      static_cast<std::uint16_t>(ByteAt(received, length - 2) << 8 | ByteAt(received, length - 1));
  if (port == 0) {
    Fail(&request, socks_reply::kGeneralFailure, "port 0");
    return request;
  }
  switch (request.address_type) {
    case socks_address::kIpv4:
      request.host = Ipv4Text(address);
      break;
    case socks_address::kIpv6:
      request.host = Ipv6Text(address);
      break;
    default:
      request.host = std::string(address);
      break;
  }
  request.port = port;
  request.state = ParseState::kComplete;
  request.consumed = length;
  return request;
}

std::string SocksReply(std::uint8_t code) {
  return SocksReply(code, std::array<std::uint8_t, 4>{}, 0);
}

std::string SocksReply(std::uint8_t code, const std::array<std::uint8_t, 4>& ipv4,
                       std::uint16_t port) {
  return Reply(code, socks_address::kIpv4, ipv4.data(), ipv4.size(), port);
}

std::string SocksReply(std::uint8_t code, const std::array<std::uint8_t, 16>& ipv6,
                       std::uint16_t port) {
  return Reply(code, socks_address::kIpv6, ipv6.data(), ipv6.size(), port);
}

}  // namespace tollgate::net
