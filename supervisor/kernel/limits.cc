#include "supervisor/kernel/limits.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>

namespace tollgate::kernel {

namespace {

// Plain read(2): this runs on every launch, before the clone, and an ifstream costs more than
// the read itself.
std::string ReadSmallFile(const std::string& path) {
  std::string text;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return text;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return text;
}

bool HasWord(const std::string& text, const std::string& word) {
  std::istringstream in(text);
  std::string token;
  while (in >> token) {
    if (token == word) return true;
  }
  return false;
}

Status WriteCgroupFile(const std::string& dir, const char* name, const std::string& value) {
  std::string path = dir + "/" + name;
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Status::Fail("open cgroup file", path, errno);
  ssize_t n = ::write(fd, value.data(), value.size());
  int err = errno;
  ::close(fd);
  if (n < 0) return Status::Fail("write cgroup file", path, err);
  return Status::Ok();
}

// "max 3\n" style counters: the value of `key`, 0 when absent.
long EventCount(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  std::string name;
  long value = 0;
  while (in >> name >> value) {
    if (name == key) return value;
  }
  return 0;
}

}  // namespace

Status ApplyRlimits(const RlimitSettings& settings) {
  for (std::size_t i = 0; i < settings.count; ++i) {
    const RlimitSetting& s = settings.items[i];
    struct rlimit current {};
    if (::getrlimit(s.resource, &current) != 0) return Status::Fail("getrlimit", {}, errno);
    struct rlimit wanted {
      s.soft, s.hard
    };
    if (current.rlim_max != RLIM_INFINITY) {
      if (wanted.rlim_max > current.rlim_max) wanted.rlim_max = current.rlim_max;
      if (wanted.rlim_cur > wanted.rlim_max) wanted.rlim_cur = wanted.rlim_max;
    }
    if (::setrlimit(s.resource, &wanted) != 0) return Status::Fail("setrlimit", {}, errno);
  }
  return Status::Ok();
}

CgroupV2Probe ProbeCgroupV2() {
  CgroupV2Probe probe;
  // Our place in the unified hierarchy: the "0::" line.
  std::string self = ReadSmallFile("/proc/self/cgroup");
  std::string relative;
  std::istringstream lines(self);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("0::", 0) == 0) relative = line.substr(3);
  }
  if (relative.empty()) {
    probe.why = "not available: this process is not in a cgroup v2 hierarchy";
    return probe;
  }
  // Where cgroup2 is mounted (on a hybrid v1/v2 host it is /sys/fs/cgroup/unified).
  std::string mountpoint;
  std::istringstream info(ReadSmallFile("/proc/self/mountinfo"));
  for (std::string line; std::getline(info, line);) {
    std::size_t dash = line.find(" - cgroup2 ");
    if (dash == std::string::npos) continue;
    std::istringstream fields(line);
    std::string id, parent, devno, root;
    fields >> id >> parent >> devno >> root >> mountpoint;
    break;
  }
  if (mountpoint.empty()) {
    probe.why = "not available: no cgroup2 file system is mounted";
    return probe;
  }
  probe.directory = mountpoint + (relative == "/" ? "" : relative);
  std::string controllers = ReadSmallFile(probe.directory + "/cgroup.controllers");
  for (const char* needed : {"memory", "pids"}) {
    if (!HasWord(controllers, needed)) {
      probe.why = std::string("not available: the cgroup v2 controller '") + needed +
                  "' is not delegated to " + probe.directory +
                  " (hybrid or v1 hierarchy, or no systemd Delegate=)";
      return probe;
    }
  }
  // The sandbox cgroup is created below ours, so ours must already pass both controllers down
  // (we cannot enable them ourselves while we are a member: the "no internal processes" rule).
  std::string subtree = ReadSmallFile(probe.directory + "/cgroup.subtree_control");
  if (!HasWord(subtree, "memory") || !HasWord(subtree, "pids")) {
    probe.why = "not available: " + probe.directory +
                "/cgroup.subtree_control does not enable memory and pids for child cgroups";
    return probe;
  }
  if (::access(probe.directory.c_str(), W_OK) != 0) {
    probe.why = "not available: " + probe.directory + " is not writable by this user";
    return probe;
  }
  probe.available = true;
  return probe;
}

