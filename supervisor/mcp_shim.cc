#include "supervisor/mcp_shim.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <thread>

#include "policy/mcp_rules.h"

namespace tollgate {

namespace {

using Json = nlohmann::json;

// Deeper messages are refused before they are parsed: every consumer (the parser's callers,
// dump(), the path search) stays far from the stack's end. MCP messages nest a handful of levels.
constexpr int kMaxNesting = 64;
// What a record keeps of a call's arguments.
constexpr std::size_t kRecordedArgumentBytes = 2048;
constexpr std::size_t kRecordedPaths = 32;
constexpr std::size_t kRecordedRemovedTools = 256;
// tools/list ids a session may use; the ids are remembered for the whole session.
constexpr std::size_t kMaxToolListIds = 65536;

bool IsBlank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

// The deepest nesting of arrays and objects, outside strings; stops counting past `limit`.
int NestingDepth(std::string_view text, int limit) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) return deepest;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

std::string Dump(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// A request id MCP allows: a string or an integer.
bool IsValidId(const Json& id) {
  return id.is_string() || id.is_number_integer() || id.is_number_unsigned();
}

audit::Event McpEvent(audit::Verdict verdict, std::string rule, std::string reason,
                      std::string_view method, std::string_view from) {
  audit::Event event;
  event.kind = std::string(kKindMcpCall);
  event.verdict = verdict;
  event.rule = std::move(rule);
  event.reason = std::move(reason);
  event.details["method"] = event.strings.String(method, "details.method");
  event.details["from"] = std::string(from);
  return event;
}

}  // namespace

McpRelay::McpRelay(McpRelayOptions options) : options_(std::move(options)) {}

bool McpRelay::audit_failed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return audit_failed_;
}

bool McpRelay::Record(const audit::Event& event, RelayAction* action) {
  if (!options_.record || options_.record(event)) return true;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    audit_failed_ = true;
  }
  action->end_session = true;
  action->forward.reset();
  action->note = "the audit log could not be written: the session ends";
  return false;
}

std::string McpRelay::Refusal(const Json& id, int code, const std::string& message,
                              Json data) const {
  Json error = {{"code", code}, {"message", message}};
  if (!data.is_null()) error["data"] = std::move(data);
  return Dump(Json{
      {"jsonrpc", "2.0"}, {"id", IsValidId(id) ? id : Json(nullptr)}, {"error", std::move(error)}});
}

RelayAction McpRelay::FromClient(std::string_view line) {
  RelayAction action;
  if (IsBlank(line)) return action;
  auto malformed = [&](const Json& id, int code, const std::string& why) {
    audit::Event event =
        McpEvent(audit::Verdict::kDeny, "mcp.malformed", "from the client: " + why, "", "client");
    event.details["bytes"] = line.size();
    if (!Record(event, &action)) {
      action.reply = Refusal(id, kMcpAuditFailed, "tollgate: the audit log could not be written");
      return action;
    }
    action.reply = Refusal(id, code, "tollgate: " + why);
    return action;
  };
  if (NestingDepth(line, kMaxNesting) > kMaxNesting) {
    return malformed(nullptr, kJsonRpcInvalidRequest,
                     "message nested deeper than " + std::to_string(kMaxNesting) + " levels");
  }
  Json message = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (message.is_discarded()) return malformed(nullptr, kJsonRpcParseError, "not JSON");
  if (message.is_array()) {
    return malformed(nullptr, kJsonRpcInvalidRequest,
                     "JSON-RPC batches are not relayed (MCP 2025-06-18 has none); send each "
                     "message on its own line");
  }
  if (!message.is_object()) return malformed(nullptr, kJsonRpcInvalidRequest, "not an object");
  const Json id = message.contains("id") ? message["id"] : Json(nullptr);
  if (message.value("jsonrpc", Json()) != "2.0")
    return malformed(id, kJsonRpcInvalidRequest, "\"jsonrpc\": \"2.0\" is missing");

  if (!message.contains("method")) {
    // A response to one of the server's requests (roots/list, sampling…): passed on as written.
    if (message.contains("result") || message.contains("error")) {
      action.forward = std::string(line);
      return action;
    }
    return malformed(id, kJsonRpcInvalidRequest,
                     "neither a request, a notification nor a response");
  }
  if (!message["method"].is_string())
    return malformed(id, kJsonRpcInvalidRequest, "\"method\" is not a string");
  const std::string method = message["method"].get<std::string>();

  if (!message.contains("id")) {
    // A notification: no answer is possible. A tools/call without an id is not a call.
    if (method == "tools/call")
      return malformed(nullptr, kJsonRpcInvalidRequest, "tools/call without an id");
    action.forward = Dump(message);
    return action;
  }
  if (!IsValidId(id))
    return malformed(nullptr, kJsonRpcInvalidRequest, "a request id must be a string or integer");
  const std::string id_key = Dump(id);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (pending_lists_.count(id_key) != 0) {
      action.reply = Refusal(id, kJsonRpcInvalidRequest,
                             "tollgate: request id " + id_key +
                                 " was already used by a tools/list request of this session");
      return action;
    }
    if (method == "tools/list") {
      if (pending_lists_.size() >= kMaxToolListIds) {
        action.reply = Refusal(id, kJsonRpcInternalError,
                               "tollgate: too many tools/list requests in this session");
        return action;
      }
      pending_lists_.insert(id_key);
    }
  }
  if (method == "tools/call") return ToolsCall(message, id_key);
  // Passed on as parsed: the server reads exactly what was inspected.
  action.forward = Dump(message);
  return action;
}

