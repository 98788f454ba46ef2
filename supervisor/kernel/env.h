// The sandboxed command's environment and program lookup.
//
// execvpe() searches the *caller's* PATH, not the PATH of the environment it is given, so the
// lookup is done here against the sandbox's PATH. Everything is computed in the supervisor
// before clone; the command process only walks prepared arrays (no allocation after fork).
#pragma once

#include <string>
#include <vector>

#include "policy/plans.h"

namespace tollgate::kernel {

struct ExecSpec {
  std::vector<std::string> argv_storage;
  std::vector<std::string> env_storage;  // "NAME=value", in plan order
  std::vector<std::string> candidates;   // full paths to try, in PATH order
  std::vector<char*> argv;               // null-terminated views into argv_storage
  std::vector<char*> envp;               // null-terminated views into env_storage
};

// Builds the argv/envp arrays and the list of program paths to try: argv[0] itself when it
// contains a '/', else each directory of the sandbox PATH (default "/usr/local/bin:/usr/bin:/bin").
ExecSpec BuildExecSpec(const std::vector<std::string>& argv, const policy::EnvPlan& env);

// Tries each candidate with execve; returns the most telling errno when none could be run
// (like execvpe: EACCES wins over ENOENT). Only returns on failure.
int ExecFirstCandidate(const ExecSpec& spec);

}  // namespace tollgate::kernel
