// The wire protocol between tollgate-shim and the supervisor: frames, round trips, and the
// decoder's refusals of what a hostile sandboxed process could send.
#include "shims/protocol.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace tollgate::shim_protocol {
namespace {

Call SampleCall() {
  Call call;
  call.exe = "/usr/bin/git";
  call.argv = {"git", "push", "origin", "main"};
  call.cwd = "/work/repo";
  call.env = {"HOME=/home/dev", "PATH=/usr/bin:/bin", "EMPTY="};
  call.pgid = 42;
  call.fd_count = 4;
  return call;
}

// A Bash call a hook denied, with every field set.
HookReport SampleReport() {
  HookReport report;
  report.agent = "claude-code";
  report.tool = "Bash";
  report.verdict = HookVerdict::kDeny;
  report.rule = "git:git-push";
  report.reason = "tollgate: `git push origin main` denied by rule git:git-push";
  report.cwd = "/work/repo";
  report.session = "5f0c";
  report.tool_use_id = "toolu_01";
  report.command = "ls && git push origin main";
  report.path = "/work/repo/x";
  report.access = HookAccess::kWrite;
  report.url = "https://example.com/";
  report.host = "example.com";
  report.port = 443;
  report.parts = {{"ls", HookVerdict::kAllow, "exec:filesystem.read", "runs /usr/bin/ls"},
                  {"git push origin main", HookVerdict::kDeny, "git:git-push", "publishes"}};
  return report;
}

// Little-endian pieces, to build frames by hand the way a hostile shim would.
std::string U32(std::uint32_t value) {
  std::string bytes;
  for (int shift = 0; shift < 32; shift += 8) bytes.push_back(static_cast<char>(value >> shift));
  return bytes;
}
std::string Str(std::string_view text) {
  return U32(static_cast<std::uint32_t>(text.size())) + std::string(text);
}
std::string List(const std::vector<std::string>& items) {
  std::string bytes = U32(static_cast<std::uint32_t>(items.size()));
  for (const std::string& item : items) bytes += Str(item);
  return bytes;
}
std::string Frame(MessageType type, std::string_view payload) {
  return U32(kMagic) + U32(static_cast<std::uint32_t>(type)) +
         U32(static_cast<std::uint32_t>(payload.size())) + std::string(payload);
}
std::string CallPayload(const std::string& exe, const std::vector<std::string>& argv,
                        const std::string& cwd, const std::vector<std::string>& env,
                        std::int32_t pgid = 7, std::uint32_t fd_count = 4) {
  return Str(exe) + List(argv) + Str(cwd) + List(env) + U32(static_cast<std::uint32_t>(pgid)) +
         U32(fd_count);
}

// Encodes `message` and decodes the frame, expecting one message that takes all of it.
Message RoundTrip(const Message& message) {
  std::string frame = Encode(message);
  DecodeResult result = Decode(frame);
  EXPECT_EQ(result.state, DecodeState::kMessage) << result.error;
  EXPECT_EQ(result.consumed, frame.size());
  EXPECT_EQ(Encode(result.message), frame) << "a message has one encoding";
  return result.message;
}

std::string ErrorOf(std::string_view frame) {
  DecodeResult result = Decode(frame);
  EXPECT_EQ(result.state, DecodeState::kError) << "decoded a frame that should be refused";
  return result.error;
}

std::string CallError(const Call& call) {
  return ErrorOf(Encode(call));
}

TEST(ShimProtocol, TheHeaderIsMagicTypeAndLengthLittleEndian) {
  std::string frame = Encode(Exit{0x01020304});
  ASSERT_EQ(frame.size(), kHeaderSize + 4);
  EXPECT_EQ(frame.substr(0, 4), "TGS1");
  EXPECT_EQ(frame.substr(4, 4), std::string("\x04\0\0\0", 4));
  EXPECT_EQ(frame.substr(8, 4), std::string("\x04\0\0\0", 4));
  EXPECT_EQ(frame.substr(12), "\x04\x03\x02\x01");
}

TEST(ShimProtocol, CallPayloadFollowsTheDocumentedLayout) {
  Call call = SampleCall();
  EXPECT_EQ(Encode(call),
            Frame(MessageType::kCall, CallPayload(call.exe, call.argv, call.cwd, call.env, 42, 4)));
  EXPECT_EQ(Encode(Decision{Verdict::kDeny, 3, "no"}),
            Frame(MessageType::kDecision, std::string("\x02\x03\0\0\0", 5) + Str("no")));
  EXPECT_EQ(Encode(Signal{15}), Frame(MessageType::kSignal, U32(15)));
}

TEST(ShimProtocol, CallRoundTrips) {
  Call call = SampleCall();
  EXPECT_EQ(std::get<Call>(RoundTrip(call)), call);
}

TEST(ShimProtocol, CallWithEmptyStringsWhereAllowedRoundTrips) {
  Call call;
  call.exe = "/";
  call.argv = {""};  // an empty argv[0] is legal for execve
  call.cwd = "/";
  call.env = {};
  call.pgid = -1;
  call.fd_count = 0;
  EXPECT_EQ(std::get<Call>(RoundTrip(call)), call);

  call.argv = {"tool", "", "", "x"};
  call.env = {"A=", "B=="};
  EXPECT_EQ(std::get<Call>(RoundTrip(call)), call);
}

TEST(ShimProtocol, ArgvMayHoldAnyByteButNul) {
  Call call = SampleCall();
  call.argv = {"git", "\xff\xfe", "caf\xc3", "\x01\x1b[2J\n\r\t", std::string("\x80", 1)};
  call.env.push_back("LANG=\xe9t\xe9");
  EXPECT_EQ(std::get<Call>(RoundTrip(call)), call);
}

TEST(ShimProtocol, CallNearTheLimitsRoundTrips) {
  // Strings of exactly kMaxStringBytes.
  Call call = SampleCall();
  call.argv = {"tool", std::string(kMaxStringBytes, 'a')};
  call.env = {"BIG=" + std::string(kMaxStringBytes - 4, 'b')};
  EXPECT_EQ(std::get<Call>(RoundTrip(call)), call);

  // A payload of exactly kMaxPayload bytes: a thousand long argv entries and one that fills up.
  Call full = SampleCall();
  full.env.clear();
  full.argv.assign(1000, std::string(1000, 'x'));
  std::size_t used = Encode(full).size() - kHeaderSize;
  full.argv.push_back(std::string(kMaxPayload - used - 4, 'y'));
  std::string frame = Encode(full);
  ASSERT_EQ(frame.size(), kHeaderSize + kMaxPayload);
  EXPECT_EQ(std::get<Call>(RoundTrip(full)), full);
  full.argv.back().push_back('y');
  EXPECT_EQ(CallError(full), "payload of 1048577 bytes exceeds 1048576");

  // Exactly kMaxListItems entries.
  Call most = SampleCall();
  most.argv.assign(kMaxListItems, "");
  EXPECT_EQ(std::get<Call>(RoundTrip(most)).argv.size(), kMaxListItems);
}

TEST(ShimProtocol, SignalDecisionAndExitRoundTrip) {
  for (std::int32_t signo : {1, 2, 15, 28, 64})
    EXPECT_EQ(std::get<Signal>(RoundTrip(Signal{signo})).signo, signo);

  Decision deny{Verdict::kDeny, 126, "tollgate: git push is not allowed by profile 'ci'"};
  EXPECT_EQ(std::get<Decision>(RoundTrip(deny)), deny);
  Decision allow{Verdict::kAllow, 0, ""};
  EXPECT_EQ(std::get<Decision>(RoundTrip(allow)), allow);
  Decision negative{Verdict::kDeny, -1, std::string("nul \0 inside", 12)};
  EXPECT_EQ(std::get<Decision>(RoundTrip(negative)), negative);

  for (std::int32_t status : {0, 0x100, 0x0f, INT32_MIN, INT32_MAX})
    EXPECT_EQ(std::get<Exit>(RoundTrip(Exit{status})).wait_status, status);
}

TEST(ShimProtocol, EveryProperPrefixNeedsMoreThenTheWholeFrameDecodes) {
  const Message messages[] = {SampleCall(),
                              Signal{2},
                              Decision{Verdict::kDeny, 1, "denied"},
                              Exit{9},
                              SampleReport(),
                              HookAck{true, ""},
                              HookAck{false, "the audit log could not be written"}};
  for (const Message& message : messages) {
    std::string frame = Encode(message);
    for (std::size_t split = 0; split < frame.size(); ++split) {
      DecodeResult partial = Decode(std::string_view(frame).substr(0, split));
      EXPECT_EQ(partial.state, DecodeState::kNeedMore)
          << MessageTypeName(static_cast<MessageType>(message.index() + 1)) << " cut at " << split
          << ": " << partial.error;
    }
    DecodeResult whole = Decode(frame);
    ASSERT_EQ(whole.state, DecodeState::kMessage) << whole.error;
    EXPECT_EQ(whole.message, message);
  }
}

TEST(ShimProtocol, TwoFramesBackToBackDecodeOneAtATime) {
  std::string stream = Encode(SampleCall()) + Encode(Signal{15}) + "TG";
  DecodeResult first = Decode(stream);
  ASSERT_EQ(first.state, DecodeState::kMessage) << first.error;
  EXPECT_EQ(first.consumed, Encode(SampleCall()).size());
  EXPECT_EQ(std::get<Call>(first.message), SampleCall());

  std::string_view rest = std::string_view(stream).substr(first.consumed);
  DecodeResult second = Decode(rest);
  ASSERT_EQ(second.state, DecodeState::kMessage) << second.error;
  EXPECT_EQ(second.consumed, kHeaderSize + 4);
  EXPECT_EQ(std::get<Signal>(second.message).signo, 15);

  EXPECT_EQ(Decode(rest.substr(second.consumed)).state, DecodeState::kNeedMore);
}

TEST(ShimProtocol, MessageTypeNames) {
  EXPECT_STREQ(MessageTypeName(MessageType::kCall), "call");
  EXPECT_STREQ(MessageTypeName(MessageType::kSignal), "signal");
  EXPECT_STREQ(MessageTypeName(MessageType::kDecision), "decision");
  EXPECT_STREQ(MessageTypeName(MessageType::kExit), "exit");
  EXPECT_STREQ(MessageTypeName(MessageType::kHookReport), "hook-report");
  EXPECT_STREQ(MessageTypeName(MessageType::kHookAck), "hook-ack");
  EXPECT_STREQ(MessageTypeName(static_cast<MessageType>(9)), "unknown");
}

// ---- The header ----

TEST(ShimProtocol, BadMagicIsAnErrorFromItsFirstWrongByte) {
  std::string frame = Encode(Exit{0});
  frame[0] = 'X';
  EXPECT_EQ(ErrorOf(frame), "bad magic");
  EXPECT_EQ(ErrorOf(frame.substr(0, 1)), "bad magic") << "no need to wait for the rest";
  std::string late = Encode(Exit{0});
  late[3] = '2';
  EXPECT_EQ(ErrorOf(late), "bad magic");
  EXPECT_EQ(Decode(late.substr(0, 3)).state, DecodeState::kNeedMore) << "TGS is still right";
}

TEST(ShimProtocol, UnknownTypeIsAnErrorOnceTheTypeIsIn) {
  EXPECT_EQ(ErrorOf(U32(kMagic) + U32(9)), "unknown message type 9");
  EXPECT_EQ(ErrorOf(U32(kMagic) + U32(0) + U32(0)), "unknown message type 0");
  EXPECT_EQ(ErrorOf(Frame(static_cast<MessageType>(7), U32(0))), "unknown message type 7");
}

TEST(ShimProtocol, OversizedPayloadIsAnErrorWithOnlyTheHeader) {
  std::string header = U32(kMagic) + U32(1) + U32(kMaxPayload + 1);
  ASSERT_EQ(header.size(), kHeaderSize);
  EXPECT_EQ(ErrorOf(header), "payload of 1048577 bytes exceeds 1048576");
  EXPECT_EQ(ErrorOf(U32(kMagic) + U32(1) + U32(0xFFFFFFFF)),
            "payload of 4294967295 bytes exceeds 1048576");
  // Exactly kMaxPayload is allowed: the decoder waits for it.
  EXPECT_EQ(Decode(U32(kMagic) + U32(1) + U32(kMaxPayload)).state, DecodeState::kNeedMore);
}

TEST(ShimProtocol, FixedSizeMessagesAnnouncingMoreAreRefusedFromTheHeader) {
  EXPECT_EQ(ErrorOf(U32(kMagic) + U32(4) + U32(5)), "trailing bytes after Exit");
  EXPECT_EQ(ErrorOf(U32(kMagic) + U32(2) + U32(1000)), "trailing bytes after Signal");
  EXPECT_EQ(ErrorOf(U32(kMagic) + U32(3) + U32(kMaxPayload)),
            "payload of 1048576 bytes exceeds 262153 for Decision");
  EXPECT_EQ(Decode(U32(kMagic) + U32(3) + U32(9 + kMaxStringBytes)).state, DecodeState::kNeedMore);
}

// ---- The payloads ----

TEST(ShimProtocol, PayloadMustBeConsumedExactly) {
  EXPECT_EQ(ErrorOf(Frame(MessageType::kCall, Encode(SampleCall()).substr(kHeaderSize) + "x")),
            "trailing bytes after Call");
  EXPECT_EQ(ErrorOf(Frame(MessageType::kDecision, std::string("\x01\0\0\0\0", 5) + Str("") + "z")),
            "trailing bytes after Decision");
  EXPECT_EQ(ErrorOf(Frame(MessageType::kExit, "")), "truncated wait_status");
  EXPECT_EQ(ErrorOf(Frame(MessageType::kSignal, "\x02\0")), "truncated signo");
  EXPECT_EQ(ErrorOf(Frame(MessageType::kDecision, "")), "truncated verdict");
  EXPECT_EQ(ErrorOf(Frame(MessageType::kDecision, "\x02\0")), "truncated exit_code");
}

TEST(ShimProtocol, TruncatedStringsAndListsAreRefused) {
  std::string full = CallPayload("/bin/tool", {"tool", "arg"}, "/", {});
  // Cut inside argv[1]'s bytes, then re-frame so that the header agrees with the payload.
  std::size_t argv1 = 4 + 9 + 4 + 4 + 4 + 4;  // exe, count, "tool", argv[1]'s length
  EXPECT_EQ(ErrorOf(Frame(MessageType::kCall, full.substr(0, argv1 + 1))),
            "truncated string in argv");
  EXPECT_EQ(ErrorOf(Frame(MessageType::kCall, full.substr(0, 2))), "truncated string in exe");
  EXPECT_EQ(ErrorOf(Frame(MessageType::kCall, full.substr(0, 4 + 9 + 2))), "truncated argv count");
  EXPECT_EQ(ErrorOf(Frame(MessageType::kCall, full.substr(0, full.size() - 1))),
            "truncated fd_count");
  EXPECT_EQ(ErrorOf(Frame(MessageType::kDecision, std::string("\x02\0\0\0\0", 5) + U32(3) + "ab")),
            "truncated string in message");
}

TEST(ShimProtocol, HugeListCountWithATinyPayloadIsRefused) {
  // Four billion entries announced in a few bytes: refused before anything is reserved.
  std::string payload = Str("/bin/x") + U32(0xFFFFFFFF) + Str("x");
  EXPECT_EQ(ErrorOf(Frame(MessageType::kCall, payload)),
            "argv of 4294967295 entries exceeds 65536");
  // Under kMaxListItems but more than the remaining bytes can hold (4 bytes per entry).
  std::string tight = Str("/bin/x") + U32(3) + U32(0) + U32(0);
  EXPECT_EQ(ErrorOf(Frame(MessageType::kCall, tight)), "truncated argv: 3 entries in 8 bytes");
  std::string env = Str("/bin/x") + List({"x"}) + Str("/") + U32(kMaxListItems) + U32(0) + U32(0);
  EXPECT_EQ(ErrorOf(Frame(MessageType::kCall, env)), "truncated env: 65536 entries in 8 bytes");
}

TEST(ShimProtocol, ListsOverTheItemBoundAreRefused) {
  Call call = SampleCall();
  call.argv.assign(kMaxListItems + 1, "");
  EXPECT_EQ(CallError(call), "argv of 65537 entries exceeds 65536");
}

TEST(ShimProtocol, StringsOverTheByteBoundAreRefused) {
  Call call = SampleCall();
  call.argv[2] = std::string(kMaxStringBytes + 1, 'a');
  EXPECT_EQ(CallError(call), "string of 262145 bytes in argv[2] exceeds 262144");
  // Announced only: the length alone is refused, without its bytes.
  EXPECT_EQ(ErrorOf(Frame(MessageType::kCall, U32(kMaxStringBytes + 1) + "/")),
            "string of 262145 bytes in exe exceeds 262144");
  EXPECT_EQ(
      ErrorOf(Frame(MessageType::kDecision, std::string("\x02\0\0\0\0", 5) + U32(0xFFFFFFFF))),
      "string of 4294967295 bytes in message exceeds 262144");
}

TEST(ShimProtocol, EmptyArgvIsRefused) {
  Call call = SampleCall();
  call.argv.clear();
  EXPECT_EQ(CallError(call), "argv is empty");
}

TEST(ShimProtocol, NulBytesAreRefusedWhereTheKernelCouldNotPassThem) {
  Call call = SampleCall();
  call.argv[2] = std::string("ori\0gin", 7);
  EXPECT_EQ(CallError(call), "NUL byte in argv[2]");
  call = SampleCall();
  call.exe = std::string("/usr/bin/git\0", 13);
  EXPECT_EQ(CallError(call), "NUL byte in exe");
  call = SampleCall();
  call.cwd = std::string("/work\0/x", 8);
  EXPECT_EQ(CallError(call), "NUL byte in cwd");
  call = SampleCall();
  call.env[1] = std::string("PATH=/bin\0/evil", 15);
  EXPECT_EQ(CallError(call), "NUL byte in env[1]");
}

TEST(ShimProtocol, ExeAndCwdMustBeAbsolute) {
  Call call = SampleCall();
  call.exe = "git";
  EXPECT_EQ(CallError(call), "exe is not an absolute path");
  call.exe = "";
  EXPECT_EQ(CallError(call), "exe is not an absolute path");
  call = SampleCall();
  call.cwd = "work/repo";
  EXPECT_EQ(CallError(call), "cwd is not an absolute path");
  call.cwd = "";
  EXPECT_EQ(CallError(call), "cwd is not an absolute path");
}

TEST(ShimProtocol, EnvEntriesNeedANameAndAnEqualsSign) {
  Call call = SampleCall();
  call.env[2] = "NOEQUALS";
  EXPECT_EQ(CallError(call), "env[2] has no '='");
  call.env[2] = "=value";
  EXPECT_EQ(CallError(call), "env[2] has an empty name");
  call.env[2] = "";
  EXPECT_EQ(CallError(call), "env[2] has no '='");
}

TEST(ShimProtocol, FdCountIsAtMostFour) {
  Call call = SampleCall();
  call.fd_count = 5;
  EXPECT_EQ(CallError(call), "fd_count 5 exceeds 4");
  call.fd_count = 0xFFFFFFFF;
  EXPECT_EQ(CallError(call), "fd_count 4294967295 exceeds 4");
}

TEST(ShimProtocol, SignalNumbersAreOneToSixtyFour) {
  EXPECT_EQ(ErrorOf(Encode(Signal{0})), "signal number 0 is not in 1..64");
  EXPECT_EQ(ErrorOf(Encode(Signal{65})), "signal number 65 is not in 1..64");
  EXPECT_EQ(ErrorOf(Encode(Signal{-9})), "signal number -9 is not in 1..64");
}

TEST(ShimProtocol, VerdictIsAllowOrDeny) {
  EXPECT_EQ(ErrorOf(Encode(Decision{static_cast<Verdict>(0), 126, ""})), "unknown verdict 0");
  EXPECT_EQ(ErrorOf(Encode(Decision{static_cast<Verdict>(3), 126, "x"})), "unknown verdict 3");
  EXPECT_EQ(ErrorOf(Encode(Decision{static_cast<Verdict>(255), 126, ""})), "unknown verdict 255");
}

TEST(ShimProtocol, AnErrorInOneFrameLeavesTheFrameBeforeItDecodable) {
  // The decoder only looks at the frame at the front: a valid frame followed by garbage decodes,
  // and the garbage is refused when it comes to the front.
  std::string stream = Encode(Exit{3}) + "garbage!garbage!";
  DecodeResult first = Decode(stream);
  ASSERT_EQ(first.state, DecodeState::kMessage) << first.error;
  EXPECT_EQ(ErrorOf(std::string_view(stream).substr(first.consumed)), "bad magic");
}

// ---- HookReport and HookAck ----

std::string ReportPayload(std::string_view agent, std::uint8_t verdict, std::uint8_t access,
                          std::uint32_t port, const std::string& parts) {
  return Str(agent) + Str("Bash") + std::string(1, static_cast<char>(verdict)) + Str("rule") +
         Str("reason") + Str("/cwd") + Str("s") + Str("t") + Str("ls") + Str("") +
         std::string(1, static_cast<char>(access)) + Str("") + Str("") + U32(port) + parts;
}
std::string Part(std::string_view what, std::uint8_t verdict) {
  return Str(what) + std::string(1, static_cast<char>(verdict)) + Str("r") + Str("why");
}

std::string ReportError(const HookReport& report) {
  return ErrorOf(Encode(report));
}

TEST(ShimProtocol, HookReportPayloadFollowsTheDocumentedLayout) {
  HookReport report;
  report.agent = "claude-code";
  report.tool = "Bash";
  report.verdict = HookVerdict::kAsk;
  report.rule = "rule";
  report.reason = "reason";
  report.cwd = "/cwd";
  report.session = "s";
  report.tool_use_id = "t";
  report.command = "ls";
  report.access = HookAccess::kNone;
  report.parts = {{"ls", HookVerdict::kAllow, "r", "why"}};
  EXPECT_EQ(Encode(report), Frame(MessageType::kHookReport,
                                  ReportPayload("claude-code", 2, 0, 0, U32(1) + Part("ls", 1))));
  EXPECT_EQ(Encode(HookAck{true, "ok"}), Frame(MessageType::kHookAck, "\x01" + Str("ok")));
  EXPECT_EQ(Encode(HookAck{false, ""}),
            Frame(MessageType::kHookAck, std::string(1, '\0') + Str("")));
}

TEST(ShimProtocol, HookReportAndAckRoundTrip) {
  HookReport report = SampleReport();
  EXPECT_EQ(std::get<HookReport>(RoundTrip(report)), report);

  // Only the agent is required: a report of a malformed input has no tool and no facts.
  HookReport bare;
  bare.agent = "a";
  bare.verdict = HookVerdict::kAllow;
  EXPECT_EQ(std::get<HookReport>(RoundTrip(bare)), bare);

  // The agent's own text may hold any byte, NUL and invalid UTF-8 included.
  HookReport odd = SampleReport();
  odd.command = std::string("echo \0 \xff\xfe\n", 10);
  odd.tool = std::string("\0", 1);
  odd.parts[0].what = std::string("\x80\0", 2);
  odd.access = HookAccess::kRead;
  odd.port = 65535;
  EXPECT_EQ(std::get<HookReport>(RoundTrip(odd)), odd);

  // The bounds themselves: kMaxHookParts parts, a string of kMaxStringBytes, a long agent.
  HookReport big = SampleReport();
  big.agent = std::string(kMaxAgentBytes, 'z');
  big.parts.assign(kMaxHookParts, {"p", HookVerdict::kAsk, "r", "w"});
  big.command = std::string(kMaxStringBytes, 'c');
  EXPECT_EQ(std::get<HookReport>(RoundTrip(big)), big);

  for (const HookAck& ack :
       {HookAck{true, ""}, HookAck{false, "the audit log could not be written"},
        HookAck{false, std::string("nul \0", 5)}})
    EXPECT_EQ(std::get<HookAck>(RoundTrip(ack)), ack);
}

TEST(ShimProtocol, TruncatedHookReportsAreRefused) {
  std::string full = ReportPayload("claude-code", 3, 1, 80, U32(2) + Part("ls", 1) + Part("x", 3));
  ASSERT_EQ(Decode(Frame(MessageType::kHookReport, full)).state, DecodeState::kMessage);
  // Each cut re-framed, so that the header agrees with the shorter payload.
  auto cut = [&](std::size_t size) {
    return ErrorOf(Frame(MessageType::kHookReport, full.substr(0, size)));
  };
  EXPECT_EQ(cut(0), "truncated string in agent");
  EXPECT_EQ(cut(4 + 11), "truncated string in tool");
  EXPECT_EQ(cut(4 + 11 + 8), "truncated verdict");
  EXPECT_EQ(cut(4 + 11 + 8 + 1 + 2), "truncated string in rule");
  std::size_t port = full.size() - 4 - Part("ls", 1).size() - Part("x", 3).size() - 4;
  EXPECT_EQ(cut(port - 1), "truncated string in host");
  EXPECT_EQ(cut(port - 9), "truncated access");
  EXPECT_EQ(cut(port + 3), "truncated port");
  EXPECT_EQ(cut(port + 4 + 2), "truncated parts count");
  // Two parts announced, bytes for one and a half.
  EXPECT_EQ(cut(full.size() - 3), "truncated string in parts");
  // A second part cut after its `what`: too few bytes for two parts, refused before reading.
  EXPECT_EQ(cut(full.size() - Part("x", 3).size() + 5), "truncated parts: 2 entries in 24 bytes");
  // With a first part long enough to pass that check, the second's verdict is missing.
  std::string long_first =
      ReportPayload("a", 1, 0, 0, U32(2) + Part(std::string(20, 'l'), 1) + Str("x"));
  EXPECT_EQ(ErrorOf(Frame(MessageType::kHookReport, long_first)), "truncated parts[1].verdict");
  // Every proper prefix of the whole frame waits for more; none is refused or taken.
  std::string frame = Frame(MessageType::kHookReport, full);
  for (std::size_t split = 0; split < frame.size(); ++split)
    EXPECT_EQ(Decode(std::string_view(frame).substr(0, split)).state, DecodeState::kNeedMore);
  EXPECT_EQ(ErrorOf(Frame(MessageType::kHookAck, "")), "truncated recorded");
  EXPECT_EQ(ErrorOf(Frame(MessageType::kHookAck, std::string("\x01\x02\0", 3))),
            "truncated string in message");
}

TEST(ShimProtocol, OversizedHookReportsAreRefused) {
  HookReport many = SampleReport();
  many.parts.assign(kMaxHookParts + 1, {"p", HookVerdict::kAsk, "r", "w"});
  EXPECT_EQ(ReportError(many), "parts of 65 entries exceeds 64");
  // A count under the bound that the remaining bytes cannot hold (13 bytes a part at least).
  EXPECT_EQ(
      ErrorOf(Frame(MessageType::kHookReport, ReportPayload("a", 1, 0, 0, U32(3) + Part("ls", 1)))),
      "truncated parts: 3 entries in 19 bytes");
  EXPECT_EQ(ErrorOf(Frame(MessageType::kHookReport, ReportPayload("a", 1, 0, 0, U32(0xFFFFFFFF)))),
            "parts of 4294967295 entries exceeds 64");

  HookReport long_command = SampleReport();
  long_command.command = std::string(kMaxStringBytes + 1, 'c');
  EXPECT_EQ(ReportError(long_command), "string of 262145 bytes in command exceeds 262144");
  HookReport long_part = SampleReport();
  long_part.parts[1].reason = std::string(kMaxStringBytes + 1, 'r');
  EXPECT_EQ(ReportError(long_part), "string of 262145 bytes in parts[1].reason exceeds 262144");

  // Five strings at the string bound make a payload over the frame bound.
  HookReport huge = SampleReport();
  huge.command = huge.reason = huge.rule = huge.url = huge.host = std::string(kMaxStringBytes, 'h');
  EXPECT_EQ(ReportError(huge).rfind("payload of ", 0), 0u) << ReportError(huge);
  // A HookAck is small: its header alone says when it is not.
  EXPECT_EQ(ErrorOf(U32(kMagic) + U32(6) + U32(kMaxPayload)),
            "payload of 1048576 bytes exceeds 262149 for HookAck");
}

TEST(ShimProtocol, HookReportFieldsAreChecked) {
  HookReport report = SampleReport();
  report.agent = "";
  EXPECT_EQ(ReportError(report), "agent is empty");
  report.agent = "Claude Code";
  EXPECT_EQ(ReportError(report), "agent is not a name of a-z, 0-9 and '-'");
  report.agent = std::string(kMaxAgentBytes + 1, 'a');
  EXPECT_EQ(ReportError(report), "agent of 65 bytes exceeds 64");
  report.agent = std::string("claude\0code", 11);
  EXPECT_EQ(ReportError(report), "NUL byte in agent");

  report = SampleReport();
  report.verdict = static_cast<HookVerdict>(0);
  EXPECT_EQ(ReportError(report), "unknown verdict 0");
  report.verdict = static_cast<HookVerdict>(4);
  EXPECT_EQ(ReportError(report), "unknown verdict 4");
  report = SampleReport();
  report.parts[1].verdict = static_cast<HookVerdict>(9);
  EXPECT_EQ(ReportError(report), "unknown verdict 9 in parts[1]");
  report = SampleReport();
  report.access = static_cast<HookAccess>(3);
  EXPECT_EQ(ReportError(report), "unknown access 3");
  report = SampleReport();
  report.port = 65536;
  EXPECT_EQ(ReportError(report), "port 65536 is not in 0..65535");
  report = SampleReport();
  report.cwd = "repo";
  EXPECT_EQ(ReportError(report), "cwd is not an absolute path");
  report = SampleReport();
  report.path = "x";
  EXPECT_EQ(ReportError(report), "path is not an absolute path");

  EXPECT_EQ(ErrorOf(Frame(MessageType::kHookReport, ReportPayload("a", 1, 0, 0, U32(0)) + "z")),
            "trailing bytes after HookReport");
  EXPECT_EQ(ErrorOf(Frame(MessageType::kHookAck, "\x02" + Str(""))), "recorded is 2, not 0 or 1");
  EXPECT_EQ(ErrorOf(Frame(MessageType::kHookAck, "\x01" + Str("") + "z")),
            "trailing bytes after HookAck");
}

}  // namespace
}  // namespace tollgate::shim_protocol
