// Where a parser of the proxy's client protocols (http_head.h, socks5.h) stands. Each parser is
// handed everything received so far on a connection, parses it from the start, and answers one
// of these; a caller that gets kIncomplete reads more and asks again with the longer input.
#pragma once

namespace tollgate::net {

enum class ParseState {
  kIncomplete,  // no decision yet: more bytes may complete the message or show it is wrong
  kComplete,    // a whole message; later bytes do not change it
  kError,       // the bytes so far are already wrong; later bytes do not change that either
};

}  // namespace tollgate::net
