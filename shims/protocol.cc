#include "shims/protocol.h"

#include <type_traits>
#include <utility>

namespace tollgate::shim_protocol {

const char* MessageTypeName(MessageType type) {
  switch (type) {
    case MessageType::kCall:
      return "call";
    case MessageType::kSignal:
      return "signal";
    case MessageType::kDecision:
      return "decision";
    case MessageType::kExit:
      return "exit";
    case MessageType::kHookReport:
      return "hook-report";
    case MessageType::kHookAck:
      return "hook-ack";
  }
  return "unknown";
}

namespace {

// The fixed part of each payload; a string or a list costs at least its u32 length or count.
constexpr std::size_t kSignalPayload = 4;
constexpr std::size_t kExitPayload = 4;
constexpr std::size_t kMaxDecisionPayload = 1 + 4 + 4 + kMaxStringBytes;
constexpr std::size_t kMaxHookAckPayload = 1 + 4 + kMaxStringBytes;

// Errors name messages as the structs are named ("trailing bytes after Exit").
const char* StructName(MessageType type) {
  switch (type) {
    case MessageType::kCall:
      return "Call";
    case MessageType::kSignal:
      return "Signal";
    case MessageType::kDecision:
      return "Decision";
    case MessageType::kExit:
      return "Exit";
    case MessageType::kHookReport:
      return "HookReport";
    case MessageType::kHookAck:
      return "HookAck";
  }
  return "message";
}

bool IsKnownType(std::uint32_t type) {
  return type >= static_cast<std::uint32_t>(MessageType::kCall) &&
         type <= static_cast<std::uint32_t>(MessageType::kHookAck);
}

// The largest payload a type can have: a longer one is refused from its header alone.
std::size_t MaxPayloadOf(MessageType type) {
  switch (type) {
    case MessageType::kSignal:
      return kSignalPayload;
    case MessageType::kExit:
      return kExitPayload;
    case MessageType::kDecision:
      return kMaxDecisionPayload;
    case MessageType::kHookAck:
      return kMaxHookAckPayload;
    case MessageType::kCall:
    case MessageType::kHookReport:
      break;
  }
  return kMaxPayload;
}

// ---- Encoding ----

void PutU32(std::uint32_t value, std::string* out) {
  for (int shift = 0; shift < 32; shift += 8) out->push_back(static_cast<char>(value >> shift));
}

void PutI32(std::int32_t value, std::string* out) {
  PutU32(static_cast<std::uint32_t>(value), out);
}

// A string longer than a u32 can count gets a wrapped length, and so a frame Decode rejects:
// such a string is over kMaxStringBytes anyway.
void PutString(std::string_view text, std::string* out) {
  PutU32(static_cast<std::uint32_t>(text.size()), out);
  out->append(text);
}

void PutList(const std::vector<std::string>& items, std::string* out) {
  PutU32(static_cast<std::uint32_t>(items.size()), out);
  for (const std::string& item : items) PutString(item, out);
}

std::size_t ListBytes(const std::vector<std::string>& items) {
  std::size_t size = 4;
  for (const std::string& item : items) size += 4 + item.size();
  return size;
}

MessageType TypeOf(const Message& message) {
  return static_cast<MessageType>(message.index() + 1);
}
static_assert(std::is_same_v<std::variant_alternative_t<0, Message>, Call> &&
                  std::is_same_v<std::variant_alternative_t<1, Message>, Signal> &&
                  std::is_same_v<std::variant_alternative_t<2, Message>, Decision> &&
                  std::is_same_v<std::variant_alternative_t<3, Message>, Exit> &&
                  std::is_same_v<std::variant_alternative_t<4, Message>, HookReport> &&
                  std::is_same_v<std::variant_alternative_t<5, Message>, HookAck>,
              "TypeOf numbers the alternatives of Message as MessageType does");

void PutPayload(const Call& call, std::string* out) {
  out->reserve(out->size() + 4 + call.exe.size() + ListBytes(call.argv) + 4 + call.cwd.size() +
               ListBytes(call.env) + 4 + 4);
  PutString(call.exe, out);
  PutList(call.argv, out);
  PutString(call.cwd, out);
  PutList(call.env, out);
  PutI32(call.pgid, out);
  PutU32(call.fd_count, out);
}

void PutPayload(const Signal& signal, std::string* out) {
  PutI32(signal.signo, out);
}

void PutPayload(const Decision& decision, std::string* out) {
  out->push_back(static_cast<char>(decision.verdict));
  PutI32(decision.exit_code, out);
  PutString(decision.message, out);
}

void PutPayload(const Exit& exit, std::string* out) {
  PutI32(exit.wait_status, out);
}

void PutPayload(const HookReport& report, std::string* out) {
  PutString(report.agent, out);
  PutString(report.tool, out);
  out->push_back(static_cast<char>(report.verdict));
  PutString(report.rule, out);
  PutString(report.reason, out);
  PutString(report.cwd, out);
  PutString(report.session, out);
  PutString(report.tool_use_id, out);
  PutString(report.command, out);
  PutString(report.path, out);
  out->push_back(static_cast<char>(report.access));
  PutString(report.url, out);
  PutString(report.host, out);
  PutU32(report.port, out);
  PutU32(static_cast<std::uint32_t>(report.parts.size()), out);
  for (const HookPart& part : report.parts) {
    PutString(part.what, out);
    out->push_back(static_cast<char>(part.verdict));
    PutString(part.rule, out);
    PutString(part.reason, out);
  }
}

void PutPayload(const HookAck& ack, std::string* out) {
  out->push_back(ack.recorded ? 1 : 0);
  PutString(ack.message, out);
}

// ---- Decoding ----

std::uint32_t LoadU32(const char* bytes) {
  std::uint32_t value = 0;
  for (int i = 3; i >= 0; --i) value = value << 8 | static_cast<unsigned char>(bytes[i]);
  return value;
}

// Reads one payload front to back. The first error sticks: every later read fails quietly, so
// the parsers below read a whole message and look at error() once at the end.
class PayloadReader {
 public:
  explicit PayloadReader(std::string_view payload) : rest_(payload) {}

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  std::size_t remaining() const { return rest_.size(); }
  void Fail(std::string error) {
    if (ok()) error_ = std::move(error);
  }