RelayAction McpRelay::ToolsCall(const Json& message, const std::string& id_key) {
  RelayAction action;
  const Json& id = message["id"];
  const Json params = message.value("params", Json());
  std::string tool;
  Json arguments;
  std::string problem;
  if (!params.is_object()) {
    problem = "tools/call needs params with the tool's name";
  } else if (!params.contains("name") || !params["name"].is_string()) {
    problem = "tools/call needs params.name, the tool's name, as a string";
  } else {
    tool = params["name"].get<std::string>();
    if (params.contains("arguments")) arguments = params["arguments"];
  }
  policy::McpDecision decision;
  if (problem.empty()) {
    decision = policy::DecideMcpCall(*options_.spec, *options_.plan, tool, arguments);
  } else {
    decision.rule = "mcp.malformed";
    decision.reason = problem;
  }

  audit::Event event = McpEvent(decision.allowed ? audit::Verdict::kAllow : audit::Verdict::kDeny,
                                decision.rule, decision.reason, "tools/call", "client");
  event.details["id"] = event.strings.String(id_key, "details.id", 256);
  event.details["tool"] = event.strings.String(tool, "details.tool", 256);
  if (!arguments.is_null()) {
    event.details["arguments"] =
        event.strings.String(Dump(arguments), "details.arguments", kRecordedArgumentBytes);
  }
  if (!decision.paths.empty()) {
    Json paths = Json::array();
    for (std::size_t i = 0; i < decision.paths.size() && i < kRecordedPaths; ++i) {
      const policy::McpPathArgument& p = decision.paths[i];
      const std::string at = "details.paths." + std::to_string(i);
      paths.push_back({{"argument", event.strings.String(p.argument, at + ".argument", 256)},
                       {"path", event.strings.String(p.path, at + ".path")},
                       {"access", policy::FileAccessName(p.access)}});
    }
    event.details["paths"] = std::move(paths);
  }
  if (!Record(event, &action)) {
    action.reply =
        Refusal(id, kMcpAuditFailed, "tollgate: refused: the audit log could not be written");
    return action;
  }
  if (decision.allowed) {
    action.forward = Dump(message);
    return action;
  }
  if (!problem.empty()) {
    action.reply = Refusal(id, kJsonRpcInvalidParams, "tollgate: " + problem);
    return action;
  }
  const std::string shown = tool.size() > 128 ? tool.substr(0, 128) + "…" : tool;
  action.reply = Refusal(id, kMcpRefusedByPolicy,
                         "tollgate: MCP tool " + shown + " denied by rule " + decision.rule +
                             " of profile " + options_.profile + ": " + decision.reason,
                         Json{{"tollgate",
                               {{"verdict", "deny"},
                                {"tool", shown},
                                {"rule", decision.rule},
                                {"reason", decision.reason},
                                {"profile", options_.profile}}}});
  return action;
}

