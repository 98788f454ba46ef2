#include "supervisor/net/http_head.h"

#include <array>
#include <utility>

namespace tollgate::net {

namespace {

// Errors quote at most this many bytes of what the client sent.
constexpr std::size_t kMaxQuoted = 64;

// Transfer-Encoding, Content-Length and Host are what the proxy and the upstream server must
// read alike; Connection may not name them (UpstreamRequestHead drops what it names).
constexpr std::array<std::string_view, 3> kFramingHeaders = {"host", "content-length",
                                                             "transfer-encoding"};

// Dropped from a forwarded request besides Connection and what it names (RFC 9110 §7.6.1,
// RFC 9112 §9.6; Proxy-Connection is the non-standard form some clients still send).
constexpr std::array<std::string_view, 8> kHopByHopHeaders = {"connection",
                                                              "proxy-connection",
                                                              "proxy-authorization",
                                                              "proxy-authenticate",
                                                              "keep-alive",
                                                              "te",
                                                              "trailer",
                                                              "upgrade"};

char AsciiLower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

std::string Lowered(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = AsciiLower(c);
  return out;
}

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

bool IsAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool IsHexDigit(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// tchar of RFC 9110 §5.6.2.
bool IsTokenChar(char c) {
  if (IsDigit(c) || IsAlpha(c)) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

bool IsControl(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

std::string_view TrimOws(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// The elements of a comma-separated list (RFC 9110 §5.6.1), OWS-trimmed, empty ones skipped.
std::vector<std::string_view> ListElements(std::string_view value) {
  std::vector<std::string_view> elements;
  while (true) {
    std::size_t comma = value.find(',');
    std::string_view element = TrimOws(value.substr(0, comma));
    if (!element.empty()) elements.push_back(element);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return elements;
}

void AppendHexByte(unsigned char c, std::string* out) {
  constexpr char kHex[] = "0123456789abcdef";
  out->append("\\x");
  out->push_back(kHex[c >> 4]);
  out->push_back(kHex[c & 0xf]);
}

// `text` in double quotes for an error message: printable ASCII, everything else (and '"' and
// '\', so that the quoting stays unambiguous) as \xNN; cut after kMaxQuoted bytes.
std::string Quoted(std::string_view text) {
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size() && i < kMaxQuoted; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      AppendHexByte(c, &out);
    }
  }
  out.push_back('"');
  if (text.size() > kMaxQuoted) out += "... (" + std::to_string(text.size()) + " bytes)";
  return out;
}

// 1..65535 in at most five digits, or nullopt.
std::optional<std::uint16_t> ParsePort(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  std::uint32_t port = 0;
  for (char c : text) {
    if (!IsDigit(c)) return std::nullopt;
    port = port * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (port == 0 || port > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(port);
}

// Bytes that end an authority, or that some URL parser reads as something else: WHATWG URL
// parsers take '\' for '/' and percent-decode host names, so "allowed.com\@evil.com" or
// "evil%2ecom" could be one host here and another there.
bool IsForbiddenInAuthority(unsigned char c) {
  return c <= 0x20 || c == 0x7f || c == '@' || c == '/' || c == '\\' || c == '?' || c == '#' ||
         c == '%';
}

struct ErrorInfo {
  int status = 0;
  std::string error;
};

HttpParse Error(int status, std::string error) {
  HttpParse parse;
  parse.state = ParseState::kError;
  parse.status = status;
  parse.error = std::move(error);
  return parse;
}

// Where line `index` of the head is, for errors: line 0 is the request line.
std::string LineName(std::size_t index) {
  if (index == 0) return "the request line";
  return "header line " + std::to_string(index);
}

// One CRLF-terminated line of the window, starting at `begin`.
struct LineScan {
  enum class Kind { kLine, kIncomplete, kError } kind = Kind::kIncomplete;
  std::string_view line;  // kLine: without its CRLF
  std::size_t next = 0;   // kLine: where the next line starts
  std::string error;      // kError
};

// Checks every byte as it comes, so that a wrong byte is refused before its line is complete.
LineScan ScanLine(std::string_view window, std::size_t begin, std::size_t index) {
  LineScan scan;
  for (std::size_t i = begin; i < window.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(window[i]);
    if (c == '\r') {
      if (i + 1 == window.size()) return scan;  // its LF may follow
      if (window[i + 1] != '\n') {
        scan.kind = LineScan::Kind::kError;
        scan.error = "bare CR in " + LineName(index);
        return scan;
      }
      scan.kind = LineScan::Kind::kLine;
      scan.line = window.substr(begin, i - begin);
      scan.next = i + 2;
      return scan;
    }
    if (c == '\n' || c == 0 || (IsControl(c) && c != '\t')) {
      scan.kind = LineScan::Kind::kError;
      if (c == '\n') {
        scan.error = "bare LF in " + LineName(index);
      } else if (c == 0) {
        scan.error = "NUL byte in " + LineName(index);
      } else {
        scan.error = "control byte ";
        AppendHexByte(c, &scan.error);
        scan.error += " in " + LineName(index);
      }
      return scan;
    }
  }
  return scan;
}

// "HTTP/" DIGIT "." DIGIT: a version, supported or not.
bool LooksLikeHttpVersion(std::string_view text) {
  return text.size() == 8 && text.substr(0, 5) == "HTTP/" && IsDigit(text[5]) && text[6] == '.' &&
         IsDigit(text[7]);
}

bool IsScheme(std::string_view text) {
  if (text.empty() || !IsAlpha(text[0])) return false;
  for (char c : text) {
    if (!IsAlpha(c) && !IsDigit(c) && c != '+' && c != '-' && c != '.') return false;
  }
  return true;
}

// The target of a CONNECT request: authority-form with a port.
std::optional<ErrorInfo> ParseConnectTarget(HttpRequestHead* head) {
  const std::string& target = head->target;
  if (target.find('@') != std::string::npos)
    return ErrorInfo{400, "userinfo in the CONNECT target " + Quoted(target)};
  std::optional<Authority> authority = SplitAuthority(target, 0);
  if (!authority) return ErrorInfo{400, "CONNECT target " + Quoted(target) + " is not host:port"};
  if (authority->port == 0)
    return ErrorInfo{400, "CONNECT target " + Quoted(target) + " has no port"};
  head->authority = std::move(*authority);
  return std::nullopt;
}

// The target of any other request: an absolute http:// URI.
std::optional<ErrorInfo> ParseAbsoluteTarget(HttpRequestHead* head) {
  std::string_view target = head->target;
  if (target[0] == '/' || target == "*")
    return ErrorInfo{400, "not a proxy request: the target " + Quoted(target) +
                              " is not an absolute http:// URI"};
  std::size_t scheme_end = target.find("://");
  if (scheme_end == std::string_view::npos || !IsScheme(target.substr(0, scheme_end))) {
    if (SplitAuthority(target, 0))
      return ErrorInfo{400, "the authority-form target " + Quoted(target) + " is for CONNECT only"};
    return ErrorInfo{400, "malformed request target " + Quoted(target)};
  }
  std::string_view scheme = target.substr(0, scheme_end);
  if (EqualsIgnoringCase(scheme, "https")) return ErrorInfo{501, "use CONNECT for https"};
  if (!EqualsIgnoringCase(scheme, "http"))
    return ErrorInfo{501, "scheme " + Quoted(scheme) + " is not supported"};
  // Clients never send a fragment; a proxy that dropped it would forward other bytes than it
  // parsed.
  if (target.find('#') != std::string_view::npos)
    return ErrorInfo{400, "fragment in the request target " + Quoted(target)};

  std::string_view rest = target.substr(scheme_end + 3);
  std::size_t path_start = rest.find_first_of("/?");
  std::string_view authority_text = rest.substr(0, path_start);
  if (authority_text.find('@') != std::string_view::npos)
    return ErrorInfo{400, "userinfo in the request target " + Quoted(target)};
  if (authority_text.empty()) return ErrorInfo{400, "empty host in the request target"};
  std::optional<Authority> authority = SplitAuthority(authority_text, 80);
  if (!authority)
    return ErrorInfo{400,
                     "malformed authority " + Quoted(authority_text) + " in the request target"};
  head->authority = std::move(*authority);

  std::string_view path =
      path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start);
  if (path.empty() || path[0] == '?') head->origin_form = "/";
  head->origin_form += path;
  return std::nullopt;
}

std::optional<ErrorInfo> ParseRequestLine(std::string_view line, HttpRequestHead* head) {
  // The method ends at the first space and the version starts after the last: a space anywhere
  // else is then inside the target, which refuses it.
  std::size_t first_space = line.find(' ');
  std::size_t last_space = line.rfind(' ');
  if (first_space == last_space) return ErrorInfo{400, "malformed request line " + Quoted(line)};
  std::string_view method = line.substr(0, first_space);
  std::string_view target = line.substr(first_space + 1, last_space - first_space - 1);
  std::string_view version = line.substr(last_space + 1);
  if (!IsToken(method)) return ErrorInfo{400, "malformed method " + Quoted(method)};

  if (version == "HTTP/1.1") {
    head->minor_version = 1;
  } else if (version == "HTTP/1.0") {
    head->minor_version = 0;
  } else if (LooksLikeHttpVersion(version)) {
    return ErrorInfo{505, "HTTP version " + Quoted(version) + " is not supported"};
  } else {
    return ErrorInfo{400, "malformed HTTP version " + Quoted(version)};
  }

  if (target.empty()) return ErrorInfo{400, "empty request target"};
  for (char c : target) {
    unsigned char byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7f)
      return ErrorInfo{400, "malformed request target " + Quoted(target)};
  }
  head->method = std::string(method);
  head->target = std::string(target);
  head->is_connect = method == "CONNECT";
  return head->is_connect ? ParseConnectTarget(head) : ParseAbsoluteTarget(head);
}

std::optional<ErrorInfo> ParseHeaderLine(std::string_view line, std::size_t index,
                                         HttpRequestHead* head) {
  if (line[0] == ' ' || line[0] == '\t') {
    if (index == 1) return ErrorInfo{400, "whitespace before the first header line"};
    return ErrorInfo{400, "folded header line (" + LineName(index) + " starts with whitespace)"};
  }
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos)
    return ErrorInfo{400, LineName(index) + " has no ':': " + Quoted(line)};
  std::string_view name = line.substr(0, colon);
  if (name.empty()) return ErrorInfo{400, LineName(index) + " has an empty name"};
  if (name.back() == ' ' || name.back() == '\t')
    return ErrorInfo{400, "whitespace before ':' in " + LineName(index)};
  if (!IsToken(name)) return ErrorInfo{400, "malformed header name " + Quoted(name)};
  head->headers.emplace_back(std::string(name), std::string(TrimOws(line.substr(colon + 1))));
  return std::nullopt;
}

// The checks that need every header, once the head is complete.
std::optional<ErrorInfo> CheckHeaders(HttpRequestHead* head) {
  const std::string* host = nullptr;
  bool has_transfer_encoding = false;
  std::vector<std::string_view> codings;
  for (const auto& [name, value] : head->headers) {
    if (EqualsIgnoringCase(name, "host")) {
      if (host) return ErrorInfo{400, "more than one Host header"};
      host = &value;
    } else if (EqualsIgnoringCase(name, "content-length")) {
      // At most 19 digits: below 2^64, so no overflow to check for.
      bool numeric = !value.empty() && value.size() <= 19;
      std::uint64_t length = 0;
      for (std::size_t i = 0; numeric && i < value.size(); ++i) {
        numeric = IsDigit(value[i]);
        if (numeric) length = length * 10 + static_cast<std::uint64_t>(value[i] - '0');
      }
      if (!numeric) return ErrorInfo{400, "malformed Content-Length " + Quoted(value)};
      if (head->content_length && *head->content_length != length)
        return ErrorInfo{400, "Content-Length headers with different values"};
      head->content_length = length;
    } else if (EqualsIgnoringCase(name, "transfer-encoding")) {
      has_transfer_encoding = true;
      for (std::string_view coding : ListElements(value)) codings.push_back(coding);
    } else if (EqualsIgnoringCase(name, "connection")) {
      for (std::string_view option : ListElements(value)) {
        if (!IsToken(option)) return ErrorInfo{400, "malformed Connection header " + Quoted(value)};
        for (std::string_view framing : kFramingHeaders) {
          if (EqualsIgnoringCase(option, framing))
            return ErrorInfo{400, "Connection names the end-to-end header " + Quoted(option)};
        }
      }
    }
  }

  if (!host && head->minor_version == 1) return ErrorInfo{400, "HTTP/1.1 request without Host"};
  if (host) {
    std::uint16_t default_port = head->is_connect ? head->authority.port : std::uint16_t{80};
    head->host_header = SplitAuthority(*host, default_port);
    if (!head->host_header) return ErrorInfo{400, "malformed Host header " + Quoted(*host)};
  }

  if (has_transfer_encoding) {
    // A message whose length two parsers may count differently is how requests are smuggled.
    if (head->content_length) return ErrorInfo{400, "both Content-Length and Transfer-Encoding"};
    if (head->minor_version == 0) return ErrorInfo{400, "Transfer-Encoding in an HTTP/1.0 request"};
    if (codings.empty() || !EqualsIgnoringCase(codings.back(), "chunked"))
      return ErrorInfo{400, "Transfer-Encoding does not end in chunked"};
    if (codings.size() > 1)
      return ErrorInfo{501, "transfer codings other than a single chunked are not supported"};
    head->chunked = true;
  }
  if (head->is_connect && (head->chunked || head->content_length.value_or(0) != 0))
    return ErrorInfo{400, "CONNECT request with content"};
  return std::nullopt;
}

void AppendAuthority(const Authority& authority, std::uint16_t default_port, std::string* out) {
  bool ipv6 = authority.host.find(':') != std::string::npos;
  if (ipv6) out->push_back('[');
  out->append(authority.host);
  if (ipv6) out->push_back(']');
  if (authority.port != default_port) *out += ":" + std::to_string(authority.port);
}

}  // namespace

std::optional<Authority> SplitAuthority(std::string_view text, std::uint16_t default_port) {
  if (text.empty()) return std::nullopt;
  for (char c : text) {
    if (IsForbiddenInAuthority(static_cast<unsigned char>(c))) return std::nullopt;
  }
  Authority authority;
  std::string_view port_text;
  bool has_port = false;
  if (text[0] == '[') {
    std::size_t close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view address = text.substr(1, close - 1);
    // Only an IPv6 address goes in brackets; "[allowed.com]" would otherwise pass for a name.
    if (address.find(':') == std::string_view::npos) return std::nullopt;
    for (char c : address) {
      if (!IsHexDigit(c) && c != ':' && c != '.') return std::nullopt;
    }
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return std::nullopt;
      has_port = true;
      port_text = rest.substr(1);
    }
    authority.host = std::string(address);
  } else {
    if (text.find_first_of("[]") != std::string_view::npos) return std::nullopt;
    std::size_t colon = text.find(':');
    if (colon != std::string_view::npos) {
      if (text.find(':', colon + 1) != std::string_view::npos) return std::nullopt;
      has_port = true;
      port_text = text.substr(colon + 1);
    }
    authority.host = std::string(text.substr(0, colon));
    if (authority.host.empty()) return std::nullopt;
  }
  if (has_port) {
    std::optional<std::uint16_t> port = ParsePort(port_text);
    if (!port) return std::nullopt;
    authority.port = *port;
  } else {
    authority.port = default_port;
  }
  return authority;
}

HttpParse ParseRequestHead(std::string_view received, const HttpLimits& limits) {
  // Nothing past the limit is looked at, so that a decision about the first max_head_bytes never
  // depends on what follows them.
  std::string_view window = received.substr(0, limits.max_head_bytes);
  HttpParse parse;
  HttpRequestHead& head = parse.head;
  std::size_t begin = 0;
  for (std::size_t index = 0;; ++index) {
    LineScan scan = ScanLine(window, begin, index);
    if (scan.kind == LineScan::Kind::kError) return Error(400, std::move(scan.error));
    if (scan.kind == LineScan::Kind::kIncomplete) {
      if (received.size() <= limits.max_head_bytes) return parse;
      if (index == 0) {
        return Error(
            414, "request line longer than " + std::to_string(limits.max_head_bytes) + " bytes");
      }
      return Error(431,
                   "request head longer than " + std::to_string(limits.max_head_bytes) + " bytes");
    }
    begin = scan.next;

    std::optional<ErrorInfo> error;
    if (index == 0) {
      if (scan.line.empty()) return Error(400, "empty line before the request line");
      error = ParseRequestLine(scan.line, &head);
    } else if (scan.line.empty()) {
      head.head_length = scan.next;
      error = CheckHeaders(&head);
      if (!error) {
        parse.state = ParseState::kComplete;
        return parse;
      }
    } else if (index > limits.max_headers) {
      return Error(431, "more than " + std::to_string(limits.max_headers) + " header lines");
    } else {
      error = ParseHeaderLine(scan.line, index, &head);
    }
    if (error) return Error(error->status, std::move(error->error));
  }
}

std::string UpstreamRequestHead(const HttpRequestHead& head) {
  // Connection names further hop-by-hop headers (case-insensitive tokens).
  std::vector<std::string> dropped(kHopByHopHeaders.begin(), kHopByHopHeaders.end());
  for (const auto& [name, value] : head.headers) {
    if (!EqualsIgnoringCase(name, "connection")) continue;
    for (std::string_view option : ListElements(value)) dropped.push_back(Lowered(option));
  }

  std::string out = head.method + " " + head.origin_form + " HTTP/1.1\r\nHost: ";
  AppendAuthority(head.authority, 80, &out);
  out += "\r\n";
  for (const auto& [name, value] : head.headers) {
    std::string lowered = Lowered(name);
    if (lowered == "host") continue;
    bool hop_by_hop = false;
    for (const std::string& drop : dropped) hop_by_hop = hop_by_hop || drop == lowered;
    if (hop_by_hop) continue;
    out += name + ": " + value + "\r\n";
  }
  out += "Connection: close\r\n\r\n";
  return out;
}

std::string_view StatusReason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 414:
      return "URI Too Long";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
  }
  return {};
}

std::string ErrorResponse(int status, std::string_view body) {
  if (status < 100 || status > 999) status = 500;
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(StatusReason(status)) +
                    "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
  out += body;
  return out;
}

}  // namespace tollgate::net
