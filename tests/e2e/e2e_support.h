// Helpers for the end-to-end tests: a scratch directory the sandbox can use, and running the real
// tollgate binary (next to the test binary) with a controlled environment.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/escapes/probe_runner.h"

namespace tollgate::e2e {

// A temporary directory removed at destruction. As root it is handed to an unprivileged owner
// (nobody) by Handover(), so the sandbox — which never runs as host root — can write it.
class Scratch {
 public:
  Scratch();
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  // As root: chown -R the scratch directory to nobody. A no-op for an ordinary user.
  void Handover() const;

 private:
  std::string path_;
};

struct RunOutput {
  int exit_code = -1;
  int signal = 0;
  bool timed_out = false;
  std::string out;
  std::string err;
};

// Runs bin/tollgate with `args`. The environment is PATH, LANG, HOME=`home` (default: the real
// one) plus `extra_env`.
RunOutput Tollgate(const std::vector<std::string>& args, const std::string& home = "",
                   const std::vector<std::string>& extra_env = {}, const std::string& cwd = "",
                   int timeout_seconds = 120);

// The same, as the last arguments of `wrapper` (a program and its arguments that ends by
// running its remaining arguments, such as `unshare -m sh -c '…; exec "$0" "$@"'`).
RunOutput TollgateUnder(const std::vector<std::string>& wrapper,
                        const std::vector<std::string>& args, const std::string& home = "",
                        const std::vector<std::string>& extra_env = {}, const std::string& cwd = "",
                        int timeout_seconds = 120);

// Runs a shell command on the host (outside any sandbox); returns its exit status.
int Host(const std::string& command);

// Why this kernel cannot create the sandbox's namespaces, or empty.
std::string NamespaceProblem();

// Skips the test, with the reason, when this kernel cannot create the namespaces.
#define TOLLGATE_SKIP_WITHOUT_NAMESPACES()                                              \
  do {                                                                                  \
    std::string problem_ = ::tollgate::e2e::NamespaceProblem();                         \
    if (!problem_.empty()) GTEST_SKIP() << "user namespaces unavailable: " << problem_; \
  } while (0)

// Adds to a profile what this build's own tollgate needs to run inside the sandbox (the hook
// inside `tollgate run`): nothing for a normal build. An ASan/UBSan build reserves ~20 TiB of
// address space for its shadow memory at start, more than the profile's memory limit lets it
// where that limit is an address-space rlimit, and its LeakSanitizer stops the world with ptrace,
// which the sandbox's seccomp filter refuses: the profile raises the limit and turns leak
// detection off inside (the supervisor outside is still checked).
void LetThisBuildsTollgateRunInside(nlohmann::json& profile);

// Every record of an audit log directory, in chain order; and those of one kind.
std::vector<nlohmann::json> ReadAuditLog(const std::string& dir);
std::vector<nlohmann::json> OfKind(const std::vector<nlohmann::json>& records,
                                   const std::string& kind);

}  // namespace tollgate::e2e
