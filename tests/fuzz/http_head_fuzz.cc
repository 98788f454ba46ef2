// libFuzzer target: the proxy's HTTP request-head parser, on whatever bytes a sandboxed client
// could send to the proxy's HTTP port. Built with clang by tests/fuzz/CMakeLists.txt (see
// tests/fuzz/run.sh).
//
// Input: one byte choosing the limits, two bytes (little-endian) choosing where the stream is cut
// into two reads, then the bytes received. Checked:
//   - what a parse says is consistent: an error has a status the parser documents, with a reason
//     phrase, and a message of printable ASCII; a complete head ends at the first CRLFCRLF,
//     within the limits, and holds what the rules promise;
//   - the first read, parsed alone, is kIncomplete or gives exactly the answer of the whole;
//   - a plain-HTTP head forwarded by UpstreamRequestHead is a request the parser accepts, for the
//     same authority, path and body framing, without a hop-by-hop header but its own
//     "Connection: close".
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "supervisor/net/http_head.h"

#include "tests/fuzz/fuzz_checks.h"

using namespace tollgate::net;

namespace {

using tollgate::fuzz::IsPrintableLine;

[[noreturn]] void Fail(const char* what) {
  tollgate::fuzz::Fail("http head", what);
}

void Check(bool ok, const char* what) {
  if (!ok) Fail(what);
}

char Lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool SameName(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

bool IsHopByHop(std::string_view name) {
  for (std::string_view hop : {"connection", "proxy-connection", "proxy-authorization",
                               "proxy-authenticate", "keep-alive", "te", "trailer", "upgrade"}) {
    if (SameName(name, hop)) return true;
  }
  return false;
}

void CheckParse(const HttpParse& parse, std::string_view input, const HttpLimits& limits) {
  switch (parse.state) {
    case ParseState::kIncomplete:
      Check(input.size() <= limits.max_head_bytes, "kIncomplete past the head limit");
      Check(parse.status == 0 && parse.error.empty(), "kIncomplete with an error");
      return;
    case ParseState::kError:
      Check(parse.status == 400 || parse.status == 414 || parse.status == 431 ||
                parse.status == 501 || parse.status == 505,
            "an error status the parser does not document");
      Check(!StatusReason(parse.status).empty(), "an error status without a reason phrase");
      Check(!parse.error.empty() && IsPrintableLine(parse.error),
            "an error message that is empty or not printable ASCII");
      return;
    case ParseState::kComplete:
      break;
  }
  const HttpRequestHead& head = parse.head;
  Check(parse.status == 0 && parse.error.empty(), "kComplete with an error");
  Check(head.head_length >= 4 && head.head_length <= input.size(), "head_length outside the input");
  Check(head.head_length <= limits.max_head_bytes, "head_length over the limit");
  Check(input.find("\r\n\r\n") + 4 == head.head_length,
        "the head does not end at the first CRLFCRLF");
  for (char c : input.substr(0, head.head_length)) {
    unsigned char byte = static_cast<unsigned char>(c);
    Check(byte >= 0x20 ? byte != 0x7f : (c == '\t' || c == '\r' || c == '\n'),
          "a control byte in an accepted head");
  }
  Check(head.headers.size() <= limits.max_headers, "more headers than the limit");
  Check(head.minor_version == 0 || head.minor_version == 1, "a version other than 1.0 and 1.1");
  Check(head.is_connect == (head.method == "CONNECT"), "is_connect is not method == CONNECT");
  Check(!head.authority.host.empty() && head.authority.port != 0, "an empty authority");
  Check(head.minor_version == 0 || head.host_header.has_value(), "HTTP/1.1 without Host");
  Check(!(head.chunked && head.content_length), "both chunked and Content-Length");
  if (head.is_connect) {
    Check(head.origin_form.empty(), "CONNECT with an origin-form");
  } else {
    Check(!head.origin_form.empty() && head.origin_form[0] == '/', "origin-form without '/'");
  }
}

// The forwarded head is in origin-form, which ParseRequestHead refuses by design ("not a proxy
// request"): re-parsing UpstreamRequestHead's output as it is could never succeed. Its request
// line is put back in absolute-form, from its own Host line, and that must parse.
void CheckUpstream(const HttpRequestHead& head) {
  std::string upstream = UpstreamRequestHead(head);
  Check(upstream.find("\r\n\r\n") + 4 == upstream.size(), "the upstream head does not end once");
  std::size_t line_end = upstream.find("\r\n");
  std::size_t host_end = upstream.find("\r\n", line_end + 2);
  std::string_view host_line =
      std::string_view(upstream).substr(line_end + 2, host_end - line_end - 2);
  Check(host_line.substr(0, 6) == "Host: ", "the upstream head does not start with Host");
  Check(upstream.substr(0, line_end) == head.method + " " + head.origin_form + " HTTP/1.1",
        "the upstream request line is not in origin-form");

  std::string absolute = head.method + " http://" + std::string(host_line.substr(6)) +
                         head.origin_form + " HTTP/1.1" + upstream.substr(line_end);
  HttpLimits generous{absolute.size(), head.headers.size() + 2};
  HttpParse again = ParseRequestHead(absolute, generous);
  Check(again.state == ParseState::kComplete, "the upstream head does not parse");
  const HttpRequestHead& forwarded = again.head;
  Check(forwarded.authority == head.authority, "the upstream head names another authority");
  Check(forwarded.host_header == head.authority, "the upstream Host is not the target");
  Check(forwarded.origin_form == head.origin_form, "the upstream head has another path");
  Check(forwarded.content_length == head.content_length && forwarded.chunked == head.chunked,
        "the upstream head frames the body differently");

  // Host first, "Connection: close" last, and in between the client's own headers, in order,
  // without a hop-by-hop one.
  const auto& headers = forwarded.headers;
  Check(headers.size() >= 2 && headers.back().first == "Connection" &&
            headers.back().second == "close",
        "the upstream head does not end in Connection: close");
  std::size_t next = 0;
  for (std::size_t i = 1; i + 1 < headers.size(); ++i) {
    Check(!IsHopByHop(headers[i].first), "a hop-by-hop header went upstream");
    Check(!SameName(headers[i].first, "host"), "a second Host went upstream");
    while (next < head.headers.size() && head.headers[next] != headers[i]) ++next;
    Check(next < head.headers.size(), "an upstream header the client did not send, or reordered");
    ++next;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  HttpLimits limits;
  switch (data[0] & 3) {
    case 1:
      limits = {256, 4};
      break;
    case 2:
      limits = {64, 1};
      break;
    default:
      break;
  }
  std::string_view input(reinterpret_cast<const char*>(data) + 3, size - 3);
  std::size_t split = (data[1] | static_cast<std::size_t>(data[2]) << 8) % (input.size() + 1);

  HttpParse whole = ParseRequestHead(input, limits);
  CheckParse(whole, input, limits);
  HttpParse first = ParseRequestHead(input.substr(0, split), limits);
  CheckParse(first, input.substr(0, split), limits);
  Check(first.state == ParseState::kIncomplete || first == whole,
        "the first read decided otherwise than the whole");

  if (whole.state == ParseState::kComplete && !whole.head.is_connect) CheckUpstream(whole.head);
  if (whole.state == ParseState::kError) {
    std::string response = ErrorResponse(whole.status, whole.error);
    Check(response.substr(0, 13) == "HTTP/1.1 " + std::to_string(whole.status) + " ",
          "the error response has another status");
  }
  return 0;
}
