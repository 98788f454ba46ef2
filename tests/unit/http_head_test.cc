// The HTTP request heads the proxy parses: what a well-formed absolute-form or CONNECT request
// gives, each refusal with the status it answers, limits, incremental input, and the bytes
// forwarded upstream or answered.
#include "supervisor/net/http_head.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace tollgate::net {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

HttpParse Parse(std::string_view bytes, const HttpLimits& limits = {}) {
  return ParseRequestHead(bytes, limits);
}

// Parses a head that must be complete and returns it.
HttpRequestHead Complete(std::string_view bytes, const HttpLimits& limits = {}) {
  HttpParse parse = Parse(bytes, limits);
  EXPECT_EQ(parse.state, ParseState::kComplete) << parse.status << " " << parse.error;
  return parse.head;
}

// Parses a head that must be refused and returns "status error".
std::string Refusal(std::string_view bytes, const HttpLimits& limits = {}) {
  HttpParse parse = Parse(bytes, limits);
  EXPECT_EQ(parse.state, ParseState::kError) << "accepted " << testing::PrintToString(bytes);
  return std::to_string(parse.status) + " " + parse.error;
}

// A GET for http://example.com/ with `headers` (each "Name: value\r\n") after Host.
std::string Get(std::string_view headers, std::string_view version = "HTTP/1.1") {
  return "GET http://example.com/ " + std::string(version) + "\r\nHost: example.com\r\n" +
         std::string(headers) + "\r\n";
}

TEST(HttpHead, AbsoluteFormGet) {
  std::string request =
      "GET http://Example.com:8080/a/b?c=d&e HTTP/1.1\r\n"
      "Host: Example.com:8080\r\n"
      "User-Agent:curl/8.5\r\n"
      "Accept: \t */* \t\r\n"
      "X-Empty:\r\n"
      "X-Inner:  a  b\tc \r\n"
      "\r\n";
  HttpParse parse = Parse(request + "body bytes");
  ASSERT_EQ(parse.state, ParseState::kComplete) << parse.error;
  const HttpRequestHead& head = parse.head;
  EXPECT_EQ(head.method, "GET");
  EXPECT_EQ(head.target, "http://Example.com:8080/a/b?c=d&e");
  EXPECT_EQ(head.minor_version, 1);
  EXPECT_EQ(head.headers, (Headers{{"Host", "Example.com:8080"},
                                   {"User-Agent", "curl/8.5"},
                                   {"Accept", "*/*"},
                                   {"X-Empty", ""},
                                   {"X-Inner", "a  b\tc"}}));
  EXPECT_FALSE(head.is_connect);
  EXPECT_EQ(head.authority, (Authority{"Example.com", 8080}));
  EXPECT_EQ(head.origin_form, "/a/b?c=d&e");
  EXPECT_EQ(head.host_header, (Authority{"Example.com", 8080}));
  EXPECT_EQ(head.content_length, std::nullopt);
  EXPECT_FALSE(head.chunked);
  EXPECT_EQ(head.head_length, request.size());
  EXPECT_EQ(parse.status, 0);
  EXPECT_EQ(parse.error, "");
}

TEST(HttpHead, OriginFormOfTheAbsoluteUri) {
  auto origin = [](std::string_view target) {
    return Complete("GET " + std::string(target) + " HTTP/1.0\r\n\r\n").origin_form;
  };
  EXPECT_EQ(origin("http://example.com"), "/");
  EXPECT_EQ(origin("http://example.com/"), "/");
  EXPECT_EQ(origin("http://example.com?q=1"), "/?q=1");
  EXPECT_EQ(origin("http://example.com/?q=1"), "/?q=1");
  EXPECT_EQ(origin("http://example.com:81//x/../y"), "//x/../y");
  EXPECT_EQ(origin("HTTP://example.com/p"), "/p");
  EXPECT_EQ(origin("hTtP://example.com/p"), "/p");
}

TEST(HttpHead, AuthorityOfTheAbsoluteUriDefaultsToPort80) {
  auto authority = [](std::string_view target) {
    return Complete("POST " + std::string(target) + " HTTP/1.0\r\n\r\n").authority;
  };
  EXPECT_EQ(authority("http://example.com/"), (Authority{"example.com", 80}));
  EXPECT_EQ(authority("http://example.com:80/"), (Authority{"example.com", 80}));
  EXPECT_EQ(authority("http://example.com:65535/"), (Authority{"example.com", 65535}));
  EXPECT_EQ(authority("http://192.0.2.1:8080"), (Authority{"192.0.2.1", 8080}));
  EXPECT_EQ(authority("http://[2001:db8::1]/"), (Authority{"2001:db8::1", 80}));
  EXPECT_EQ(authority("http://[::1]:8080/"), (Authority{"::1", 8080}));
  // Raw: normalising case and trailing dots is the proxy's business.
  EXPECT_EQ(authority("http://EXAMPLE.com./"), (Authority{"EXAMPLE.com.", 80}));
}