  std::uint32_t U32(std::string_view field) {
    if (!ok()) return 0;
    if (rest_.size() < 4) {
      Fail("truncated " + std::string(field));
      return 0;
    }
    std::uint32_t value = LoadU32(rest_.data());
    rest_.remove_prefix(4);
    return value;
  }

  std::int32_t I32(std::string_view field) { return static_cast<std::int32_t>(U32(field)); }

  std::uint8_t U8(std::string_view field) {
    if (!ok()) return 0;
    if (rest_.empty()) {
      Fail("truncated " + std::string(field));
      return 0;
    }
    std::uint8_t value = static_cast<unsigned char>(rest_[0]);
    rest_.remove_prefix(1);
    return value;
  }

  // `field` names the string in errors about its bytes ("NUL byte in argv[2]"); `container`
  // names where it sits in errors about its length ("truncated string in argv").
  std::string String(std::string_view field, std::string_view container, bool allow_nul) {
    if (!ok()) return {};
    if (rest_.size() < 4) {
      Fail("truncated string in " + std::string(container));
      return {};
    }
    std::uint32_t length = LoadU32(rest_.data());
    if (length > kMaxStringBytes) {
      Fail("string of " + std::to_string(length) + " bytes in " + std::string(field) + " exceeds " +
           std::to_string(kMaxStringBytes));
      return {};
    }
    if (rest_.size() - 4 < length) {  // checked before a byte is copied
      Fail("truncated string in " + std::string(container));
      return {};
    }
    std::string_view text = rest_.substr(4, length);
    if (!allow_nul && text.find('\0') != std::string_view::npos) {
      Fail("NUL byte in " + std::string(field));
      return {};
    }
    rest_.remove_prefix(4 + length);
    return std::string(text);
  }

