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

}  // namespace

ToolMounts AddToolShims(policy::SandboxPlan* plan, const std::string& shim_binary) {
  ToolMounts mounts;
  if (plan->tools.empty()) return mounts;
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
