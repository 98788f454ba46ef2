// The capability profile: what a sandboxed command may see, write, execute, reach and consume.
//
// A Profile is the validated, merged (after `extends`) form of the JSON files in profiles/.
// Paths still hold their placeholders ({workspace}, {home}, {tmp}, {cache}); they are expanded
// when plans are compiled, so one profile serves every workspace.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "policy/net_examples.h"
#include "policy/net_rules.h"
#include "policy/profile_types.h"
#include "policy/tool_rules.h"

namespace tollgate::policy {

enum class HomeMode {
  kEmpty,  // a private, empty, writable tmpfs at {home}: tools find a home, secrets stay out
  kNone,   // {home} is not created at all
};

struct FilesystemSpec {
  std::vector<PathEntry> read;     // visible, read-only
  std::vector<PathEntry> write;    // visible, writable
  std::vector<PathEntry> exec;     // execution allowed (everything else is mounted noexec)
  std::vector<PathEntry> hide;     // never visible, even under a readable tree
  std::vector<PathEntry> protect;  // read-only even under a writable tree, even when absent
  // Writable places inside the workspace that stay writable when a task's scope narrows it
  // (build outputs, caches, the git directory); without a scope they change nothing.
  std::vector<PathEntry> scratch;
  std::optional<std::uint64_t> tmp_size;  // bytes; the sandbox's /tmp tmpfs
  std::optional<HomeMode> home;
};

// A host pattern of network.allow or network.deny, and where it was written.
struct HostRule {
  HostPattern pattern;
  SourceRef where;
};

// Bounds on the proxy's clients (network mode proxy); unset fields take the defaults of
// NetworkPlan.
struct ProxyLimitsSpec {
  std::optional<std::uint64_t> connections;      // open client connections at once
  std::optional<std::uint64_t> idle_seconds;     // a connection with no traffic either way
  std::optional<std::uint64_t> header_seconds;   // to send a whole request head (slow-loris)
  std::optional<std::uint64_t> header_bytes;     // the largest request head
  std::optional<std::uint64_t> connect_seconds;  // to resolve and connect upstream
};

struct NetworkSpec {
  std::optional<NetworkMode> mode;
  std::vector<HostRule> allow;     // what the proxy may connect to (mode proxy)
  std::vector<HostRule> deny;      // never, even when allowed
  std::vector<PathEntry> sockets;  // host unix sockets made reachable, by path
  ProxyLimitsSpec limits;
};

struct SyscallSpec {
  std::vector<std::string> deny;   // names and @groups denied on top of the default set
  std::vector<std::string> allow;  // names and @groups taken out of the denied set
  std::vector<std::string> log;    // names and @groups whose denials are logged (used by the audit)
  std::optional<int> errno_value;  // errno returned for denied calls (default EPERM)
};

struct LimitsSpec {
  std::optional<std::uint64_t> memory;        // bytes
  std::optional<std::uint64_t> processes;     // count
  std::optional<std::uint64_t> cpu_seconds;   // seconds of CPU time
  std::optional<std::uint64_t> wall_seconds;  // seconds of wall-clock time
  std::optional<std::uint64_t> file_size;     // bytes
  std::optional<std::uint64_t> open_files;    // count
};

struct EnvSpec {
  std::vector<std::string> keep;           // names or glob patterns taken from the host
  std::map<std::string, std::string> set;  // name -> value (placeholders allowed)
  std::vector<std::string> drop;           // glob patterns removed (on top of the default drops)
};

// A workspace-relative glob of the evidence section ("build/test-results/**/*.xml"): segments
// with '*', '?' and '[...]', and "**" as a whole segment for any number of directories.
struct EvidencePattern {
  std::string glob;
  SourceRef where;
};

// What a run leaves in the workspace that the supervisor collects after it, outside the sandbox.
struct EvidenceSpec {
  std::vector<EvidencePattern> test_results;  // test reports (JUnit XML, CTest's log, TAP): parsed
  std::vector<EvidencePattern> artifacts;     // build outputs: hashed
};

// The `mcp` section: what `tollgate mcp` lets an agent do with an MCP server's tools
// (docs/MCP.md; decided by policy/mcp_rules.h). Tool names are globs ('*', '?', '[...]').
struct McpToolPattern {
  std::string glob;
  SourceRef where;
};

struct McpSpec {
  std::optional<bool> default_allow;  // a tool no list names: allowed (the default) or denied
  std::optional<std::string> why;     // the default's justification, shown when it denies
  std::vector<McpToolPattern> allow;  // tools.allow
  std::vector<McpToolPattern> deny;   // tools.deny: wins over allow
  // Added to the built-in lists: argument names that hold paths, and tools whose path
  // arguments are written (the others' are read).
  std::vector<std::string> path_arguments;
  std::vector<McpToolPattern> write_tools;
};

struct Profile {
  std::string name;
  std::string description;
  std::vector<std::string> extends;  // as written; already merged into the fields below
  std::string source_file;           // absolute path of the file this profile was loaded from
  FilesystemSpec filesystem;
  NetworkSpec network;
  SyscallSpec syscalls;
  LimitsSpec limits;
  EnvSpec env;
  EvidenceSpec evidence;
  McpSpec mcp;
  std::map<std::string, ToolSpec> tools;  // by tool name; a child's entry replaces its parent's
  std::vector<ToolExample> examples;      // this file's own; checked when the profile loads
  std::vector<NetworkExample> network_examples;  // likewise: {"connect": …} examples
};

}  // namespace tollgate::policy