TEST(HttpHead, AnyTokenIsAMethodAndKeepsItsCase) {
  HttpRequestHead head = Complete("PROPFIND http://example.com/ HTTP/1.0\r\n\r\n");
  EXPECT_EQ(head.method, "PROPFIND");
  head = Complete("get http://example.com/ HTTP/1.0\r\n\r\n");
  EXPECT_EQ(head.method, "get");
  EXPECT_FALSE(head.is_connect);
  EXPECT_EQ(Refusal("G(T http://example.com/ HTTP/1.1\r\n"), "400 malformed method \"G(T\"");
}

TEST(HttpHead, Connect) {
  std::string request = "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n";
  HttpParse parse = Parse(request + "\x16\x03\x01");
  ASSERT_EQ(parse.state, ParseState::kComplete) << parse.error;
  EXPECT_TRUE(parse.head.is_connect);
  EXPECT_EQ(parse.head.method, "CONNECT");
  EXPECT_EQ(parse.head.target, "example.com:443");
  EXPECT_EQ(parse.head.authority, (Authority{"example.com", 443}));
  EXPECT_EQ(parse.head.origin_form, "");
  EXPECT_EQ(parse.head.host_header, (Authority{"example.com", 443}));
  EXPECT_EQ(parse.head.head_length, request.size());

  EXPECT_EQ(Complete("CONNECT [2001:db8::2]:22 HTTP/1.0\r\n\r\n").authority,
            (Authority{"2001:db8::2", 22}));
  EXPECT_EQ(Complete("CONNECT 192.0.2.7:1 HTTP/1.0\r\n\r\n").authority,
            (Authority{"192.0.2.7", 1}));
  // A Host without a port takes the target's: the tunnel goes to the target whatever Host says.
  EXPECT_EQ(Complete("CONNECT example.com:8443 HTTP/1.1\r\nHost: example.com\r\n\r\n").host_header,
            (Authority{"example.com", 8443}));
  // CONNECT is case-sensitive: "connect" is another method, whose target must be absolute.
  EXPECT_EQ(Refusal("connect example.com:443 HTTP/1.1\r\n"),
            "400 the authority-form target \"example.com:443\" is for CONNECT only");
}

TEST(HttpHead, ConnectTargetMustBeHostAndPort) {
  EXPECT_EQ(Refusal("CONNECT example.com HTTP/1.1\r\n"),
            "400 CONNECT target \"example.com\" has no port");
  EXPECT_EQ(Refusal("CONNECT example.com:0 HTTP/1.1\r\n"),
            "400 CONNECT target \"example.com:0\" is not host:port");
  EXPECT_EQ(Refusal("CONNECT example.com:65536 HTTP/1.1\r\n"),
            "400 CONNECT target \"example.com:65536\" is not host:port");
  EXPECT_EQ(Refusal("CONNECT example.com: HTTP/1.1\r\n"),
            "400 CONNECT target \"example.com:\" is not host:port");
  EXPECT_EQ(Refusal("CONNECT :443 HTTP/1.1\r\n"), "400 CONNECT target \":443\" is not host:port");
  EXPECT_EQ(Refusal("CONNECT 2001:db8::1:443 HTTP/1.1\r\n"),
            "400 CONNECT target \"2001:db8::1:443\" is not host:port");
  EXPECT_EQ(Refusal("CONNECT [2001:db8::1:443 HTTP/1.1\r\n"),
            "400 CONNECT target \"[2001:db8::1:443\" is not host:port");
  EXPECT_EQ(Refusal("CONNECT http://example.com:443/ HTTP/1.1\r\n"),
            "400 CONNECT target \"http://example.com:443/\" is not host:port");
  EXPECT_EQ(Refusal("CONNECT user@example.com:443 HTTP/1.1\r\n"),
            "400 userinfo in the CONNECT target \"user@example.com:443\"");
  EXPECT_EQ(Refusal("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n"
                    "Content-Length: 5\r\n\r\n"),
            "400 CONNECT request with content");
  EXPECT_EQ(Refusal("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n"),
            "400 CONNECT request with content");
  EXPECT_EQ(Complete("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n"
                     "Content-Length: 0\r\n\r\n")
                .content_length,
            0u);
}