  // A list of strings without NUL bytes, named `name` ("argv", "env").
  std::vector<std::string> List(std::string_view name) {
    std::uint32_t count = U32(std::string(name) + " count");
    if (!ok()) return {};
    if (count > kMaxListItems) {
      Fail(std::string(name) + " of " + std::to_string(count) + " entries exceeds " +
           std::to_string(kMaxListItems));
      return {};
    }
    // Each entry needs at least its length: a count the payload cannot hold is refused before
    // anything is reserved for it.
    if (count > remaining() / 4) {
      Fail("truncated " + std::string(name) + ": " + std::to_string(count) + " entries in " +
           std::to_string(remaining()) + " bytes");
      return {};
    }
    std::vector<std::string> items;
    items.reserve(count);
    for (std::uint32_t i = 0; i < count && ok(); ++i) {
      items.push_back(
          String(std::string(name) + "[" + std::to_string(i) + "]", name, /*allow_nul=*/false));
    }
    return items;
  }

  // The payload must be consumed exactly: one message, one encoding.
  void ExpectEnd(MessageType type) {
    if (ok() && !rest_.empty()) Fail(std::string("trailing bytes after ") + StructName(type));
  }

 private:
  std::string_view rest_;
  std::string error_;
};

bool IsAbsolute(const std::string& path) {
  return !path.empty() && path[0] == '/';
}

// What is wrong with a Call whose bytes were well formed, or empty.
std::string CheckCall(const Call& call) {
  if (call.argv.empty()) return "argv is empty";
  if (!IsAbsolute(call.exe)) return "exe is not an absolute path";
  if (!IsAbsolute(call.cwd)) return "cwd is not an absolute path";
  for (std::size_t i = 0; i < call.env.size(); ++i) {
    std::size_t equals = call.env[i].find('=');
    if (equals == std::string::npos) return "env[" + std::to_string(i) + "] has no '='";
    if (equals == 0) return "env[" + std::to_string(i) + "] has an empty name";
  }
  if (call.fd_count > kMaxCallFds) {
    return "fd_count " + std::to_string(call.fd_count) + " exceeds " + std::to_string(kMaxCallFds);
  }
  return {};
}

void ParseCall(PayloadReader* in, Call* call) {
  call->exe = in->String("exe", "exe", /*allow_nul=*/false);
  call->argv = in->List("argv");
  call->cwd = in->String("cwd", "cwd", /*allow_nul=*/false);
  call->env = in->List("env");
  call->pgid = in->I32("pgid");
  call->fd_count = in->U32("fd_count");
  in->ExpectEnd(MessageType::kCall);
  if (in->ok()) {
    if (std::string error = CheckCall(*call); !error.empty()) in->Fail(std::move(error));
  }
}

void ParseSignal(PayloadReader* in, Signal* signal) {
  signal->signo = in->I32("signo");
  in->ExpectEnd(MessageType::kSignal);
  if (in->ok() && (signal->signo < 1 || signal->signo > kMaxSignal)) {
    in->Fail("signal number " + std::to_string(signal->signo) + " is not in 1.." +
             std::to_string(kMaxSignal));
  }
}

void ParseDecision(PayloadReader* in, Decision* decision) {
  std::uint8_t verdict = in->U8("verdict");
  decision->exit_code = in->I32("exit_code");
  // The message is the supervisor's own text and any byte may be printed: NUL is not refused.
  decision->message = in->String("message", "message", /*allow_nul=*/true);
  in->ExpectEnd(MessageType::kDecision);
  if (!in->ok()) return;
  if (verdict != static_cast<std::uint8_t>(Verdict::kAllow) &&
      verdict != static_cast<std::uint8_t>(Verdict::kDeny)) {
    in->Fail("unknown verdict " + std::to_string(verdict));
    return;
  }
  decision->verdict = static_cast<Verdict>(verdict);
}

void ParseExit(PayloadReader* in, Exit* exit) {
  exit->wait_status = in->I32("wait_status");
  in->ExpectEnd(MessageType::kExit);
}

bool IsKnownHookVerdict(std::uint8_t verdict) {
  return verdict >= static_cast<std::uint8_t>(HookVerdict::kAllow) &&
         verdict <= static_cast<std::uint8_t>(HookVerdict::kDeny);
}

// What is wrong with a HookReport whose bytes were well formed, or empty.
std::string CheckHookReport(const HookReport& report) {
  if (report.agent.empty()) return "agent is empty";
  if (report.agent.size() > kMaxAgentBytes) {
    return "agent of " + std::to_string(report.agent.size()) + " bytes exceeds " +
           std::to_string(kMaxAgentBytes);
  }
  for (char c : report.agent) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
      return "agent is not a name of a-z, 0-9 and '-'";
  }
  if (!report.cwd.empty() && !IsAbsolute(report.cwd)) return "cwd is not an absolute path";
  if (!report.path.empty() && !IsAbsolute(report.path)) return "path is not an absolute path";
  if (report.port > 65535) return "port " + std::to_string(report.port) + " is not in 0..65535";
  return {};
}

void ParseHookReport(PayloadReader* in, HookReport* report) {
  // The agent is a name; every other string is the agent's own JSON text, NUL bytes and all.
  report->agent = in->String("agent", "agent", /*allow_nul=*/false);
  report->tool = in->String("tool", "tool", /*allow_nul=*/true);
  std::uint8_t verdict = in->U8("verdict");
  report->rule = in->String("rule", "rule", /*allow_nul=*/true);
  report->reason = in->String("reason", "reason", /*allow_nul=*/true);
  report->cwd = in->String("cwd", "cwd", /*allow_nul=*/true);
  report->session = in->String("session", "session", /*allow_nul=*/true);
  report->tool_use_id = in->String("tool_use_id", "tool_use_id", /*allow_nul=*/true);
  report->command = in->String("command", "command", /*allow_nul=*/true);
  report->path = in->String("path", "path", /*allow_nul=*/true);
  std::uint8_t access = in->U8("access");
  report->url = in->String("url", "url", /*allow_nul=*/true);
  report->host = in->String("host", "host", /*allow_nul=*/true);
  report->port = in->U32("port");
  std::uint32_t count = in->U32("parts count");
  if (!in->ok()) return;
  if (count > kMaxHookParts) {
    in->Fail("parts of " + std::to_string(count) + " entries exceeds " +
             std::to_string(kMaxHookParts));
    return;
  }
  // Each part needs at least its three lengths and its verdict.
  constexpr std::size_t kMinPart = 4 + 1 + 4 + 4;
  if (count > in->remaining() / kMinPart) {
    in->Fail("truncated parts: " + std::to_string(count) + " entries in " +
             std::to_string(in->remaining()) + " bytes");
    return;
  }
  std::vector<std::uint8_t> part_verdicts;
  report->parts.reserve(count);
  for (std::uint32_t i = 0; i < count && in->ok(); ++i) {
    const std::string at = "parts[" + std::to_string(i) + "]";
    HookPart& part = report->parts.emplace_back();
    part.what = in->String(at + ".what", "parts", /*allow_nul=*/true);
    part_verdicts.push_back(in->U8(at + ".verdict"));
    part.rule = in->String(at + ".rule", "parts", /*allow_nul=*/true);
    part.reason = in->String(at + ".reason", "parts", /*allow_nul=*/true);
  }
  in->ExpectEnd(MessageType::kHookReport);
  if (!in->ok()) return;
  if (!IsKnownHookVerdict(verdict)) {
    in->Fail("unknown verdict " + std::to_string(verdict));
    return;
  }
  report->verdict = static_cast<HookVerdict>(verdict);
  for (std::size_t i = 0; i < part_verdicts.size(); ++i) {
    if (!IsKnownHookVerdict(part_verdicts[i])) {
      in->Fail("unknown verdict " + std::to_string(part_verdicts[i]) + " in parts[" +
               std::to_string(i) + "]");
      return;
    }
    report->parts[i].verdict = static_cast<HookVerdict>(part_verdicts[i]);
  }
  if (access > static_cast<std::uint8_t>(HookAccess::kWrite)) {
    in->Fail("unknown access " + std::to_string(access));
    return;
  }
  report->access = static_cast<HookAccess>(access);
  if (std::string error = CheckHookReport(*report); !error.empty()) in->Fail(std::move(error));
}

void ParseHookAck(PayloadReader* in, HookAck* ack) {
  std::uint8_t recorded = in->U8("recorded");
  // The supervisor's own text, like a Decision's message.
  ack->message = in->String("message", "message", /*allow_nul=*/true);
  in->ExpectEnd(MessageType::kHookAck);
  if (!in->ok()) return;
  if (recorded > 1) {
    in->Fail("recorded is " + std::to_string(recorded) + ", not 0 or 1");
    return;
  }
  ack->recorded = recorded == 1;
}

DecodeResult Error(std::string error) {
  DecodeResult result;
  result.state = DecodeState::kError;
  result.error = std::move(error);
  return result;
}

// What the header bytes present so far already rule out, or empty.
std::string CheckHeader(std::string_view input) {
  std::string magic;
  PutU32(kMagic, &magic);
  std::size_t magic_bytes = input.size() < 4 ? input.size() : 4;
  if (input.substr(0, magic_bytes) != std::string_view(magic).substr(0, magic_bytes))
    return "bad magic";
  if (input.size() < 8) return {};
  std::uint32_t type = LoadU32(input.data() + 4);
  if (!IsKnownType(type)) return "unknown message type " + std::to_string(type);
  if (input.size() < kHeaderSize) return {};
  std::size_t length = LoadU32(input.data() + 8);
  if (length > kMaxPayload) {
    return "payload of " + std::to_string(length) + " bytes exceeds " + std::to_string(kMaxPayload);
  }
  MessageType message_type = static_cast<MessageType>(type);
  std::size_t max = MaxPayloadOf(message_type);
  if (length > max) {
    if (message_type == MessageType::kSignal || message_type == MessageType::kExit)
      return std::string("trailing bytes after ") + StructName(message_type);
    return "payload of " + std::to_string(length) + " bytes exceeds " + std::to_string(max) +
           " for " + StructName(message_type);
  }
  return {};
}

}  // namespace