LimitSetup PlanLimits(const policy::LimitsPlan& limits, const policy::MountPlan& mounts,
                      const CgroupV2Probe& cgroup) {
  LimitSetup setup;
  setup.rlimits.Add(RLIMIT_CORE, 0, 0);
  std::string no_cgroup = cgroup.why.empty() ? "" : " (cgroup v2 " + cgroup.why + ")";
  for (const auto& limit : limits.limits) {
    LimitMechanism m{limit.kind, limit.value, {}, true};
    rlim_t v = static_cast<rlim_t>(limit.value);
    switch (limit.kind) {
      case policy::LimitKind::kMemory:
        if (cgroup.available) {
          m.mechanism = "cgroup memory.max";
          setup.use_cgroup = true;
        } else {
          // Each process may use the limit, so N processes use N times it: a cap, not the
          // sandbox's limit. --require-limits refuses it.
          m.mechanism = "only per process: rlimit RLIMIT_DATA" + no_cgroup;
          m.enforced = false;
          setup.rlimits.Add(RLIMIT_DATA, v, v);
        }
        break;
      case policy::LimitKind::kProcesses:
        if (cgroup.available) {
          m.mechanism = "cgroup pids.max";
          setup.use_cgroup = true;
        } else {
          m.mechanism = "rlimit RLIMIT_NPROC (per user namespace)" + no_cgroup;
          setup.rlimits.Add(RLIMIT_NPROC, v + 1, v + 1);
        }
        break;
      case policy::LimitKind::kCpuSeconds:
        m.mechanism = "rlimit RLIMIT_CPU (per process)";
        setup.rlimits.Add(RLIMIT_CPU, v, v + 1);
        break;
      case policy::LimitKind::kWallSeconds:
        m.mechanism = "supervisor timer";
        break;
      case policy::LimitKind::kFileSize:
        m.mechanism = "rlimit RLIMIT_FSIZE";
        setup.rlimits.Add(RLIMIT_FSIZE, v, v);
        break;
      case policy::LimitKind::kOpenFiles:
        m.mechanism = "rlimit RLIMIT_NOFILE";
        setup.rlimits.Add(RLIMIT_NOFILE, v, v);
        break;
      case policy::LimitKind::kTmpfs: {
        std::string sized;
        for (const auto& op : mounts.ops) {
          if (op.kind == policy::MountOpKind::kTmpfs && op.size && op.writable) {
            sized += (sized.empty() ? "" : ", ") + op.target + " size=" + std::to_string(*op.size);
          }
        }
        if (sized.empty()) {
          m.mechanism = "not enforced: the mount plan has no writable tmpfs with a size";
          m.enforced = false;
        } else {
          m.mechanism = "tmpfs " + sized;
        }
        break;
      }
    }
    setup.mechanisms.push_back(std::move(m));
  }
  return setup;
}

Status CreateSandboxCgroup(const CgroupV2Probe& probe, const policy::LimitsPlan& limits,
                           SandboxCgroup* cgroup) {
  cgroup->directory = probe.directory + "/tollgate-" + std::to_string(::getpid());
  if (::mkdir(cgroup->directory.c_str(), 0755) != 0 && errno != EEXIST) {
    return Status::Fail("create cgroup", cgroup->directory, errno);
  }
  if (auto memory = limits.Get(policy::LimitKind::kMemory)) {
    TOLLGATE_RETURN_IF_ERROR(
        WriteCgroupFile(cgroup->directory, "memory.max", std::to_string(*memory)));
    // Swap would let the sandbox exceed the limit quietly.
    WriteCgroupFile(cgroup->directory, "memory.swap.max", "0");
  }
  if (auto processes = limits.Get(policy::LimitKind::kProcesses)) {
    // +1: the sandbox init is in the cgroup too.
    TOLLGATE_RETURN_IF_ERROR(
        WriteCgroupFile(cgroup->directory, "pids.max", std::to_string(*processes + 1)));
  }
  cgroup->dir_fd = ::open(cgroup->directory.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (cgroup->dir_fd < 0) return Status::Fail("open cgroup", cgroup->directory, errno);
  return Status::Ok();
}

void ReadCgroupLimitEvents(const SandboxCgroup& cgroup, bool* memory_hit, bool* processes_hit) {
  std::string memory = ReadSmallFile(cgroup.directory + "/memory.events");
  *memory_hit = EventCount(memory, "max") > 0 || EventCount(memory, "oom_kill") > 0;
  *processes_hit = EventCount(ReadSmallFile(cgroup.directory + "/pids.events"), "max") > 0;
}

void RemoveSandboxCgroup(SandboxCgroup* cgroup) {
  if (cgroup->dir_fd >= 0) ::close(cgroup->dir_fd);
  cgroup->dir_fd = -1;
  if (!cgroup->directory.empty()) ::rmdir(cgroup->directory.c_str());
}

}  // namespace tollgate::kernel
