#include "tests/e2e/e2e_support.h"

#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>

#include "supervisor/audit/log_files.h"
#include "supervisor/kernel/kernel_features.h"

namespace tollgate::e2e {

Scratch::Scratch() {
  char templ[] = "/tmp/tollgate-e2e.XXXXXX";
  const char* made = mkdtemp(templ);
  path_ = made ? made : "";
}

Scratch::~Scratch() {
  if (!path_.empty()) escapes::RemoveTree(path_);
}

void Scratch::Handover() const {
  if (geteuid() == 0) Host("chown -R 65534:65534 '" + path_ + "'");
}

void LetThisBuildsTollgateRunInside(nlohmann::json& profile) {
#ifdef TOLLGATE_SANITIZED
  profile["limits"]["memory"] = "64T";
  profile["env"]["set"]["ASAN_OPTIONS"] = "detect_leaks=0";
#else
  (void)profile;
#endif
}

RunOutput Tollgate(const std::vector<std::string>& args, const std::string& home,
                   const std::vector<std::string>& extra_env, const std::string& cwd,
                   int timeout_seconds) {
  return TollgateUnder({}, args, home, extra_env, cwd, timeout_seconds);
}

RunOutput TollgateUnder(const std::vector<std::string>& wrapper,
                        const std::vector<std::string>& args, const std::string& home,
                        const std::vector<std::string>& extra_env, const std::string& cwd,
                        int timeout_seconds) {
  std::string real_home;
  if (const char* h = getenv("HOME")) real_home = h;
  if (real_home.empty()) {
    if (struct passwd* pw = getpwuid(getuid())) real_home = pw->pw_dir;
  }
  escapes::ProcessSpec spec;
  spec.argv = wrapper;
  spec.argv.push_back(escapes::BinDir() + "/tollgate");
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.env = {"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8",
              "HOME=" + (home.empty() ? real_home : home)};
  spec.env.insert(spec.env.end(), extra_env.begin(), extra_env.end());
  spec.cwd = cwd;
  char out[] = "/tmp/tollgate-e2e-out.XXXXXX";
  char err[] = "/tmp/tollgate-e2e-err.XXXXXX";
  int out_fd = mkstemp(out), err_fd = mkstemp(err);
  close(out_fd);
  close(err_fd);
  spec.stdout_path = out;
  spec.stderr_path = err;
  spec.timeout_seconds = timeout_seconds;
  escapes::ProcessResult result = escapes::RunProcess(spec);
  unlink(out);
  unlink(err);
  return RunOutput{result.exit_code, result.signal, result.timed_out, result.out, result.err};
}

int Host(const std::string& command) {
  int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string NamespaceProblem() {
  pid_t pid = fork();
  if (pid == 0) _exit(unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID) == 0 ? 0 : 1);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  return kernel::ExplainNamespaceFailure(EPERM, kernel::ProbeKernelFeatures());
}

std::vector<nlohmann::json> ReadAuditLog(const std::string& dir) {
  std::vector<nlohmann::json> records;
  std::string error;
  for (const audit::LogFile& file : audit::ListLogFiles(dir, &error)) {
    std::istringstream lines(escapes::ReadFile(dir + "/" + file.name));
    for (std::string line; std::getline(lines, line);)
      records.push_back(nlohmann::json::parse(line));
  }
  return records;
}

std::vector<nlohmann::json> OfKind(const std::vector<nlohmann::json>& records,
                                   const std::string& kind) {
  std::vector<nlohmann::json> out;
  std::copy_if(records.begin(), records.end(), std::back_inserter(out),
               [&](const nlohmann::json& r) { return r["kind"] == kind; });
  return out;
}

}  // namespace tollgate::e2e
