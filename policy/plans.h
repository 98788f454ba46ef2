// Plans: a profile compiled for one launch, as plain data.
//
// The supervisor's kernel layer applies each plan in order and does nothing a plan does not say;
// `tollgate explain` prints them; unit tests assert on them without a kernel. Compiling is
// deterministic: the same profile and PlanContext always give the same SandboxPlan.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policy/tool_rules.h"

#include "policy/profile.h"

namespace tollgate::policy {

// Facts about the launch that the (pure) compiler needs. The supervisor gathers them.
struct PlanContext {
  std::string workspace;        // canonical (symlinks resolved) absolute path
  std::string workspace_alias;  // the path as given, when it differs (a symlink); else empty
  std::string home;             // the invoking user's home on the host
  std::string cache;            // $XDG_CACHE_HOME or {home}/.cache
  std::string tmp = "/tmp";     // the sandbox's private tmp
  std::string git_dir;          // for a git worktree: its git dir (from the .git file); else empty
  std::string git_common_dir;   // for a git worktree: the repository's common dir; else empty
  std::map<std::string, std::string> host_env;  // the supervisor's environment
  // The supervisor's own state (the audit log): hidden wherever the view would show it.
  std::vector<std::string> supervisor_private;
};

// ---------------------------------------------------------------- mount plan

enum class MountOpKind {
  kTmpfs,         // a fresh tmpfs at target (size, mode); writable unless read_only
  kBind,          // bind host `source` at `target`; a source that is a symlink is mirrored as one
  kProc,          // a new procfs at target
  kDevpts,        // a new devpts instance at target (ptmxmode 0666)
  kSymlink,       // create symlink `target` -> `source`
  kReadOnly,      // re-bind `target` (already in the new root) read-only onto itself
  kPin,           // bind a directory of a writable tree onto itself so it cannot be renamed away
  kProtect,       // make `target` read-only; if absent, create a placeholder and mount it read-only
  kHide,          // cover `target` with an empty, unreadable, read-only file or directory
  kRootReadOnly,  // finally make the new root's own tmpfs read-only
  kShim,          // keep the file at `target` open (the real tool), then bind host `source` over it
};

struct MountOp {
  MountOpKind kind = MountOpKind::kBind;
  std::string source;  // host path (kBind), link content (kSymlink); else empty
  std::string target;  // absolute path inside the sandbox
  // kBind: a host directory (the canonical workspace) that `source` lies strictly below, and
  // below which no symlink is followed: the agent wrote that tree in earlier runs. `beneath`
  // itself is resolved as the supervisor named it; empty for host paths the profile chose.
  std::string beneath;
  bool writable = false;
  bool exec = false;      // false: mounted noexec
  bool device = false;    // true: device nodes allowed (only the /dev node binds); else nodev
  bool optional = false;  // true: a missing source is skipped (reported), not an error
  // kProtect: an absent path in a host tree is covered by an empty read-only file rather than a
  // directory (a config file outside the workspace that a program reads when it exists).
  bool file = false;
  std::optional<std::uint64_t> size;  // kTmpfs: bytes
  std::uint32_t mode = 0755;          // kTmpfs: root directory mode
  std::string why;                    // the profile entry or default that asked for it
};

struct MountPlan {
  std::vector<MountOp> ops;  // applied in this order; parents always come before children
};

// ---------------------------------------------------------------- seccomp plan

enum class ArgCompare { kEq, kNe, kLt, kLe, kGt, kGe, kMaskedEq };

struct ArgCondition {
  unsigned index = 0;  // argument number, 0-5
  ArgCompare op = ArgCompare::kEq;
  std::uint64_t value = 0;
  std::uint64_t mask = 0;  // kMaskedEq: (arg & mask) == value
  bool low32 = false;      // compare only the low 32 bits (the kernel reads an int)
};

enum class SeccompActionKind { kErrno, kKillProcess, kLog, kNotify };

struct SeccompAction {
  SeccompActionKind kind = SeccompActionKind::kErrno;
  int errno_value = 1;  // kErrno
  bool operator==(const SeccompAction&) const = default;
};

struct SeccompRule {
  std::string syscall;  // name as libseccomp knows it
  SeccompAction action;
  std::vector<ArgCondition> conditions;  // all must hold (AND)
  std::string group;                     // "@debug", or empty for a name written directly
  std::string why;                       // one line for explain and for the audit record
  // False for a compatibility answer rather than a denial (clone3's ENOSYS, which libc meets on
  // every thread it starts): the observer does not record it.
  bool recorded = true;
};

struct SeccompPlan {
  // Calls not matched by a rule are allowed: the filter is a deny list over the native ABI.
  std::vector<SeccompRule> rules;  // sorted by syscall name, then by conditions
  // Syscalls made through another ABI (i386 via int 0x80, x32 numbers) get this action.
  SeccompAction foreign_abi_action{SeccompActionKind::kErrno, 38 /* ENOSYS */};
  std::vector<std::string> logged;  // syscall names whose denials the audit log records
};

// ---------------------------------------------------------------- Landlock plan

// Access rights in the words of the profile; the kernel layer maps them onto the ABI it finds.
enum LandlockAccess : std::uint32_t {
  kLandlockRead = 1u << 0,             // read files, list directories
  kLandlockWrite = 1u << 1,            // create, remove, rename, write, truncate
  kLandlockExecute = 1u << 2,          // execute files
  kLandlockDevice = 1u << 3,           // ioctl on device files (ABI 5)
  kLandlockListDirectories = 1u << 4,  // list directories only (no file contents)
};

enum class LandlockMode { kBestEffort, kRequire, kOff };
// "best-effort", "require", "off" (the command line's words), and back; anything else is
// best-effort (the command line accepts only those three).
const char* LandlockModeName(LandlockMode mode);
LandlockMode ParseLandlockMode(std::string_view text);

struct LandlockRule {
  std::string path;  // inside the sandbox (after pivot_root)
  std::uint32_t access = 0;
  std::string why;
};

struct LandlockPlan {
  LandlockMode mode = LandlockMode::kBestEffort;
  std::vector<LandlockRule> rules;  // sorted by path
  bool deny_tcp = false;            // ABI 4: no TCP bind or connect at all
  bool scope_abstract_unix = true;  // ABI 6: no abstract unix sockets outside the sandbox
  bool scope_signals = true;        // ABI 6: no signals to processes outside the sandbox
};

// ---------------------------------------------------------------- limits plan

enum class LimitKind {
  kMemory,
  kProcesses,
  kCpuSeconds,
  kWallSeconds,
  kFileSize,
  kOpenFiles,
  kTmpfs
};

const char* LimitName(LimitKind kind);  // "memory", "processes", …

struct Limit {
  LimitKind kind;
  std::uint64_t value;
  std::string why;
};

struct LimitsPlan {
  std::vector<Limit> limits;      // in LimitKind order, each kind at most once
  bool require_enforced = false;  // --require-limits: refuse to run if one cannot be enforced
  std::optional<std::uint64_t> Get(LimitKind kind) const;
};

// ---------------------------------------------------------------- environment plan

struct EnvPlan {
  std::vector<std::pair<std::string, std::string>> vars;  // the sandbox's environment, sorted
  // Host variables left out, with the reason ("matches drop pattern *TOKEN*", "not kept").
  std::vector<std::pair<std::string, std::string>> dropped;
};

// ---------------------------------------------------------------- network plan

// Where the supervisor's proxies listen inside the sandbox's own network namespace (mode proxy).
// Fixed, so that the environment can name them before the sandbox exists; the namespace is
// private, so nothing else holds them.
inline constexpr std::uint16_t kHttpProxyPort = 3128;
inline constexpr std::uint16_t kSocksProxyPort = 1080;

struct ProxyLimits {
  std::uint64_t connections = 256;     // open client connections at once; more wait in the backlog
  std::uint64_t idle_seconds = 300;    // no byte either way: the connection is closed
  std::uint64_t header_seconds = 10;   // the whole request head (HTTP) or handshake (SOCKS)
  std::uint64_t header_bytes = 32768;  // the largest request head
  std::uint64_t connect_seconds = 10;  // resolving the name and connecting upstream
};

struct NetworkPlan {
  NetworkMode mode = NetworkMode::kNone;
  bool new_namespace = true;  // kNone, kProxy: a private network namespace with loopback up
  NetworkRules rules;         // kProxy: what the proxy may connect to
  ProxyLimits limits;         // kProxy
  // Host unix sockets bound into the view at their own path (also in `mounts`, read-only).
  std::vector<std::string> sockets;
};

// ---------------------------------------------------------------- evidence

// What the supervisor collects from the workspace after the run, outside the sandbox: the
// profile's evidence globs, workspace-relative, in profile order (parents first).
struct EvidencePlan {
  std::vector<std::string> test_results;  // test reports, parsed
  std::vector<std::string> artifacts;     // build outputs, hashed
};

// ---------------------------------------------------------------- scope narrowing

// How a task's scope narrowed the workspace's write access (CompileOptions::scope). Empty
// `scope`: not narrowed. Paths are absolute and sorted; the mount ops carry the same facts.
struct ScopeNarrowing {
  std::vector<std::string> scope;                // workspace-relative, as given
  std::vector<std::string> writable_by_scope;    // in the scope and writable under the profile
  std::vector<std::string> writable_by_scratch;  // filesystem.scratch, outside every scope path
  std::vector<std::string> not_writable;         // in the scope, but the profile never wrote there
  std::vector<std::string> narrowed;             // write entries now read-only (the workspace…)
  // A write entry above the workspace ({home} with the workspace in it) that stays writable: the
  // workspace is a read-only bind below it, and the directories between are pinned. Landlock
  // cannot take back a right granted above, so there the mount alone keeps the workspace
  // read-only (as it keeps protected paths read-only).
  std::string writable_ancestor;
};

// ---------------------------------------------------------------- everything

struct SandboxPlan {
  std::string profile_name;
  std::string hostname = "tollgate";
  std::string cwd;  // inside the sandbox
  MountPlan mounts;
  SeccompPlan seccomp;
  LandlockPlan landlock;
  LimitsPlan limits;
  EnvPlan env;
  NetworkPlan network;
  EvidencePlan evidence;
  ScopeNarrowing scope;
  // Mediated tools, placeholders expanded; the supervisor finds where each lives on the host
  // and covers those paths with the shim (tool_paths.h).
  std::map<std::string, ToolSpec> tools;
};

}  // namespace tollgate::policy
