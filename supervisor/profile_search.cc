#include "supervisor/profile_search.h"

#include "supervisor/audit/record.h"

#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace tollgate {
namespace {

bool IsDirectory(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string ExecutableDir() {
  char buffer[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  if (n <= 0) return {};
  std::string path(buffer, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/'));
}

}  // namespace

std::vector<std::string> ProfileSearchCandidates() {
  std::vector<std::string> candidates = {".tollgate/profiles"};
  if (const char* config = getenv("XDG_CONFIG_HOME"); config && config[0] == '/') {
    candidates.push_back(std::string(config) + "/tollgate/profiles");
  } else if (const char* home = getenv("HOME"); home && home[0] == '/') {
    candidates.push_back(std::string(home) + "/.config/tollgate/profiles");
  }
  if (std::string bin = ExecutableDir(); !bin.empty()) {
    candidates.push_back(bin + "/../share/tollgate/profiles");
  }
  candidates.push_back(TOLLGATE_INSTALL_PROFILES);
  candidates.push_back(TOLLGATE_SOURCE_PROFILES);
  return candidates;
}

std::vector<std::string> ProfileSearchDirs() {
  std::vector<std::string> dirs;
  for (const std::string& dir : ProfileSearchCandidates()) {
    char resolved[PATH_MAX];
    // Absolute, so that messages and explain name the file wherever they are read.
    if (IsDirectory(dir) && realpath(dir.c_str(), resolved)) dirs.push_back(resolved);
  }
  return dirs;
}

policy::ProfileLoader MakeProfileLoader(std::vector<std::string>* file_digests,
                                        std::vector<std::string>* files_read) {
  auto read = [file_digests, files_read](const std::string& path) -> std::optional<std::string> {
    if (files_read) files_read->push_back(path);
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    if (file_digests) file_digests->push_back(audit::Sha256Hex(text.str()));
    return text.str();
  };
  auto exists = [](const std::string& path) {
    struct stat st;
    return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
  };
  return policy::ProfileLoader(ProfileSearchDirs(), read, exists);
}

}  // namespace tollgate
