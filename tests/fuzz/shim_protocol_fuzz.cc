// libFuzzer target: the shim protocol decoder, on whatever bytes a sandboxed process could write
// to the supervisor's socket (or a confused supervisor to the shim). Built with clang by
// tests/fuzz/CMakeLists.txt (see tests/fuzz/run.sh).
//
// The input is read as a stream: frames are decoded from the front until the decoder needs more
// or refuses. Each decoded message must have one encoding, the bytes it came from: encoding it
// again gives the frame back byte for byte, which decodes to the same message; and every proper
// prefix of the frame is kNeedMore, never a message or an error.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "shims/protocol.h"

using namespace tollgate::shim_protocol;

namespace {

[[noreturn]] void Fail(const char* what, std::size_t offset) {
  std::fprintf(stderr, "shim protocol: %s (frame at byte %zu)\n", what, offset);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::size_t offset = 0;
  while (offset < input.size()) {
    std::string_view rest = input.substr(offset);
    DecodeResult result = Decode(rest);
    if (result.state == DecodeState::kError && result.error.empty())
      Fail("an error without a reason", offset);
    if (result.state != DecodeState::kMessage) break;
    if (result.consumed < kHeaderSize || result.consumed > rest.size())
      Fail("consumed is outside the input", offset);

    std::string_view frame = rest.substr(0, result.consumed);
    std::string encoded = Encode(result.message);
    if (encoded != frame) Fail("the message encodes to other bytes than its frame", offset);
    DecodeResult again = Decode(encoded);
    if (again.state != DecodeState::kMessage || again.consumed != encoded.size() ||
        !(again.message == result.message)) {
      Fail("the encoded message does not decode to itself", offset);
    }
    // The shortest and the longest proper prefixes, and the header alone.
    for (std::size_t cut : {std::size_t{1}, kHeaderSize, frame.size() - 1}) {
      if (cut < frame.size() && Decode(frame.substr(0, cut)).state != DecodeState::kNeedMore)
        Fail("a proper prefix of a frame is not kNeedMore", offset);
    }
    offset += result.consumed;
  }
  return 0;
}
