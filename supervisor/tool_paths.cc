#include "supervisor/tool_paths.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <set>
#include <utility>

#include "supervisor/kernel/mountns.h"

namespace tollgate {
namespace {

std::string RealPath(const std::string& path) {
  char* resolved = ::realpath(path.c_str(), nullptr);
  if (resolved == nullptr) return {};
  std::string result(resolved);
  std::free(resolved);
  return result;
}

std::string DirectoryOf(const std::string& path) {
  std::size_t slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Starts with "#!": the kernel hands it to an interpreter.
bool IsScript(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return false;
  char magic[2] = {};
  bool script = ::pread(fd, magic, 2, 0) == 2 && magic[0] == '#' && magic[1] == '!';
  ::close(fd);
  return script;
}

class Resolver {
 public:
  explicit Resolver(const policy::SandboxPlan& plan) : plan_(plan) {}

  void AddTool(const policy::ToolSpec& tool) {
    std::set<std::pair<dev_t, ino_t>> files;
    for (const policy::PathEntry& entry : tool.paths) {
      const std::string& path = entry.path;
      std::string host = kernel::HostPathForSandboxPath(plan_.mounts, path);
      if (host.empty()) {
        out_.skipped.push_back(path + " (" + tool.name + "): not in the sandbox's view");
        continue;
      }
      struct stat st {};
      if (::lstat(host.c_str(), &st) != 0) {
        out_.skipped.push_back(path + " (" + tool.name + "): not found");
        continue;
      }
      std::string file = host;
      std::string why = "listed";
      if (S_ISLNK(st.st_mode)) {
        std::string target = RealPath(host);
        if (target.empty() || ::stat(target.c_str(), &st) != 0) {
          out_.skipped.push_back(path + " (" + tool.name + "): a dangling symlink");
          continue;
        }
        if (IsScript(target)) {
          // A script's interpreter opens it again by its own path (node resolves /dev/fd/N back
          // to it): the link is covered, the script stays itself. Its library code is readable
          // anyway, so covering the script would break the tool and protect nothing.
          std::string dir = RealPath(DirectoryOf(host));
          file = dir + "/" + host.substr(host.rfind('/') + 1);
          why = "the link to the script " + target;
        } else {
          file = target;
          why = "target of the symlink " + path;
        }
      } else if (std::string real = RealPath(host); !real.empty() && real != host) {
        file = real;  // a directory on the way is a symlink (/bin -> usr/bin)
        why = "listed as " + path;
      }
      if (!S_ISREG(st.st_mode)) {
        out_.skipped.push_back(path + " (" + tool.name + "): not a regular file");
        continue;
      }
      // Binds keep paths: the file is at the same path in the sandbox when its host path maps
      // back to itself.
      if (kernel::HostPathForSandboxPath(plan_.mounts, file) != file) {
        out_.skipped.push_back(path + " (" + tool.name + "): resolves to " + file +
                               ", which the sandbox does not see at that path");
        continue;
      }
      files.insert({st.st_dev, st.st_ino});
      Add(file, tool.name, why);
    }
    for (const policy::PathEntry& dir : tool.alias_dirs) AddHardLinks(dir.path, tool.name, files);
  }

  ToolMounts Take() { return std::move(out_); }

 private:
  void Add(const std::string& path, const std::string& tool, const std::string& why) {
    for (const MediatedPath& existing : out_.paths) {
      if (existing.path != path) continue;
      if (existing.tool != tool)
        out_.skipped.push_back(path + " (" + tool + "): already the path of " + existing.tool);
      return;
    }
    out_.paths.push_back({path, tool, why});
  }

  void AddHardLinks(const std::string& dir, const std::string& tool,
                    const std::set<std::pair<dev_t, ino_t>>& files) {
    if (files.empty()) return;
    std::string host = kernel::HostPathForSandboxPath(plan_.mounts, dir);
    if (host.empty() || host != dir) return;
    struct CloseDir {
      void operator()(DIR* dir) const { ::closedir(dir); }
    };
    std::unique_ptr<DIR, CloseDir> stream(::opendir(host.c_str()));
    if (!stream) return;
    std::vector<std::string> found;
    while (const struct dirent* entry = ::readdir(stream.get())) {
      if (entry->d_type != DT_REG && entry->d_type != DT_UNKNOWN) continue;
      std::string path = dir + "/" + entry->d_name;
      struct stat st {};
      if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      if (files.count({st.st_dev, st.st_ino}) > 0) found.push_back(path);
    }
    std::sort(found.begin(), found.end());  // readdir order is not stable: plans must be
    for (const std::string& path : found) Add(path, tool, "hard link in " + dir);
  }

  const policy::SandboxPlan& plan_;
  ToolMounts out_;
};

// A small file's text ("" when it is missing or unreadable), at most `limit` bytes.
std::string ReadSmallFile(const std::string& path, std::size_t limit = 64 * 1024) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return {};
  struct stat st {};
  std::string text;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    char buffer[4096];
    ssize_t n;
    while (text.size() < limit && (n = ::read(fd, buffer, sizeof buffer)) > 0)
      text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return text;
}

std::string TrimLine(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
    text.pop_back();
  return text;
}

bool IsDirectory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool Exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

// `path` read from a file in `base`: absolute, or relative to `base`.
std::string Against(const std::string& base, const std::string& path) {
  return !path.empty() && path[0] == '/' ? path : base + "/" + path;
}

}  // namespace

policy::HostRepository ResolveHostRepository(const std::string& host_dir) {
  policy::HostRepository repo;
  repo.resolved = true;
  std::string dir = RealPath(host_dir);
  if (dir.empty() || !IsDirectory(dir)) {
    repo.problem = "the directory " + host_dir + " does not exist on the host";
    return repo;
  }
  // git's own discovery: the nearest .git at or above the directory.
  std::string dot_git;
  for (std::string at = dir;; at = DirectoryOf(at)) {
    std::string candidate = (at == "/" ? "" : at) + "/.git";
    if (Exists(candidate)) {
      dot_git = candidate;
      break;
    }
    if (at == "/") break;
  }
  if (dot_git.empty()) {
    repo.problem = "there was no git repository at or above " + host_dir +
                   " when the run started; a repository made during the run is the agent's, "
                   "with the agent's configuration and hooks";
    return repo;
  }
  std::string git_dir, common_dir;
  if (IsDirectory(dot_git)) {
    git_dir = RealPath(dot_git);
    // A repository's own .git has no commondir (only a linked worktree's directory under
    // .git/worktrees has one): one there was planted, by an earlier run perhaps.
    if (Exists(git_dir + "/commondir")) {
      repo.problem = git_dir +
                     "/commondir exists: git would take its configuration and hooks "
                     "from " +
                     TrimLine(ReadSmallFile(git_dir + "/commondir")) +
                     "; remove the file (a repository's own .git never has one)";
      return repo;
    }
    common_dir = git_dir;
  } else {
    // A .git file: a linked worktree or a submodule ("gitdir: <path>").
    std::string text = TrimLine(ReadSmallFile(dot_git));
    if (!text.starts_with("gitdir: ")) {
      repo.problem = dot_git + " is neither a directory nor a \"gitdir:\" file";
      return repo;
    }
    git_dir = RealPath(Against(DirectoryOf(dot_git), text.substr(8)));
    if (git_dir.empty() || !IsDirectory(git_dir)) {
      repo.problem = dot_git + " names " + text.substr(8) + ", which is not a directory";
      return repo;
    }
    common_dir = git_dir;
    if (Exists(git_dir + "/commondir")) {
      std::string common = TrimLine(ReadSmallFile(git_dir + "/commondir"));
      common_dir = common.empty() ? std::string() : RealPath(Against(git_dir, common));
      if (common_dir.empty() || !IsDirectory(common_dir)) {
        repo.problem = git_dir + "/commondir names " + common + ", which is not a directory";
        return repo;
      }
    }
  }
  repo.git_dir = git_dir;
  repo.common_dir = common_dir;
  repo.alternates = ReadSmallFile(common_dir + "/objects/info/alternates");
  repo.http_alternates = ReadSmallFile(common_dir + "/objects/info/http-alternates");
  return repo;
}

ToolMounts AddToolShims(policy::SandboxPlan* plan, const std::string& shim_binary) {
  ToolMounts mounts;
  if (plan->tools.empty()) return mounts;
  // git's repository for calls that run on the host, resolved now, before anything of the
  // agent's runs (policy::HostRepository).
  for (auto& [name, tool] : plan->tools) {
    if (!policy::IsGitTool(tool) || !policy::HasHostRules(tool)) continue;
    std::string host_dir = kernel::HostPathForSandboxPath(plan->mounts, tool.host_cwd);
    if (host_dir.empty()) {
      tool.host_repository.resolved = true;
      tool.host_repository.problem =
          "the host directory for " + tool.host_cwd + " is not known (not bound into the view)";
      continue;
    }
    tool.host_repository = ResolveHostRepository(host_dir);
  }
  if (shim_binary.empty()) {
    mounts.error =
        "the profile mediates tools, and tollgate-shim was not found next to tollgate; "
        "reinstall tollgate, or use a profile without a \"tools\" section";
    return mounts;
  }
  Resolver resolver(*plan);
  for (const auto& [name, tool] : plan->tools) resolver.AddTool(tool);
  mounts = resolver.Take();
  if (mounts.paths.size() > kMaxMediatedPaths) {
    mounts.error = "the profile's tools live at " + std::to_string(mounts.paths.size()) +
                   " paths; at most " + std::to_string(kMaxMediatedPaths) + " can be mediated";
    mounts.paths.clear();
    return mounts;
  }
  if (mounts.paths.empty()) return mounts;

  std::vector<policy::MountOp> ops;
  ops.push_back({.kind = policy::MountOpKind::kTmpfs,
                 .target = kBrokerDirectory,
                 .writable = true,
                 .size = 64 * 1024,
                 .mode = 0755,
                 .why = "the broker's socket (tool mediation)"});
  for (const MediatedPath& path : mounts.paths) {
    ops.push_back({.kind = policy::MountOpKind::kShim,
                   .source = shim_binary,
                   .target = path.path,
                   .exec = true,
                   .optional = true,
                   .why = "tool " + path.tool + " (" + path.why + ")"});
  }
  auto& all = plan->mounts.ops;
  auto last = std::find_if(all.begin(), all.end(), [](const policy::MountOp& op) {
    return op.kind == policy::MountOpKind::kRootReadOnly;
  });
  all.insert(last, ops.begin(), ops.end());
  return mounts;
}

std::string FindShimBinary() {
  char self[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return {};
  std::string dir(self, static_cast<std::size_t>(n));
  dir.resize(dir.rfind('/'));
  std::string shim = dir + "/tollgate-shim";
  return ::access(shim.c_str(), X_OK) == 0 ? shim : std::string();
}

}  // namespace tollgate
