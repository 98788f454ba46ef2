// The request head a sandboxed client sends to the proxy's HTTP port, and the bytes the proxy
// answers or forwards.
//
// A client asks either for a tunnel (`CONNECT host:port HTTP/1.1`, for https and anything else)
// or for one plain-HTTP request in absolute-form (`GET http://host/path HTTP/1.1`). The proxy
// decides on the host named here, so the parser is strict: one set of bytes has one reading, and
// anything a lenient parser elsewhere might read differently is refused with the status to answer.
//
// Bytes only: no syscalls, no exceptions, the standard library alone. The parser takes the
// client for an adversary; it never reads past its input or past HttpLimits::max_head_bytes.
//
// The rules (RFC 9112 and RFC 9110, with every leniency they permit declined):
//   - The head ends at the first empty line; nothing is decided from bytes after it.
//   - Lines end in CRLF. A bare LF, a bare CR, a NUL or any other control byte but HT anywhere in
//     the head is 400, decided as soon as the byte arrives: a client speaking another protocol
//     (a TLS ClientHello, a SOCKS greeting) is answered at once instead of after a timeout.
//   - No empty line is tolerated before the request line (RFC 9112 §2.2 lets a server skip one):
//     the proxy reads one request per connection, so there is no earlier message whose trailing
//     CRLF it could be.
//   - Request line: method SP request-target SP HTTP-version, single spaces. The method is a
//     token; the target is visible ASCII; the version is HTTP/1.0 or HTTP/1.1, another
//     HTTP/d.d is 505, anything else 400.
//   - CONNECT takes an authority-form target, host:port with a port of 1..65535 and an IPv6
//     address in brackets. Every other method takes an absolute-form http:// target (scheme
//     case-insensitive) without userinfo or fragment; https:// and other schemes are 501,
//     origin-form and asterisk-form are 400 ("not a proxy request").
//   - Header lines: a token name directly followed by ':', a value with surrounding SP and HT
//     removed. A line starting with SP or HT (obs-fold, or whitespace before the first header)
//     is 400.
//   - Host: exactly one in HTTP/1.1, at most one in HTTP/1.0; its value must be an authority
//     (SplitAuthority). Whether it names the target's host is the proxy's question, asked after
//     normalising both.
//   - Body framing, so that the proxy and the upstream server see the same message end:
//     Content-Length is 1 to 19 digits, repeated only with the same value, and never together with
//     Transfer-Encoding; Transfer-Encoding is refused in HTTP/1.0, must end in chunked (400), and
//     may hold no other coding (501); a CONNECT request has no content. Connection may not name
//     Host, Content-Length or Transfer-Encoding, which UpstreamRequestHead would otherwise drop.
//   - Limits: a head not ended within max_head_bytes is 431 (414 while the request line is still
//     open); more than max_headers header lines is 431.
// The parser never answers 405: every token is a method it forwards. StatusReason knows 405 for
// the proxy's own use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "supervisor/net/parse_state.h"

namespace tollgate::net {

struct HttpLimits {
  std::size_t max_head_bytes = 16384;  // the whole head, request line to empty line included
  std::size_t max_headers = 100;
};

struct Authority {
  std::string host;  // as sent (an IPv6 address without its brackets); see SplitAuthority
  std::uint16_t port = 0;

  bool operator==(const Authority&) const = default;
};

struct HttpRequestHead {
  std::string method;                                        // as sent (a case-sensitive token)
  std::string target;                                        // the request-target as sent
  int minor_version = 1;                                     // HTTP/1.0 or HTTP/1.1
  std::vector<std::pair<std::string, std::string>> headers;  // names as sent, values OWS-trimmed
  bool is_connect = false;
  // CONNECT: the authority-form target; otherwise the absolute-form URI's authority (port 80
  // when it names none).
  Authority authority;
  std::string origin_form;  // not CONNECT: the URI's path and query ("/" when it has none)
  // The Host header, split; a port it does not name is 80 (http), or for CONNECT the target's
  // port (the tunnel goes to the target whatever Host says).
  std::optional<Authority> host_header;
  // The body's framing, as Content-Length and Transfer-Encoding give it: a relay that forwards
  // one body and no more needs it. Neither set: no body.
  std::optional<std::uint64_t> content_length;
  bool chunked = false;
  std::size_t head_length = 0;  // bytes up to and including the empty line; then body or tunnel

  bool operator==(const HttpRequestHead&) const = default;
};

struct HttpParse {
  ParseState state = ParseState::kIncomplete;
  HttpRequestHead head;  // with kComplete
  int status = 0;        // with kError: the status to answer (400, 414, 431, 501 or 505)
  std::string error;     // with kError: one line of printable ASCII (other bytes as \xNN)

  bool operator==(const HttpParse&) const = default;
};

// Parses the head at the front of `received`, everything read on the connection so far. Parsing
// starts over at every call; the answer for a longer input is the same as for a shorter one
// unless the shorter one was kIncomplete.
HttpParse ParseRequestHead(std::string_view received, const HttpLimits& limits = {});

// Splits "host", "host:port" or "[IPv6]:port" (port 1..65535, at most five digits; a missing port
// is `default_port`, so a default of 0 tells the caller none was given). nullopt when the text is
// not one authority: an empty host or port, a bad port, userinfo ('@'), unbalanced brackets, a
// second ':' outside brackets, brackets around anything but hex digits, ':' and '.', or a byte
// that delimits or escapes in some URL parser (space and controls, '/', '\', '?', '#', '%').
// Nothing else is checked: the host is raw bytes, possibly non-ASCII, for name normalisation.
std::optional<Authority> SplitAuthority(std::string_view text, std::uint16_t default_port);

// The head to send upstream for a plain-HTTP (not CONNECT) request: the request line in
// origin-form and HTTP/1.1 (RFC 9110 §6.2: an intermediary sends its own version), then Host,
// then the client's headers in order without the hop-by-hop ones (Connection and every header it
// names, Proxy-Connection, Proxy-Authorization, Proxy-Authenticate, Keep-Alive, TE, Trailer,
// Upgrade), then "Connection: close", then the empty line. The Host line is made from the target
// authority, not copied (RFC 9112 §3.2.2): the proxy has checked that the client's Host names
// the same host and port, and the upstream server then sees exactly the authority the proxy
// connected for, even from an HTTP/1.0 client that sent no Host.
std::string UpstreamRequestHead(const HttpRequestHead& head);

// A whole response from the proxy itself: status line, Content-Type: text/plain;
// charset=utf-8, Content-Length, Connection: close, the empty line, `body`. A status outside
// 100..999 is sent as 500.
std::string ErrorResponse(int status, std::string_view body);

// The reason phrase of the statuses the proxy sends ("Bad Request"); empty for others.
std::string_view StatusReason(int status);

}  // namespace tollgate::net