TEST(HttpHead, TargetsThatAreNotPlainHttpProxyRequests) {
  EXPECT_EQ(Refusal("GET https://example.com/ HTTP/1.1\r\n"), "501 use CONNECT for https");
  EXPECT_EQ(Refusal("GET HTTPS://example.com/ HTTP/1.1\r\n"), "501 use CONNECT for https");
  EXPECT_EQ(Refusal("GET ftp://example.com/f HTTP/1.1\r\n"), "501 scheme \"ftp\" is not supported");
  EXPECT_EQ(Refusal("GET /index.html HTTP/1.1\r\n"),
            "400 not a proxy request: the target \"/index.html\" is not an absolute http:// URI");
  EXPECT_EQ(Refusal("OPTIONS * HTTP/1.1\r\n"),
            "400 not a proxy request: the target \"*\" is not an absolute http:// URI");
  EXPECT_EQ(Refusal("GET http:example.com HTTP/1.1\r\n"),
            "400 malformed request target \"http:example.com\"");
  EXPECT_EQ(Refusal("GET example.com/x HTTP/1.1\r\n"),
            "400 malformed request target \"example.com/x\"");
}

TEST(HttpHead, AbsoluteTargetWithUserinfoFragmentOrNoHostIsRefused) {
  EXPECT_EQ(Refusal("GET http://user:pw@example.com/ HTTP/1.1\r\n"),
            "400 userinfo in the request target \"http://user:pw@example.com/\"");
  EXPECT_EQ(Refusal("GET http://allowed.com@evil.com/ HTTP/1.1\r\n"),
            "400 userinfo in the request target \"http://allowed.com@evil.com/\"");
  EXPECT_EQ(Refusal("GET http://example.com/#top HTTP/1.1\r\n"),
            "400 fragment in the request target \"http://example.com/#top\"");
  EXPECT_EQ(Refusal("GET http:///x HTTP/1.1\r\n"), "400 empty host in the request target");
  EXPECT_EQ(Refusal("GET http://?x HTTP/1.1\r\n"), "400 empty host in the request target");
  EXPECT_EQ(Refusal("GET http://:80/ HTTP/1.1\r\n"),
            "400 malformed authority \":80\" in the request target");
  EXPECT_EQ(Refusal("GET http://example.com:99999/ HTTP/1.1\r\n"),
            "400 malformed authority \"example.com:99999\" in the request target");
  EXPECT_EQ(Refusal("GET http://allowed.com\\.evil.com/ HTTP/1.1\r\n"),
            "400 malformed authority \"allowed.com\\x5c.evil.com\" in the request target");
  EXPECT_EQ(Refusal("GET http://allowed%2ecom/ HTTP/1.1\r\n"),
            "400 malformed authority \"allowed%2ecom\" in the request target");
}

TEST(HttpHead, RequestLineSyntax) {
  EXPECT_EQ(Refusal("GET http://example.com/  HTTP/1.1\r\n"),
            "400 malformed request target \"http://example.com/ \"");
  EXPECT_EQ(Refusal("GET  http://example.com/ HTTP/1.1\r\n"),
            "400 malformed request target \" http://example.com/\"");
  EXPECT_EQ(Refusal("GET  HTTP/1.1\r\n"), "400 empty request target");
  EXPECT_EQ(Refusal(" GET http://example.com/ HTTP/1.1\r\n"), "400 malformed method \"\"");
  EXPECT_EQ(Refusal("GET http://example.com/\r\n"),
            "400 malformed request line \"GET http://example.com/\"");
  EXPECT_EQ(Refusal("GET\r\n"), "400 malformed request line \"GET\"");
  EXPECT_EQ(Refusal("GET http://example.com/ HTTP/1.1 \r\n"), "400 malformed HTTP version \"\"");
  EXPECT_EQ(Refusal("GET http://example.com/ http/1.1\r\n"),
            "400 malformed HTTP version \"http/1.1\"");
  EXPECT_EQ(Refusal("GET http://example.com/ HTTP/1.1\t\r\n"),
            "400 malformed HTTP version \"HTTP/1.1\\x09\"");
  EXPECT_EQ(Refusal("GET\thttp://example.com/ HTTP/1.1\r\n"),
            "400 malformed request line \"GET\\x09http://example.com/ HTTP/1.1\"");
  EXPECT_EQ(Refusal("GET http://example.com/caf\xc3\xa9 HTTP/1.1\r\n"),
            "400 malformed request target \"http://example.com/caf\\xc3\\xa9\"");
  // RFC 9112 lets a server skip an empty line before the request line; this one does not.
  EXPECT_EQ(Refusal("\r\nGET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n"),
            "400 empty line before the request line");
}

