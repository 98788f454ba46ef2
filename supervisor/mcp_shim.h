// The MCP stdio shim (`tollgate mcp`, docs/MCP.md): relays newline-delimited JSON-RPC 2.0
// between an MCP client (the agent, on tollgate's stdin/stdout) and an MCP server running in a
// sandbox (on pipes), and inspects what passes:
//
//   client -> server  tools/call   decided (policy/mcp_rules.h) and recorded; a refused call is
//                                  answered with a JSON-RPC error and never reaches the server
//                     tools/list   its id is remembered, to recognise the response
//                     anything else that is well-formed: passed on
//   server -> client  the response to a remembered tools/list: denied tools removed, recorded
//                     anything else that is well-formed: passed on
//
// Malformed input fails closed: from the client, a line that is not one JSON-RPC 2.0 object (or
// is over the size bound) is answered with an error and dropped; from the server, it is dropped
// and recorded. McpRelay is the pure part (one line in, what to send and record out); RunMcpRelay
// moves the bytes.
#pragma once

#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "policy/plans.h"
#include "policy/profile.h"
#include "supervisor/audit/record.h"

namespace tollgate {

// The longest message relayed either way, without its newline.
inline constexpr std::size_t kDefaultMcpMessageBytes = 16u << 20;

// JSON-RPC error codes tollgate answers with (docs/MCP.md).
inline constexpr int kJsonRpcParseError = -32700;
inline constexpr int kJsonRpcInvalidRequest = -32600;
inline constexpr int kJsonRpcInvalidParams = -32602;
inline constexpr int kJsonRpcInternalError = -32603;
inline constexpr int kMcpRefusedByPolicy = -32010;  // the profile refused the call
inline constexpr int kMcpAuditFailed = -32011;      // the call could not be recorded

inline constexpr std::string_view kKindMcpCall = "mcp.call";

struct McpRelayOptions {
  const policy::McpSpec* spec = nullptr;      // not owned
  const policy::SandboxPlan* plan = nullptr;  // not owned: the mount plan paths are checked on
  std::string profile;                        // named in refusals
  std::size_t max_message_bytes = kDefaultMcpMessageBytes;
  // Writes one record; false when it could not be written (the action is then refused and the
  // session ends).
  std::function<bool(const audit::Event&)> record;
};

// What one message leads to. Lines are without their newline.
struct RelayAction {
  std::optional<std::string> forward;  // to the other side
  std::optional<std::string> reply;    // back to the client (only for client messages)
  std::string note;                    // a diagnostic for tollgate's stderr, or empty
  bool end_session = false;            // the audit log failed: stop relaying
};

class McpRelay {
 public:
  explicit McpRelay(McpRelayOptions options);

  // Each called from one thread per direction; they share the pending tools/list ids.
  RelayAction FromClient(std::string_view line);
  RelayAction FromServer(std::string_view line);
  // A line longer than max_message_bytes (`bytes` read before giving up on it).
  RelayAction ClientOversized(std::size_t bytes);
  RelayAction ServerOversized(std::size_t bytes);

  std::size_t max_message_bytes() const { return options_.max_message_bytes; }
  bool audit_failed() const;

 private:
  RelayAction ToolsCall(const nlohmann::json& message, const std::string& id_key);
  RelayAction ToolsListResult(nlohmann::json message, const std::string& id_key);
  // Writes `event`; on failure sets `action` to refuse and end the session.
  bool Record(const audit::Event& event, RelayAction* action);
  std::string Refusal(const nlohmann::json& id, int code, const std::string& message,
                      nlohmann::json data = nullptr) const;

  McpRelayOptions options_;
  mutable std::mutex mutex_;
  // The ids (canonical JSON) of the session's tools/list requests, and those answered.
  std::set<std::string> pending_lists_;
  std::set<std::string> answered_lists_;
  bool audit_failed_ = false;
};

// Relays until the server's side closes (or the client's output fails), then returns; the
// client's end of input closes the server's input. Both directions run at once (one thread
// each). The fds are not closed, but for server_in once the client is done. Returns false when
// the audit log failed.
bool RunMcpRelay(McpRelay& relay, int client_in, int client_out, int server_in, int server_out);

}  // namespace tollgate
