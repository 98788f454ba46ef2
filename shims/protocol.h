// The wire protocol between tollgate-shim and the supervisor.
//
// Inside a sandbox, mediated tools are replaced by tollgate-shim. It connects to kSocketPath
// (AF_UNIX, SOCK_STREAM), sends one Call, and the supervisor answers with one Decision and, when
// it allowed the call, one Exit once the tool has ended; in between the shim may send any number
// of Signal messages. The file descriptors of a Call (stdin, stdout, stderr, cwd) ride along
// with its first byte as SCM_RIGHTS; that is the socket code's business, not this module's.
//
// The same socket takes one other conversation: an agent hook running in the sandbox
// (`tollgate hook claude-code`, docs/HOOKS.md) sends one HookReport, the decision it made, and
// the supervisor answers with one HookAck once the report is in the audit log (or could not be
// written there). The hook gives an allow only after a HookAck that says recorded.
//
// This module is bytes only: no syscalls, no exceptions, the standard library alone, so that the
// shim can link it statically and stay small. The decoder takes the other side for an adversary
// (the supervisor decodes what a sandboxed process wrote): it never reads past its input and
// never allocates more than the frame's announced size allows.
//
// A frame is a 12-byte header and a payload; every integer is little-endian, fixed width:
//
//   header    magic u32 (kMagic, "TGS1")  type u32 (MessageType)  payload length u32
//
//   a string  u32 length, then the bytes (at most kMaxStringBytes)
//   a list    u32 count (at most kMaxListItems), then that many strings
//
//   type          payload
//   1 Call        exe string, argv list, cwd string, env list, pgid i32, fd_count u32
//   2 Signal      signo i32
//   3 Decision    verdict u8, exit_code i32, message string
//   4 Exit        wait_status i32
//   5 HookReport  agent string, tool string, verdict u8, rule string, reason string,
//                 cwd string, session string, tool_use_id string, command string, path string,
//                 access u8, url string, host string, port u32,
//                 parts u32 count (at most kMaxHookParts), then per part:
//                   what string, verdict u8, rule string, reason string
//   6 HookAck     recorded u8, message string
//
// Decode is strict, so that each message has exactly one encoding: the payload is consumed
// exactly; verdict is 1 or 2; signo is 1..64; argv has at least one entry; exe, argv, cwd and
// env hold no NUL byte (execve could not pass one on); env entries are NAME=value with a
// non-empty NAME; exe and cwd are absolute; fd_count is at most kMaxCallFds. Other bytes are
// allowed anywhere: argv may be any bytes the kernel could pass, UTF-8 or not.
//
// A HookReport's agent is a non-empty name of a-z, 0-9 and '-' (at most kMaxAgentBytes); its
// verdicts (the report's and each part's) are 1 allow, 2 ask or 3 deny; access is 0 (none),
// 1 read or 2 write; port is 0 (none) or 1..65535; cwd and path are empty or absolute. Its other
// strings come from the agent's JSON and may hold any byte, NUL included (the audit writer
// escapes what is not UTF-8). A HookAck's recorded is 0 or 1.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tollgate::shim_protocol {

// Where the shim finds the supervisor inside every sandbox.
inline constexpr char kSocketPath[] = "/run/tollgate/broker.sock";

inline constexpr std::uint32_t kMagic = 0x31534754;   // "TGS1" little-endian on the wire
inline constexpr std::size_t kHeaderSize = 12;        // magic u32, type u32, payload length u32
inline constexpr std::size_t kMaxPayload = 1u << 20;  // a frame announcing more is an error
inline constexpr std::size_t kMaxListItems = 65536;   // argv or env entries
inline constexpr std::size_t kMaxStringBytes = 256u << 10;  // one string
inline constexpr std::uint32_t kMaxCallFds = 4;             // stdin, stdout, stderr, cwd
inline constexpr std::int32_t kMaxSignal = 64;              // signals are 1..kMaxSignal
inline constexpr std::uint32_t kMaxHookParts = 64;          // parts of one HookReport
inline constexpr std::size_t kMaxAgentBytes = 64;           // a HookReport's agent name

enum class MessageType : std::uint32_t {
  kCall = 1,
  kSignal = 2,
  kDecision = 3,
  kExit = 4,
  kHookReport = 5,
  kHookAck = 6,
};

