#include "supervisor/placeholder_ledger.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "supervisor/kernel/mountns.h"

namespace tollgate {
namespace {

bool MakeDirectories(const std::string& path) {
  std::string partial;
  std::stringstream parts(path);
  std::string part;
  while (std::getline(parts, part, '/')) {
    if (part.empty()) continue;
    partial += "/" + part;
    if (::mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST) return false;
  }
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == ::geteuid();
}

}  // namespace

std::string PlaceholderLedger::StateDirectory() {
  if (::geteuid() == 0) return "/run/tollgate";
  if (const char* runtime = std::getenv("XDG_RUNTIME_DIR"); runtime && runtime[0] == '/')
    return std::string(runtime) + "/tollgate";
  if (const char* state = std::getenv("XDG_STATE_HOME"); state && state[0] == '/')
    return std::string(state) + "/tollgate";
  if (const char* home = std::getenv("HOME"); home && home[0] == '/')
    return std::string(home) + "/.local/state/tollgate";
  return {};
}

PlaceholderLedger::PlaceholderLedger(const std::string& workspace) {
  struct stat st {};
  std::string dir = StateDirectory();
  if (dir.empty() || ::stat(workspace.c_str(), &st) != 0) return;
  dir += "/workspaces";
  if (!MakeDirectories(dir)) return;
  // Keyed by the workspace's identity, not its name: two names of one directory share a ledger.
  std::string key = dir + "/" + std::to_string(st.st_dev) + "-" + std::to_string(st.st_ino);
  int fd = ::open((key + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return;
  while (::flock(fd, LOCK_SH) != 0) {
    if (errno != EINTR) {
      ::close(fd);
      return;
    }
  }
  lock_fd_ = fd;
  records_ = key + ".placeholders";
}

PlaceholderLedger::~PlaceholderLedger() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

int PlaceholderLedger::Finish(const std::vector<HostPlaceholder>& made) {
  if (lock_fd_ < 0) return 0;
  if (!made.empty()) {
    std::ofstream out(records_, std::ios::app);
    for (const HostPlaceholder& p : made)
      out << p.device << ' ' << p.inode << ' ' << p.path << '\n';
  }
  // Another run still holds the workspace: its protections may stand on these placeholders.
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) return 0;
  int removed = 0;
  std::ifstream in(records_);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    unsigned long long device = 0, inode = 0;
    std::string path;
    if (!(fields >> device >> inode) || !std::getline(fields >> std::ws, path)) continue;
    if (kernel::RemoveProtectPlaceholder(path, static_cast<dev_t>(device),
                                         static_cast<ino_t>(inode))) {
      ++removed;
    }
  }
  ::truncate(records_.c_str(), 0);
  ::flock(lock_fd_, LOCK_SH);
  return removed;
}

}  // namespace tollgate