TEST(HttpHead, OnlyHttp10And11) {
  EXPECT_EQ(Complete("GET http://example.com/ HTTP/1.0\r\n\r\n").minor_version, 0);
  EXPECT_EQ(Complete(Get("")).minor_version, 1);
  EXPECT_EQ(Refusal("GET http://example.com/ HTTP/2.0\r\n"),
            "505 HTTP version \"HTTP/2.0\" is not supported");
  EXPECT_EQ(Refusal("GET http://example.com/ HTTP/1.2\r\n"),
            "505 HTTP version \"HTTP/1.2\" is not supported");
  EXPECT_EQ(Refusal("GET http://example.com/ HTTP/0.9\r\n"),
            "505 HTTP version \"HTTP/0.9\" is not supported");
  // The HTTP/2 connection preface: the version is the news, not the target.
  EXPECT_EQ(Refusal("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
            "505 HTTP version \"HTTP/2.0\" is not supported");
  EXPECT_EQ(Refusal("GET http://example.com/ HTTP/1.10\r\n"),
            "400 malformed HTTP version \"HTTP/1.10\"");
  EXPECT_EQ(Refusal("GET http://example.com/ HTTP/1\r\n"), "400 malformed HTTP version \"HTTP/1\"");
}

TEST(HttpHead, HeaderLineSyntax) {
  EXPECT_EQ(Refusal(Get("Accept : */*\r\n")), "400 whitespace before ':' in header line 2");
  EXPECT_EQ(Refusal(Get("Accept\t: */*\r\n")), "400 whitespace before ':' in header line 2");
  EXPECT_EQ(Refusal(Get("X-A: 1\r\n  continued\r\n")),
            "400 folded header line (header line 3 starts with whitespace)");
  EXPECT_EQ(Refusal(Get("X-A: 1\r\n\tcontinued\r\n")),
            "400 folded header line (header line 3 starts with whitespace)");
  EXPECT_EQ(Refusal("GET http://example.com/ HTTP/1.1\r\n Host: example.com\r\n\r\n"),
            "400 whitespace before the first header line");
  EXPECT_EQ(Refusal(Get("NoColon\r\n")), "400 header line 2 has no ':': \"NoColon\"");
  EXPECT_EQ(Refusal(Get(": value\r\n")), "400 header line 2 has an empty name");
  EXPECT_EQ(Refusal(Get("X(A): 1\r\n")), "400 malformed header name \"X(A)\"");
  EXPECT_EQ(Refusal(Get("X A: 1\r\n")), "400 malformed header name \"X A\"");
  // A value keeps any byte but controls: HT inside, obs-text, ':'.
  HttpRequestHead head = Complete(Get("X-Text: caf\xc3\xa9\t: x\r\nX-Colon::\r\n"));
  ASSERT_EQ(head.headers.size(), 3u);
  EXPECT_EQ(head.headers[1], (std::pair<std::string, std::string>{"X-Text", "caf\xc3\xa9\t: x"}));
  EXPECT_EQ(head.headers[2], (std::pair<std::string, std::string>{"X-Colon", ":"}));
}

TEST(HttpHead, BareLfBareCrNulAndControlBytesAreRefusedWherever) {
  EXPECT_EQ(Refusal("GET http://example.com/ HTTP/1.1\n"), "400 bare LF in the request line");
  EXPECT_EQ(Refusal("GET http://example.com/ HTTP/1.1\r\nHost: example.com\n\r\n"),
            "400 bare LF in header line 1");
  EXPECT_EQ(Refusal("GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\n"),
            "400 bare LF in header line 2");
  EXPECT_EQ(Refusal("GET http://example.com/ HTTP/1.1\r\r\n"), "400 bare CR in the request line");
  EXPECT_EQ(Refusal(Get("X-A: a\rb\r\n")), "400 bare CR in header line 2");
  EXPECT_EQ(Refusal(Get("X-A: 1\r\n\r\r\n")), "400 bare CR in header line 3");
  EXPECT_EQ(Refusal(std::string("GET http://example.com/\0 HTTP/1.1\r\n", 35)),
            "400 NUL byte in the request line");
  EXPECT_EQ(Refusal(Get(std::string("X-\0: 1\r\n", 8))), "400 NUL byte in header line 2");
  EXPECT_EQ(Refusal(Get(std::string("X-A: \0\r\n", 8))), "400 NUL byte in header line 2");
  EXPECT_EQ(Refusal(Get("X-A: \x1b[31m\r\n")), "400 control byte \\x1b in header line 2");
  EXPECT_EQ(Refusal(Get("X-A: a\x7f\r\n")), "400 control byte \\x7f in header line 2");
  EXPECT_EQ(Refusal(Get("X-A: \x01\r\n")), "400 control byte \\x01 in header line 2");
}

TEST(HttpHead, ABadByteIsRefusedBeforeItsLineEnds) {
  // A TLS ClientHello or a SOCKS greeting sent to the HTTP port is answered at once.
  EXPECT_EQ(Refusal("\x16\x03\x01"), "400 control byte \\x16 in the request line");
  EXPECT_EQ(Refusal("\x05\x01"), "400 control byte \\x05 in the request line");
  EXPECT_EQ(Refusal("GET http://example.com/ HTTP/1.1\r\nX: \x1b"),
            "400 control byte \\x1b in header line 1");
  EXPECT_EQ(Refusal("GET http://example.com/ HTTP/1.1\r\nX: a\rb"), "400 bare CR in header line 1");
  EXPECT_EQ(Refusal("GET\n"), "400 bare LF in the request line");
  // A CR at the end of what arrived may yet be followed by its LF.
  EXPECT_EQ(Parse("GET http://example.com/ HTTP/1.1\r").state, ParseState::kIncomplete);
  // The request line is judged once it is complete, and before any header arrives.
  EXPECT_EQ(Parse("GET /x HTTP/1.1").state, ParseState::kIncomplete);
  EXPECT_EQ(Refusal("GET /x HTTP/1.1\r\n"),
            "400 not a proxy request: the target \"/x\" is not an absolute http:// URI");
}

TEST(HttpHead, HostHeader) {
  EXPECT_EQ(Complete(Get("")).host_header, (Authority{"example.com", 80}));
  EXPECT_EQ(Refusal("GET http://example.com/ HTTP/1.1\r\n\r\n"),
            "400 HTTP/1.1 request without Host");
  EXPECT_EQ(Refusal(Get("Host: example.com\r\n")), "400 more than one Host header");
  EXPECT_EQ(Refusal(Get("hOST: other.example\r\n")), "400 more than one Host header");

  // HTTP/1.0 may leave it out, not repeat it.
  EXPECT_EQ(Complete("GET http://example.com/ HTTP/1.0\r\n\r\n").host_header, std::nullopt);
  EXPECT_EQ(Complete("GET http://example.com/ HTTP/1.0\r\nhost: [::1]:81\r\n\r\n").host_header,
            (Authority{"::1", 81}));
  EXPECT_EQ(Refusal(Get("Host: example.com\r\n", "HTTP/1.0")), "400 more than one Host header");

  // Not compared with the target here: the proxy does that after normalising both.
  EXPECT_EQ(
      Complete("GET http://example.com/ HTTP/1.1\r\nHost: other.example:8080\r\n\r\n").host_header,
      (Authority{"other.example", 8080}));

  auto host = [](std::string_view value) {
    return Refusal("GET http://example.com/ HTTP/1.1\r\nHost: " + std::string(value) + "\r\n\r\n");
  };
  EXPECT_EQ(host(""), "400 malformed Host header \"\"");
  EXPECT_EQ(host("user@example.com"), "400 malformed Host header \"user@example.com\"");
  EXPECT_EQ(host("example.com:0"), "400 malformed Host header \"example.com:0\"");
  EXPECT_EQ(host("example.com:http"), "400 malformed Host header \"example.com:http\"");
  EXPECT_EQ(host("example.com other.example"),
            "400 malformed Host header \"example.com other.example\"");
  EXPECT_EQ(host("[::1"), "400 malformed Host header \"[::1\"");
  EXPECT_EQ(host("example.com/x"), "400 malformed Host header \"example.com/x\"");
}

TEST(HttpHead, ContentLengthAndTransferEncoding) {
  EXPECT_EQ(Complete(Get("Content-Length: 42\r\n")).content_length, 42u);
  EXPECT_EQ(Complete(Get("Content-Length: 0\r\n")).content_length, 0u);
  EXPECT_EQ(Complete(Get("Content-Length: 7\r\ncontent-length: 007\r\n")).content_length, 7u);
  EXPECT_EQ(Complete(Get("Content-Length: 9999999999999999999\r\n")).content_length,
            9999999999999999999u);
  EXPECT_EQ(Refusal(Get("Content-Length: 7\r\nContent-Length: 8\r\n")),
            "400 Content-Length headers with different values");
  EXPECT_EQ(Refusal(Get("Content-Length: 7, 7\r\n")), "400 malformed Content-Length \"7, 7\"");
  EXPECT_EQ(Refusal(Get("Content-Length: -1\r\n")), "400 malformed Content-Length \"-1\"");
  EXPECT_EQ(Refusal(Get("Content-Length: +1\r\n")), "400 malformed Content-Length \"+1\"");
  EXPECT_EQ(Refusal(Get("Content-Length: 0x10\r\n")), "400 malformed Content-Length \"0x10\"");
  EXPECT_EQ(Refusal(Get("Content-Length:\r\n")), "400 malformed Content-Length \"\"");
  EXPECT_EQ(Refusal(Get("Content-Length: 18446744073709551616\r\n")),
            "400 malformed Content-Length \"18446744073709551616\"");

  HttpRequestHead chunked = Complete(Get("Transfer-Encoding: Chunked\r\n"));
  EXPECT_TRUE(chunked.chunked);
  EXPECT_EQ(chunked.content_length, std::nullopt);
  EXPECT_EQ(Refusal(Get("Content-Length: 3\r\nTransfer-Encoding: chunked\r\n")),
            "400 both Content-Length and Transfer-Encoding");
  EXPECT_EQ(Refusal(Get("Transfer-Encoding: chunked\r\nContent-Length: 3\r\n")),
            "400 both Content-Length and Transfer-Encoding");
  EXPECT_EQ(Refusal(Get("Transfer-Encoding: gzip\r\n")),
            "400 Transfer-Encoding does not end in chunked");
  EXPECT_EQ(Refusal(Get("Transfer-Encoding: chunked, gzip\r\n")),
            "400 Transfer-Encoding does not end in chunked");
  EXPECT_EQ(Refusal(Get("Transfer-Encoding:\r\n")),
            "400 Transfer-Encoding does not end in chunked");
  EXPECT_EQ(Refusal(Get("Transfer-Encoding: gzip, chunked\r\n")),
            "501 transfer codings other than a single chunked are not supported");
  EXPECT_EQ(Refusal(Get("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n")),
            "501 transfer codings other than a single chunked are not supported");
  EXPECT_EQ(Refusal(Get("Transfer-Encoding: chunked\r\n", "HTTP/1.0")),
            "400 Transfer-Encoding in an HTTP/1.0 request");
}

TEST(HttpHead, ConnectionMayNotNameTheFramingHeaders) {
  EXPECT_EQ(Refusal(Get("Connection: close, Content-Length\r\nContent-Length: 3\r\n")),
            "400 Connection names the end-to-end header \"Content-Length\"");
  EXPECT_EQ(Refusal(Get("Connection: transfer-encoding\r\n")),
            "400 Connection names the end-to-end header \"transfer-encoding\"");
  EXPECT_EQ(Refusal(Get("Connection: Host\r\n")),
            "400 Connection names the end-to-end header \"Host\"");
  EXPECT_EQ(Refusal(Get("Connection: keep alive\r\n")),
            "400 malformed Connection header \"keep alive\"");
  EXPECT_EQ(Complete(Get("Connection: , keep-alive,,X-Hop ,\r\n")).headers.back().second,
            ", keep-alive,,X-Hop ,");
}

TEST(HttpHead, HeadSizeLimit) {
  std::string request = Get("X-Pad: " + std::string(100, 'p') + "\r\n");
  HttpLimits exact{request.size(), 100};
  EXPECT_EQ(Complete(request, exact).head_length, request.size());
  EXPECT_EQ(Complete(request + "body", exact).head_length, request.size());

  HttpLimits smaller{request.size() - 1, 100};
  EXPECT_EQ(Parse(request.substr(0, request.size() - 1), smaller).state, ParseState::kIncomplete);
  EXPECT_EQ(Refusal(request, smaller),
            "431 request head longer than " + std::to_string(request.size() - 1) + " bytes");

  // Still in the request line when the limit is passed: 414.
  std::string long_line = "GET http://example.com/" + std::string(100, 'a');
  HttpLimits limit{64, 100};
  EXPECT_EQ(Parse(long_line.substr(0, 64), limit).state, ParseState::kIncomplete);
  EXPECT_EQ(Refusal(long_line.substr(0, 65), limit), "414 request line longer than 64 bytes");
  EXPECT_EQ(Refusal(long_line + " HTTP/1.1\r\nHost: example.com\r\n\r\n", limit),
            "414 request line longer than 64 bytes");

  // The default is 16 KiB.
  std::string big = Get("X-Pad: " + std::string(16384, 'p') + "\r\n");
  EXPECT_EQ(Refusal(big), "431 request head longer than 16384 bytes");
  std::string huge_target = "GET http://example.com/" + std::string(16384, 'a') + " HTTP/1.1\r\n";
  EXPECT_EQ(Refusal(huge_target), "414 request line longer than 16384 bytes");
}

TEST(HttpHead, HeaderCountLimit) {
  HttpLimits limits{16384, 3};
  EXPECT_EQ(Complete(Get("A: 1\r\nB: 2\r\n"), limits).headers.size(), 3u);
  EXPECT_EQ(Refusal(Get("A: 1\r\nB: 2\r\nC: 3\r\n"), limits), "431 more than 3 header lines");
  // Refused when the fourth line is complete, before the head is.
  EXPECT_EQ(
      Refusal("GET http://example.com/ HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\n", limits),
      "431 more than 3 header lines");

  std::string hundred;
  for (int i = 0; i < 99; ++i) hundred += "X-" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(Complete(Get(hundred)).headers.size(), 100u);
  EXPECT_EQ(Refusal(Get(hundred + "X-100: v\r\n")), "431 more than 100 header lines");
}

TEST(HttpHead, ErrorsAreOnePrintableLine) {
  HttpParse parse =
      Parse("GET http://example.com/\x80\xff\"\\" + std::string(100, 'x') + " HTTP/1.1\r\n");
  ASSERT_EQ(parse.state, ParseState::kError);
  EXPECT_EQ(parse.status, 400);
  EXPECT_EQ(parse.error, "malformed request target \"http://example.com/\\x80\\xff\\x22\\x5c" +
                             std::string(41, 'x') + "\"... (123 bytes)");
  for (char c : parse.error) {
    EXPECT_GE(c, 0x20);
    EXPECT_LT(c, 0x7f);
  }
}

// Every request below, given one byte more at a time, is kIncomplete until some prefix decides
// it, and from there on every longer prefix gives the same answer as the whole.
TEST(HttpHead, IncrementalInputGivesTheSameAnswer) {
  const std::string requests[] = {
      Get("Accept: */*\r\nContent-Length: 3\r\n") + "abc",
      "CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n\x16\x03",
      "GET http://example.com/ HTTP/1.0\r\n\r\n",
      "GET https://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n",
      "GET http://example.com/ HTTP/2.0\r\n\r\n",
      "GET http://example.com/ HTTP/1.1\r\n\r\n",
      Get("Accept : x\r\n"),
      Get("X: a\r\n b\r\n"),
      Get("X: a\nb\r\n"),
      Get("X: a\x1b\r\n"),
      Get("Host: again\r\n"),
      Get("Content-Length: 1\r\nTransfer-Encoding: chunked\r\n"),
      "\r\nGET http://example.com/ HTTP/1.1\r\n\r\n",
  };
  for (const std::string& request : requests) {
    HttpParse whole = Parse(request);
    ASSERT_NE(whole.state, ParseState::kIncomplete) << request;
    bool decided = false;
    for (std::size_t size = 0; size <= request.size(); ++size) {
      HttpParse part = Parse(std::string_view(request).substr(0, size));
      if (!decided && part.state == ParseState::kIncomplete) continue;
      decided = true;
      EXPECT_EQ(part, whole) << testing::PrintToString(request) << " cut at " << size << ": "
                             << part.error;
    }
  }
  // The same with limits that are hit.
  std::string request = Get("A: 1\r\nB: 2\r\n");
  HttpLimits limits{40, 1};
  HttpParse whole = Parse(request, limits);
  EXPECT_EQ(whole.status, 431);
  for (std::size_t size = 0; size <= request.size(); ++size) {
    HttpParse part = Parse(std::string_view(request).substr(0, size), limits);
    EXPECT_TRUE(part.state == ParseState::kIncomplete || part == whole) << size;
  }
}

TEST(HttpSplitAuthority, Forms) {
  EXPECT_EQ(SplitAuthority("example.com", 80), (Authority{"example.com", 80}));
  EXPECT_EQ(SplitAuthority("example.com", 0), (Authority{"example.com", 0}));
  EXPECT_EQ(SplitAuthority("example.com:8080", 80), (Authority{"example.com", 8080}));
  EXPECT_EQ(SplitAuthority("example.com:00080", 0), (Authority{"example.com", 80}));
  EXPECT_EQ(SplitAuthority("[::1]", 443), (Authority{"::1", 443}));
  EXPECT_EQ(SplitAuthority("[::ffff:127.0.0.1]:8080", 80), (Authority{"::ffff:127.0.0.1", 8080}));
  EXPECT_EQ(SplitAuthority("192.0.2.1:1", 80), (Authority{"192.0.2.1", 1}));
  // Not a name check: bytes that are no DNS name pass, for normalisation to refuse.
  EXPECT_EQ(SplitAuthority("caf\xc3\xa9.example", 80), (Authority{"caf\xc3\xa9.example", 80}));
  EXPECT_EQ(SplitAuthority("a_b.example.", 80), (Authority{"a_b.example.", 80}));
}

TEST(HttpSplitAuthority, Malformed) {
  const std::vector<std::string_view> malformed = {"",
                                                   ":",
                                                   ":80",
                                                   "example.com:",
                                                   "example.com:0",
                                                   "example.com:65536",
                                                   "example.com:123456",
                                                   "example.com:8o",
                                                   "example.com:+80",
                                                   "example.com:-1",
                                                   "example.com: 80",
                                                   "a:b:c",
                                                   "::1",
                                                   "2001:db8::1:80",
                                                   "[::1",
                                                   "::1]",
                                                   "[::1]x",
                                                   "[::1]:",
                                                   "[::1]:0",
                                                   "[]",
                                                   "[]:80",
                                                   "[example.com]",
                                                   "[::1%25eth0]",
                                                   "[::g]",
                                                   "ex[a]mple",
                                                   "user@example.com",
                                                   "@example.com",
                                                   "example.com@",
                                                   "example.com/",
                                                   "example.com?",
                                                   "example.com#",
                                                   "example.com\\",
                                                   "exa%6dple.com",
                                                   "exa mple.com",
                                                   "example.com\t",
                                                   std::string_view("exa\0mple.com", 12),
                                                   "example\x7f.com",
                                                   "example.com\r"};
  for (std::string_view text : malformed) {
    EXPECT_EQ(SplitAuthority(text, 80), std::nullopt) << testing::PrintToString(text);
  }
}

TEST(HttpUpstream, HopByHopHeadersAreDroppedAndConnectionCloseAdded) {
  std::string request =
      "POST http://example.com:8080/submit?x=1 HTTP/1.1\r\n"
      "User-Agent: curl/8.5\r\n"
      "Proxy-Connection: keep-alive\r\n"
      "Host: example.com:8080\r\n"
      "Proxy-Authorization: Basic dTpw\r\n"
      "Proxy-Authenticate: Basic\r\n"
      "Connection: Keep-Alive, X-Hop\r\n"
      "X-Hop: secret\r\n"
      "Keep-Alive: timeout=5\r\n"
      "TE: trailers\r\n"
      "Trailer: X-Checksum\r\n"
      "Upgrade: websocket\r\n"
      "Accept: */*\r\n"
      "x-hop: again\r\n"
      "Connection: x-other\r\n"
      "X-Other: 1\r\n"
      "X-Kept: Connection\r\n"
      "Content-Length: 3\r\n"
      "\r\n"
      "abc";
  HttpRequestHead head = Complete(request);
  EXPECT_EQ(UpstreamRequestHead(head),
            "POST /submit?x=1 HTTP/1.1\r\n"
            "Host: example.com:8080\r\n"
            "User-Agent: curl/8.5\r\n"
            "Accept: */*\r\n"
            "X-Kept: Connection\r\n"
            "Content-Length: 3\r\n"
            "Connection: close\r\n"
            "\r\n");
}

TEST(HttpUpstream, HostComesFromTheTarget) {
  // An HTTP/1.0 request without Host is forwarded as HTTP/1.1 with one.
  EXPECT_EQ(UpstreamRequestHead(Complete("GET http://example.com HTTP/1.0\r\n\r\n")),
            "GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(UpstreamRequestHead(Complete("GET http://[2001:db8::1]:8080/x HTTP/1.0\r\n"
                                         "Host: [2001:DB8::1]:8080\r\n\r\n")),
            "GET /x HTTP/1.1\r\nHost: [2001:db8::1]:8080\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(UpstreamRequestHead(Complete("GET http://example.com:80/?q HTTP/1.1\r\n"
                                         "X-First: 1\r\nHost: example.com\r\n\r\n")),
            "GET /?q HTTP/1.1\r\nHost: example.com\r\nX-First: 1\r\nConnection: close\r\n\r\n");
}

