#include "tests/escapes/probe_runner.h"

#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace tollgate::escapes {

std::string BinDir() {
  char buffer[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  if (n <= 0) return ".";
  std::string path(buffer, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/'));
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool WriteFile(const std::string& path, const std::string& text, unsigned mode) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return false;
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  fchmod(fd, mode);
  close(fd);
  return ok;
}

void RemoveTree(const std::string& path) {
  nftw(
      path.c_str(),
      [](const char* p, const struct stat*, int type, struct FTW*) {
        if (type == FTW_DP) {
          rmdir(p);
        } else {
          unlink(p);
        }
        return 0;
      },
      16, FTW_DEPTH | FTW_PHYS);
}

namespace {

// Writes the decimal digits of value into buf (async-signal-safe, for the forked child).
void FormatPid(char* buf, size_t size, long value) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value > 0 && n < 23);
  size_t i = 0;
  while (n > 0 && i + 1 < size) buf[i++] = digits[--n];
  buf[i] = 0;
}

}  // namespace

ProcessResult RunProcess(const ProcessSpec& spec) {
  ProcessResult result;
  // Everything the child needs is built before fork: after it only async-signal-safe calls.
  std::vector<std::string> args = spec.argv;
  char self_pid[24] = "";
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg == "{self}" ? self_pid : arg.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = spec.env;
  std::vector<char*> envp;
  for (std::string& var : env) envp.push_back(var.data());
  envp.push_back(nullptr);

  int out = open(spec.stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err = open(spec.stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out < 0 || err < 0 || in < 0) return result;
  gid_t gid = static_cast<gid_t>(spec.run_as_uid);

  pid_t pid = fork();
  if (pid == 0) {
    FormatPid(self_pid, sizeof self_pid, getpid());
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    int keep = spec.keep_fd;
    if (keep > 2) {
      if (keep > 3) syscall(SYS_close_range, 3u, static_cast<unsigned>(keep - 1), 0u);
      syscall(SYS_close_range, static_cast<unsigned>(keep + 1), ~0u, 0u);
    } else {
      syscall(SYS_close_range, 3u, ~0u, 0u);
    }
    if (spec.run_as_uid >= 0) {
      if (setgroups(0, nullptr) != 0 || setgid(gid) != 0 ||
          setuid(static_cast<uid_t>(spec.run_as_uid)) != 0) {
        _exit(126);
      }
    }
    if (!spec.cwd.empty() && chdir(spec.cwd.c_str()) != 0) _exit(126);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(out);
  close(err);
  close(in);
  if (pid < 0) return result;
  result.started = true;

  int status = 0;
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - start.tv_sec >= spec.timeout_seconds) {
      result.timed_out = true;
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    usleep(5000);
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  result.out = ReadFile(spec.stdout_path);
  result.err = ReadFile(spec.stderr_path);
  return result;
}

ProbeLine ParseProbeLine(const std::string& out) {
  ProbeLine probe;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("RESULT ", 0) != 0) continue;
    std::istringstream words(line);
    std::string tag, err;
    words >> tag >> probe.name >> probe.verdict >> err;
    probe.err = err.rfind("errno=", 0) == 0 ? err.substr(6) : "";
    probe.line = line;
    probe.found = true;
  }
  return probe;
}

}  // namespace tollgate::escapes