RelayAction McpRelay::FromServer(std::string_view line) {
  RelayAction action;
  if (IsBlank(line)) return action;
  auto drop = [&](const std::string& why) {
    audit::Event event =
        McpEvent(audit::Verdict::kDeny, "mcp.malformed", "from the server: " + why, "", "server");
    event.details["bytes"] = line.size();
    Record(event, &action);
    if (action.note.empty()) action.note = "dropped a message from the MCP server: " + why;
    return action;
  };
  if (NestingDepth(line, kMaxNesting) > kMaxNesting)
    return drop("nested deeper than " + std::to_string(kMaxNesting) + " levels");
  Json message = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (message.is_discarded()) return drop("not JSON");
  if (!message.is_object()) return drop(message.is_array() ? "a batch" : "not an object");
  if (!message.contains("method") && message.contains("id")) {
    const std::string id_key = Dump(message["id"]);
    bool is_list = false, answered_before = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (pending_lists_.count(id_key) != 0) {
        is_list = true;
        // The id stays known for the session: a second answer to it is dropped.
        answered_before = !answered_lists_.insert(id_key).second;
      }
    }
    if (answered_before) return drop("a second response to tools/list " + id_key);
    if (is_list) return ToolsListResult(std::move(message), id_key);
  }
  action.forward = std::string(line);
  return action;
}

RelayAction McpRelay::ToolsListResult(Json message, const std::string& id_key) {
  RelayAction action;
  if (!message.contains("result")) {
    // An error response: nothing to filter.
    action.forward = Dump(message);
    return action;
  }
  Json& result = message["result"];
  if (!result.is_object() || !result.contains("tools") || !result["tools"].is_array()) {
    audit::Event event =
        McpEvent(audit::Verdict::kDeny, "mcp.malformed",
                 "the server's tools/list result has no tools array", "tools/list", "server");
    event.details["id"] = event.strings.String(id_key, "details.id", 256);
    if (!Record(event, &action)) return action;
    action.forward = Refusal(message["id"], kJsonRpcInternalError,
                             "tollgate: the server's tools/list result has no tools array; it "
                             "was not relayed");
    return action;
  }
  Json kept = Json::array();
  std::vector<std::string> removed;
  for (Json& tool : result["tools"]) {
    if (!tool.is_object() || !tool.contains("name") || !tool["name"].is_string()) {
      removed.push_back("(a tool without a name)");
      continue;
    }
    const std::string name = tool["name"].get<std::string>();
    if (policy::DecideMcpTool(*options_.spec, name).allowed) {
      kept.push_back(std::move(tool));
    } else {
      removed.push_back(name);
    }
  }
  const std::size_t listed = result["tools"].size();
  result["tools"] = std::move(kept);

  std::string reason;
  if (!removed.empty()) {
    reason = "removed " + std::to_string(removed.size()) + " of " + std::to_string(listed) +
             " tools the profile denies";
  }
  audit::Event event =
      McpEvent(audit::Verdict::kAllow, "mcp.tools", reason, "tools/list", "server");
  event.details["id"] = event.strings.String(id_key, "details.id", 256);
  event.details["listed"] = listed;
  event.details["kept"] = listed - removed.size();
  if (removed.size() > kRecordedRemovedTools) removed.resize(kRecordedRemovedTools);
  event.details["removed"] = event.strings.StringArray(removed, "details.removed");
  if (!Record(event, &action)) return action;
  action.forward = Dump(message);
  return action;
}

RelayAction McpRelay::ClientOversized(std::size_t bytes) {
  RelayAction action;
  const std::string why = "a message of more than " + std::to_string(options_.max_message_bytes) +
                          " bytes (tollgate mcp --max-message)";
  audit::Event event =
      McpEvent(audit::Verdict::kDeny, "mcp.size", "from the client: " + why, "", "client");
  event.details["bytes"] = bytes;
  if (!Record(event, &action)) {
    action.reply =
        Refusal(nullptr, kMcpAuditFailed, "tollgate: the audit log could not be written");
    return action;
  }
  action.reply = Refusal(nullptr, kJsonRpcInvalidRequest, "tollgate: " + why + " was dropped");
  return action;
}

RelayAction McpRelay::ServerOversized(std::size_t bytes) {
  RelayAction action;
  const std::string why = "a message of more than " + std::to_string(options_.max_message_bytes) +
                          " bytes (tollgate mcp --max-message)";
  audit::Event event =
      McpEvent(audit::Verdict::kDeny, "mcp.size", "from the server: " + why, "", "server");
  event.details["bytes"] = bytes;
  Record(event, &action);
  if (action.note.empty()) action.note = "dropped " + why + " from the MCP server";
  return action;
}

// ---------------------------------------------------------------- moving the bytes

