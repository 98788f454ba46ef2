#include "supervisor/kernel/env.h"

#include <unistd.h>

#include <cerrno>

namespace tollgate::kernel {

ExecSpec BuildExecSpec(const std::vector<std::string>& argv, const policy::EnvPlan& env) {
  ExecSpec spec;
  spec.argv_storage = argv;
  std::string path = "/usr/local/bin:/usr/bin:/bin";
  for (const auto& [name, value] : env.vars) {
    spec.env_storage.push_back(name + "=" + value);
    if (name == "PATH") path = value;
  }
  if (!argv.empty()) {
    const std::string& program = argv[0];
    if (program.find('/') != std::string::npos) {
      spec.candidates.push_back(program);
    } else if (!program.empty()) {
      std::size_t start = 0;
      while (start <= path.size()) {
        std::size_t end = path.find(':', start);
        if (end == std::string::npos) end = path.size();
        std::string dir = path.substr(start, end - start);
        if (dir.empty()) dir = ".";  // POSIX: an empty PATH entry means the current directory
        spec.candidates.push_back(dir + "/" + program);
        start = end + 1;
      }
    }
  }
  for (auto& s : spec.argv_storage) spec.argv.push_back(s.data());
  spec.argv.push_back(nullptr);
  for (auto& s : spec.env_storage) spec.envp.push_back(s.data());
  spec.envp.push_back(nullptr);
  return spec;
}

int ExecFirstCandidate(const ExecSpec& spec) {
  int best = ENOENT;
  for (const auto& candidate : spec.candidates) {
    ::execve(candidate.c_str(), spec.argv.data(), spec.envp.data());
    int err = errno;
    // Keep looking past entries that do not hold the program; remember a permission problem
    // so "found but not executable" is what gets reported.
    if (err == EACCES) {
      best = EACCES;
    } else if (err != ENOENT && err != ENOTDIR && err != ELOOP && err != ENAMETOOLONG) {
      return err;
    }
  }
  return best;
}

}  // namespace tollgate::kernel