// shim -> supervisor, first and only once per connection; fds ride along with its first byte.
struct Call {
  std::string exe;                // the path the shim was started as (readlink /proc/self/exe)
  std::vector<std::string> argv;  // as the shim received it, argv[0] included; at least one entry
  std::string cwd;  // the shim's working directory (informational; the cwd fd is authoritative)
  std::vector<std::string> env;  // "NAME=value" entries, as the shim received them
  std::int32_t pgid = 0;         // the shim's process group (as the sandbox numbers it)
  std::uint32_t fd_count =
      0;  // how many fds were sent with this frame (stdin, stdout, stderr, cwd)

  bool operator==(const Call&) const = default;
};

// shim -> supervisor, any number, after the Call: a signal the shim received, to forward to the
// tool.
struct Signal {
  std::int32_t signo = 0;

  bool operator==(const Signal&) const = default;
};

enum class Verdict : std::uint8_t { kAllow = 1, kDeny = 2 };

// supervisor -> shim, once.
struct Decision {
  Verdict verdict = Verdict::kDeny;
  std::int32_t exit_code = 126;  // with kDeny: what the shim exits with
  std::string message;  // with kDeny: the one line the shim prints on stderr (no trailing newline)

  bool operator==(const Decision&) const = default;
};

// supervisor -> shim, once, after an allowed tool ended.
struct Exit {
  std::int32_t wait_status = 0;  // as wait(2) reports it

  bool operator==(const Exit&) const = default;
};

// A hook's answer, as the agent is given it. Ordered by strictness, as the hook orders them.
enum class HookVerdict : std::uint8_t { kAllow = 1, kAsk = 2, kDeny = 3 };
enum class HookAccess : std::uint8_t { kNone = 0, kRead = 1, kWrite = 2 };

// One thing the hook judged: a simple command of a Bash line, a redirection, a path.
struct HookPart {
  std::string what;
  HookVerdict verdict = HookVerdict::kAsk;
  std::string rule;
  std::string reason;

  bool operator==(const HookPart&) const = default;
};

// hook -> supervisor, first and only once per connection: a decision the hook made, to be
// recorded as `hook.decision`. Empty strings (and access kNone, port 0) are facts the call did
// not have: a Bash call has a command, a Read a path and an access, a WebFetch a url, host and
// port. What the hook says is its claim: the supervisor records it as the sandbox's report.
struct HookReport {
  std::string agent;  // "claude-code"
  std::string tool;   // the agent's tool name ("Bash", "Read", "mcp__github__create_issue")
  HookVerdict verdict = HookVerdict::kDeny;
  std::string rule;    // the deciding part's rule
  std::string reason;  // the text the agent or the person was given
  std::string cwd;
  std::string session;
  std::string tool_use_id;
  std::string command;
  std::string path;
  HookAccess access = HookAccess::kNone;
  std::string url;
  std::string host;
  std::uint32_t port = 0;
  std::vector<HookPart> parts;  // at most kMaxHookParts

  bool operator==(const HookReport&) const = default;
};

// supervisor -> hook, once: whether the report is in the audit log.
struct HookAck {
  bool recorded = false;
  std::string message;  // when not recorded: why, one line

  bool operator==(const HookAck&) const = default;
};

using Message = std::variant<Call, Signal, Decision, Exit, HookReport, HookAck>;

// The whole frame: header + payload. Encode writes what it is given: a message that breaks the
// rules above (an empty argv, a relative exe, a string over the bound) makes a frame that Decode
// rejects, which is what tests of the decoder want.
std::string Encode(const Message& message);

enum class DecodeState { kNeedMore, kMessage, kError };
struct DecodeResult {
  DecodeState state = DecodeState::kNeedMore;
  Message message;           // with kMessage
  std::size_t consumed = 0;  // with kMessage: bytes of `input` the frame took (header + payload)
  std::string error;         // with kError: what was wrong, one short phrase ("bad magic",
                             // "NUL byte in argv[2]", "trailing bytes after Exit", …)
};

// Decodes the frame at the front of `input`. kNeedMore when the header or the announced payload
// is not complete yet; but a header that is already wrong is kError at once, from the first
// bytes that show it (a wrong magic byte, an unknown type, a length over kMaxPayload or over
// what the type can hold), so that a reader never waits for bytes it would reject anyway.
// After kError the stream is out of step and the connection must be dropped.
DecodeResult Decode(std::string_view input);

// "call", "signal", "decision", "exit", "hook-report", "hook-ack"; "unknown" for a value that is
// none of them.
const char* MessageTypeName(MessageType type);

}  // namespace tollgate::shim_protocol
