#include "supervisor/plan_context.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

extern char** environ;

namespace tollgate {
namespace {

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string Canonical(const std::string& path) {
  char buffer[PATH_MAX];
  return realpath(path.c_str(), buffer) ? std::string(buffer) : std::string();
}

std::string ReadFirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return Trim(line);
}

// A linked worktree has a `.git` file saying "gitdir: <path>"; that git dir has a `commondir`
// file naming the repository's shared directory (objects, refs, hooks, config).
void DetectWorktree(policy::PlanContext& context) {
  std::string dot_git = context.workspace + "/.git";
  struct stat st;
  if (lstat(dot_git.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return;
  std::string line = ReadFirstLine(dot_git);
  const std::string prefix = "gitdir: ";
  if (line.compare(0, prefix.size(), prefix) != 0) return;
  std::string git_dir = line.substr(prefix.size());
  if (!git_dir.empty() && git_dir[0] != '/') git_dir = context.workspace + "/" + git_dir;
  git_dir = Canonical(git_dir);
  if (git_dir.empty()) return;
  std::string common = ReadFirstLine(git_dir + "/commondir");
  if (common.empty()) common = git_dir;
  if (common[0] != '/') common = git_dir + "/" + common;
  context.git_dir = git_dir;
  context.git_common_dir = Canonical(common);
}

}  // namespace

std::string AbsolutePath(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char cwd[PATH_MAX];
  return ::getcwd(cwd, sizeof cwd) ? std::string(cwd) + "/" + path : path;
}

PlanContextResult GatherPlanContext(const std::string& workspace, uid_t home_uid) {
  PlanContextResult result;
  policy::PlanContext& context = result.context;
  std::string absolute = workspace;
  if (absolute.empty() || absolute[0] != '/') {
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) {
      result.error = std::string("cannot read the current directory: ") + std::strerror(errno);
      return result;
    }
    absolute = workspace.empty() || workspace == "." ? cwd : std::string(cwd) + "/" + workspace;
  }
  context.workspace = Canonical(absolute);
  if (context.workspace.empty()) {
    result.error = "workspace " + absolute + ": " + std::strerror(errno) +
                   " (pass an existing directory with --workspace)";
    return result;
  }
  struct stat st;
  if (stat(context.workspace.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    result.error = "workspace " + absolute + " is not a directory";
    return result;
  }
  while (absolute.size() > 1 && absolute.back() == '/') absolute.pop_back();
  if (absolute != context.workspace) context.workspace_alias = absolute;

  const char* home = getenv("HOME");
  if (home_uid != getuid() || home == nullptr || home[0] != '/') {
    struct passwd* pw = getpwuid(home_uid);
    home = pw ? pw->pw_dir : nullptr;
  }
  context.home = home ? Trim(home) : "";
  while (context.home.size() > 1 && context.home.back() == '/') context.home.pop_back();
  const char* cache = getenv("XDG_CACHE_HOME");
  context.cache = (cache && cache[0] == '/') ? std::string(cache) : context.home + "/.cache";

  DetectWorktree(context);
  for (char** env = environ; env && *env; ++env) {
    const char* eq = std::strchr(*env, '=');
    if (eq == nullptr) continue;
    context.host_env.emplace(std::string(*env, static_cast<size_t>(eq - *env)),
                             std::string(eq + 1));
  }
  return result;
}

}  // namespace tollgate
