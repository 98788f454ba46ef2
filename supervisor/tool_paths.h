// Where the mediated tools live, as the sandbox will see them, and the mount ops that put the
// shim in their place.
//
// Each path a profile lists for a tool is looked up on the host through the plan's binds. A
// symlink to a program is followed and the program covered (so `ld.so` and its own path reach
// the shim too); a symlink to a script (`/usr/bin/npm` -> `…/npm-cli.js`) is covered as the link
// itself, because the interpreter opens the script again by its own path. The directories a tool
// lists in `alias_dirs` are searched for hard links to the programs. Every file found gets a kShim
// op: the real program is kept open for the tool spawner and the shim is bound over its path. Paths
// that do not exist here, or that the sandbox does not see, are skipped and reported.
#pragma once

#include <string>
#include <vector>

#include "policy/plans.h"

namespace tollgate {

// At most this many paths are covered (every one is an open fd in the sandbox's spawner).
inline constexpr std::size_t kMaxMediatedPaths = 128;

// The directory and socket the shim reaches the supervisor by, inside every sandbox.
inline constexpr char kBrokerDirectory[] = "/run/tollgate";

struct MediatedPath {
  std::string path;  // as the sandbox sees it (and the host: binds keep paths)
  std::string tool;
  std::string why;  // "listed", "symlink /usr/bin/npm", "hard link in /usr/lib/git-core"
};

struct ToolMounts {
  std::vector<MediatedPath> paths;   // in the order of their kShim ops
  std::vector<std::string> skipped;  // "/usr/local/bin/git: not found", for explain and logs
  std::string error;                 // set when the plan cannot be mediated (and nothing added)
};

// Adds the broker's tmpfs and the kShim ops to plan->mounts (before the final root read-only op),
// for every tool in plan->tools. `shim_binary` is the host path of tollgate-shim.
ToolMounts AddToolShims(policy::SandboxPlan* plan, const std::string& shim_binary);

// The repository git finds from `host_dir` on the host, resolved the way git does but without
// following a `commondir` in a repository's own .git (policy::HostRepository). AddToolShims
// fills every git tool with host rules with it, from the host's view of its host_cwd.
policy::HostRepository ResolveHostRepository(const std::string& host_dir);

// tollgate-shim next to the running tollgate binary; empty when it is not there.
std::string FindShimBinary();

}  // namespace tollgate
