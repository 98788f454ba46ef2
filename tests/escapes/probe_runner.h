// Running probe programs and the tollgate binary from the escape tests: a child with an explicit
// environment, its output in files, a timeout, and the probe's one-line verdict parsed out.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace tollgate::escapes {

// The folder of the running test binary: tollgate and the probe-* programs live there (the suite
// may run from a copy of build/bin, so never the build or source folder).
std::string BinDir();

struct ProcessSpec {
  std::vector<std::string> argv;  // an argument equal to "{self}" becomes the child's own pid
  std::vector<std::string> env;   // "NAME=value"; nothing else is inherited
  std::string cwd;
  std::string stdout_path;
  std::string stderr_path;
  int keep_fd = -1;  // an fd the child inherits on purpose (a "leaked" fd); others > 2 are closed
  long run_as_uid = -1;      // root only: setgid/setuid to this id (and its gid) before exec
  int timeout_seconds = 60;  // then the child is killed and the run counts as timed out
};

struct ProcessResult {
  bool started = false;
  bool timed_out = false;
  int exit_code = -1;  // when it exited
  int signal = 0;      // when a signal ended it
  std::string out;
  std::string err;
};

ProcessResult RunProcess(const ProcessSpec& spec);

// The probe's verdict line: "RESULT <name> <allowed|blocked|skip|error> errno=<E> <detail>".
struct ProbeLine {
  bool found = false;
  std::string name;
  std::string verdict;
  std::string err;  // "EPERM", or "NONE"
  std::string line;
};

ProbeLine ParseProbeLine(const std::string& out);

std::string ReadFile(const std::string& path);
bool WriteFile(const std::string& path, const std::string& text, unsigned mode = 0644);
// rm -rf, without following symlinks.
void RemoveTree(const std::string& path);

}  // namespace tollgate::escapes