TEST(HttpErrorResponse, IsAWholeResponse) {
  EXPECT_EQ(ErrorResponse(403, "tollgate: example.com is not allowed\n"),
            "HTTP/1.1 403 Forbidden\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 37\r\n"
            "Connection: close\r\n"
            "\r\n"
            "tollgate: example.com is not allowed\n");
  EXPECT_EQ(ErrorResponse(599, ""),
            "HTTP/1.1 599 \r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 0\r\n"
            "Connection: close\r\n\r\n");
  EXPECT_EQ(ErrorResponse(42, "x").substr(0, 36), "HTTP/1.1 500 Internal Server Error\r\n");
}

TEST(HttpErrorResponse, StatusReasons) {
  EXPECT_EQ(StatusReason(400), "Bad Request");
  EXPECT_EQ(StatusReason(403), "Forbidden");
  EXPECT_EQ(StatusReason(405), "Method Not Allowed");
  EXPECT_EQ(StatusReason(414), "URI Too Long");
  EXPECT_EQ(StatusReason(431), "Request Header Fields Too Large");
  EXPECT_EQ(StatusReason(501), "Not Implemented");
  EXPECT_EQ(StatusReason(502), "Bad Gateway");
  EXPECT_EQ(StatusReason(504), "Gateway Timeout");
  EXPECT_EQ(StatusReason(505), "HTTP Version Not Supported");
  EXPECT_EQ(StatusReason(299), "");
}

}  // namespace
}  // namespace tollgate::net