std::string Encode(const Message& message) {
  std::string frame;
  frame.reserve(kHeaderSize + 16);
  PutU32(kMagic, &frame);
  PutU32(static_cast<std::uint32_t>(TypeOf(message)), &frame);
  PutU32(0, &frame);  // the payload length, filled in below
  std::visit([&frame](const auto& m) { PutPayload(m, &frame); }, message);
  std::uint32_t length = static_cast<std::uint32_t>(frame.size() - kHeaderSize);
  for (std::size_t i = 0; i < 4; ++i) frame[8 + i] = static_cast<char>(length >> (8 * i));
  return frame;
}

DecodeResult Decode(std::string_view input) {
  if (std::string error = CheckHeader(input); !error.empty()) return Error(std::move(error));
  if (input.size() < kHeaderSize) return {};
  MessageType type = static_cast<MessageType>(LoadU32(input.data() + 4));
  std::size_t length = LoadU32(input.data() + 8);
  if (input.size() - kHeaderSize < length) return {};

  PayloadReader in(input.substr(kHeaderSize, length));
  DecodeResult result;
  switch (type) {
    case MessageType::kCall:
      ParseCall(&in, &result.message.emplace<Call>());
      break;
    case MessageType::kSignal:
      ParseSignal(&in, &result.message.emplace<Signal>());
      break;
    case MessageType::kDecision:
      ParseDecision(&in, &result.message.emplace<Decision>());
      break;
    case MessageType::kExit:
      ParseExit(&in, &result.message.emplace<Exit>());
      break;
    case MessageType::kHookReport:
      ParseHookReport(&in, &result.message.emplace<HookReport>());
      break;
    case MessageType::kHookAck:
      ParseHookAck(&in, &result.message.emplace<HookAck>());
      break;
  }
  if (!in.ok()) return Error(in.error());
  result.state = DecodeState::kMessage;
  result.consumed = kHeaderSize + length;
  return result;
}

}  // namespace tollgate::shim_protocol