namespace {

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Newline-delimited messages from one fd, each at most `max` bytes (a longer one is skipped to
// its newline and reported with its size).
class LineReader {
 public:
  enum class Result { kLine, kOversized, kEnd };
  LineReader(int fd, std::size_t max, int stop_fd = -1) : fd_(fd), max_(max), stop_fd_(stop_fd) {}

  Result Next(std::string* line, std::size_t* oversized_bytes) {
    for (;;) {
      const std::size_t newline = buffer_.find('\n', scanned_);
      if (newline != std::string::npos) {
        if (skipping_) {
          *oversized_bytes = skipped_ + newline;
          buffer_.erase(0, newline + 1);
          scanned_ = 0;
          skipping_ = false;
          skipped_ = 0;
          return Result::kOversized;
        }
        if (newline > max_) {
          *oversized_bytes = newline;
          buffer_.erase(0, newline + 1);
          scanned_ = 0;
          return Result::kOversized;
        }
        line->assign(buffer_, 0, newline);
        buffer_.erase(0, newline + 1);
        scanned_ = 0;
        return Result::kLine;
      }
      scanned_ = buffer_.size();
      if (!skipping_ && buffer_.size() > max_) {
        skipping_ = true;
        skipped_ = buffer_.size();
        buffer_.clear();
        scanned_ = 0;
      } else if (skipping_) {
        skipped_ += buffer_.size();
        buffer_.clear();
        scanned_ = 0;
      }
      if (!Fill()) {
        // The end: a last message without its newline still counts.
        if (skipping_) {
          *oversized_bytes = skipped_ + buffer_.size();
          skipping_ = false;
          buffer_.clear();
          return Result::kOversized;
        }
        if (!buffer_.empty()) {
          line->swap(buffer_);
          buffer_.clear();
          scanned_ = 0;
          return Result::kLine;
        }
        return Result::kEnd;
      }
    }
  }

 private:
  bool Fill() {
    if (stop_fd_ >= 0) {
      pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
      for (;;) {
        int n = ::poll(fds, 2, -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return false;
        if (fds[1].revents != 0) return false;
        if (fds[0].revents != 0) break;
      }
    }
    char chunk[65536];
    for (;;) {
      ssize_t n = ::read(fd_, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      buffer_.append(chunk, static_cast<std::size_t>(n));
      return true;
    }
  }

  int fd_;
  std::size_t max_;
  int stop_fd_;
  std::string buffer_;
  std::size_t scanned_ = 0;  // no newline before this offset
  bool skipping_ = false;    // inside an oversized message
  std::size_t skipped_ = 0;
};

}  // namespace

bool RunMcpRelay(McpRelay& relay, int client_in, int client_out, int server_in, int server_out) {
  std::mutex client_out_mutex, stderr_mutex;
  auto to_client = [&](const std::string& line) {
    std::lock_guard<std::mutex> lock(client_out_mutex);
    return WriteAll(client_out, line + "\n");
  };
  auto note = [&](const std::string& text) {
    if (text.empty()) return;
    std::lock_guard<std::mutex> lock(stderr_mutex);
    (void)WriteAll(STDERR_FILENO, "tollgate: mcp: " + text + "\n");
  };
  int stop[2];
  if (::pipe2(stop, O_CLOEXEC) != 0) return !relay.audit_failed();

  std::thread client_side([&] {
    LineReader reader(client_in, relay.max_message_bytes(), stop[0]);
    std::string line;
    std::size_t size = 0;
    for (;;) {
      LineReader::Result got = reader.Next(&line, &size);
      if (got == LineReader::Result::kEnd) break;
      RelayAction action = got == LineReader::Result::kOversized ? relay.ClientOversized(size)
                                                                 : relay.FromClient(line);
      note(action.note);
      if (action.forward && !WriteAll(server_in, *action.forward + "\n")) break;
      if (action.reply) to_client(*action.reply);
      if (action.end_session) break;
    }
    // The server sees the end of its input, and ends.
    ::close(server_in);
  });

  LineReader reader(server_out, relay.max_message_bytes());
  std::string line;
  std::size_t size = 0;
  for (;;) {
    LineReader::Result got = reader.Next(&line, &size);
    if (got == LineReader::Result::kEnd) break;
    RelayAction action = got == LineReader::Result::kOversized ? relay.ServerOversized(size)
                                                               : relay.FromServer(line);
    note(action.note);
    if (action.forward && !to_client(*action.forward)) break;
    if (action.end_session) break;
  }
  (void)WriteAll(stop[1], "x");
  client_side.join();
  ::close(stop[0]);
  ::close(stop[1]);
  return !relay.audit_failed();
}

}  // namespace tollgate
