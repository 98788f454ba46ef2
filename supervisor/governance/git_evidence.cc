#include "supervisor/governance/git_evidence.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <set>

#include "supervisor/audit/record.h"

namespace tollgate::governance {
namespace {

constexpr std::size_t kMaxOutput = 64u << 20;
constexpr int kTimeoutMs = 60'000;
// Untracked files are read to count their lines; past this size a file counts as binary.
constexpr off_t kMaxCountedFile = 16 << 20;
// git's id of the empty tree: the base of a repository without commits.
constexpr const char* kEmptyTree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

std::int64_t NowMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

std::string Trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

// Lines of a file the agent may have made: opened without following links or blocking on a
// FIFO, regular files only. nullopt: binary, too large or not a regular file.
std::optional<std::uint64_t> CountLines(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > kMaxCountedFile) {
    ::close(fd);
    return std::nullopt;
  }
  std::uint64_t lines = 0;
  bool last_newline = true, binary = false;
  char buffer[65536];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0) {
    for (ssize_t i = 0; i < n; ++i) {
      if (buffer[i] == '\0') binary = true;
      if (buffer[i] == '\n') ++lines;
    }
    last_newline = buffer[n - 1] == '\n';
  }
  ::close(fd);
  if (n < 0 || binary) return std::nullopt;
  if (!last_newline) ++lines;  // as git counts a last line without its newline
  return lines;
}

}  // namespace

GitEvidence::GitEvidence(std::string workspace, uid_t uid, gid_t gid)
    : workspace_(std::move(workspace)), uid_(uid), gid_(gid) {}

bool GitEvidence::Git(const std::vector<std::string>& args, std::string* out, std::string* error) {
  std::vector<std::string> argv = {"git", "--no-pager",
                                   "-C",  workspace_,
                                   "-c",  "safe.directory=*",
                                   "-c",  "core.fsmonitor=false",
                                   "-c",  "core.hooksPath=/dev/null",
                                   "-c",  "core.untrackedCache=false",
                                   "-c",  "diff.external=",
                                   "-c",  "protocol.allow=never"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (std::string& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  // Only what git needs, and nothing that points it at configuration or a terminal.
  const char* env[] = {"PATH=/usr/local/bin:/usr/bin:/bin",
                       "HOME=/nonexistent",
                       "LC_ALL=C",
                       "GIT_CONFIG_NOSYSTEM=1",
                       "GIT_CONFIG_GLOBAL=/dev/null",
                       "GIT_ATTR_NOSYSTEM=1",
                       "GIT_OPTIONAL_LOCKS=0",
                       "GIT_TERMINAL_PROMPT=0",
                       "GIT_NO_REPLACE_OBJECTS=1",
                       nullptr};
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    *error = std::string("pipe: ") + std::strerror(errno);
    return false;
  }
  const bool drop = ::geteuid() == 0 && uid_ != 0;
  pid_t pid = ::fork();
  if (pid < 0) {
    *error = std::string("fork: ") + std::strerror(errno);
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    return false;
  }
  if (pid == 0) {
    int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null_fd < 0 || ::dup2(null_fd, 0) < 0 || ::dup2(pipe_fds[1], 1) < 0 ||
        ::dup2(null_fd, 2) < 0)
      ::_exit(127);
    if (drop && (::setgroups(0, nullptr) != 0 || ::setresgid(gid_, gid_, gid_) != 0 ||
                 ::setresuid(uid_, uid_, uid_) != 0))
      ::_exit(127);
    ::execve("/usr/bin/git", cargv.data(), const_cast<char* const*>(env));
    ::execve("/usr/local/bin/git", cargv.data(), const_cast<char* const*>(env));
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  out->clear();
  bool too_much = false, timed_out = false;
  const std::int64_t deadline = NowMs() + kTimeoutMs;
  char buffer[65536];
  for (;;) {
    pollfd p{pipe_fds[0], POLLIN, 0};
    int left = static_cast<int>(deadline - NowMs());
    if (left <= 0) {
      timed_out = true;
      break;
    }
    int ready = ::poll(&p, 1, left);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      timed_out = ready == 0;
      break;
    }
    ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (out->size() + static_cast<std::size_t>(n) > kMaxOutput) {
      too_much = true;
      break;
    }
    out->append(buffer, static_cast<std::size_t>(n));
  }
  ::close(pipe_fds[0]);
  if (timed_out || too_much) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const std::string what = "git " + (args.empty() ? std::string() : args[0]);
  if (timed_out) {
    *error = what + " did not finish within " + std::to_string(kTimeoutMs / 1000) + " s";
    return false;
  }
  if (too_much) {
    *error = what + " wrote more than 64 MiB";
    return false;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    *error = what + (WIFEXITED(status) && WEXITSTATUS(status) == 127
                         ? " could not run (is git installed in /usr/bin?)"
                         : " failed (status " + std::to_string(WEXITSTATUS(status)) + ")");
    return false;
  }
  return true;
}

std::string GitEvidence::Fingerprint(const std::string& git_dir, const std::string& common_dir) {
  // The effective configuration as git reads it with system and global configuration off:
  // the repository's files, worktree files and everything they include, with their origins.
  std::string config, error;
  if (!Git({"config", "--list", "--show-origin", "-z"}, &config, &error)) config = "?" + error;
  return audit::Sha256Hex(git_dir + '\0' + common_dir + '\0' + config);
}

namespace {

std::vector<std::string> Lines(const std::string& out) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t nl; (nl = out.find('\n', start)) != std::string::npos; start = nl + 1)
    lines.push_back(out.substr(start, nl - start));
  return lines;
}

}  // namespace

// One rev-parse for the git directories and HEAD (a repository without commits has no HEAD
// commit: asked again without it).
bool GitEvidence::Locate(std::string* git_dir, std::string* common_dir, std::string* head,
                         std::string* error) {
  std::string out;
  std::vector<std::string> lines;
  if (Git({"rev-parse", "--absolute-git-dir", "--git-common-dir", "HEAD^{commit}"}, &out, error)) {
    lines = Lines(out);
  } else if (Git({"rev-parse", "--absolute-git-dir", "--git-common-dir"}, &out, error)) {
    lines = Lines(out);
    lines.push_back("");
  } else {
    return false;
  }
  if (lines.size() != 3) {
    *error = "git rev-parse gave unexpected output";
    return false;
  }
  *git_dir = lines[0];
  *common_dir = lines[1].empty() || lines[1][0] == '/' ? lines[1] : workspace_ + "/" + lines[1];
  *head = lines[2];
  return true;
}

GitSnapshot GitEvidence::Before() {
  GitSnapshot snapshot;
  std::string error;
  if (!Locate(&snapshot.git_dir, &snapshot.common_dir, &snapshot.head, &error)) {
    snapshot.problem = "the workspace is not a git repository (" + error + ")";
    return snapshot;
  }
  snapshot.repository = true;
  snapshot.fingerprint = Fingerprint(snapshot.git_dir, snapshot.common_dir);
  if (!Changes(snapshot.head, &snapshot.dirty, nullptr, &error)) {
    snapshot.repository = false;
    snapshot.problem = error;
  }
  return snapshot;
}

GitSnapshot GitEvidence::After(const GitSnapshot& before) {
  GitSnapshot after;
  if (!before.repository) return before;
  std::string git_dir, common, head, error;
  if (!Locate(&git_dir, &common, &head, &error)) {
    after.problem = "the workspace is no longer a git repository (" + error + ")";
    return after;
  }
  if (git_dir != before.git_dir || common != before.common_dir ||
      Fingerprint(git_dir, common) != before.fingerprint) {
    after.problem =
        "the repository's configuration changed during the run: git was not run on it "
        "outside the sandbox (a profile should protect .git/config)";
    return after;
  }
  after = before;
  after.head = head;
  return after;
}

std::string GitEvidence::ResolveCommit(const std::string& revision) {
  if (revision.empty() || revision[0] == '-') return {};
  std::string out, error;
  if (!Git({"rev-parse", "--verify", "-q", "--end-of-options", revision + "^{commit}"}, &out,
           &error))
    return {};
  return Trim(out);
}

bool GitEvidence::Changes(const std::string& revision, std::vector<policy::FileChange>* changes,
                          std::set<std::string>* directories, std::string* error) {
  const std::string base = revision.empty() ? kEmptyTree : revision;
  std::string numstat, tree, untracked;
  if (!Git({"diff", "--numstat", "-z", "--no-renames", "--no-ext-diff", "--no-textconv",
            "--ignore-submodules=all", base, "--"},
           &numstat, error))
    return false;
  if (directories != nullptr &&
      !Git({"ls-tree", "-r", "-d", "-z", "--name-only", base}, &tree, error))
    return false;
  if (!Git({"ls-files", "-z", "--others", "--exclude-standard"}, &untracked, error)) return false;
  if (!policy::ParseNumstatZ(numstat, changes, error)) return false;
  std::size_t start = 0;
  for (std::size_t end; (end = untracked.find('\0', start)) != std::string::npos; start = end + 1) {
    policy::FileChange change;
    change.path = untracked.substr(start, end - start);
    std::optional<std::uint64_t> lines = CountLines(workspace_ + "/" + change.path);
    change.binary = !lines;
    change.added = lines.value_or(0);
    changes->push_back(std::move(change));
  }
  // tollgate's own folder (the plan of a plan phase) is not the task's work.
  std::erase_if(*changes,
                [](const policy::FileChange& c) { return c.path.rfind(".tollgate/", 0) == 0; });
  if (directories != nullptr) {
    start = 0;
    for (std::size_t end; (end = tree.find('\0', start)) != std::string::npos; start = end + 1)
      directories->insert(tree.substr(start, end - start));
  }
  return true;
}

bool GitEvidence::Diff(const std::string& revision, policy::DiffStats* stats, std::string* error) {
  std::vector<policy::FileChange> changes;
  std::set<std::string> directories;
  if (!Changes(revision, &changes, &directories, error)) return false;
  *stats = policy::ComputeDiffStats(std::move(changes), directories);
  return true;
}

bool GitEvidence::RunDiff(const GitSnapshot& before, const GitSnapshot& after,
                          policy::DiffStats* stats, policy::DiffStats* since_head_before,
                          std::string* error) {
  std::vector<policy::FileChange> changes;
  std::set<std::string> directories;
  if (!Changes(before.head, &changes, &directories, error)) return false;
  if (since_head_before != nullptr)
    *since_head_before = policy::ComputeDiffStats(changes, directories);
  std::set<std::string> committed;
  if (after.head != before.head) {
    std::string names;
    if (!Git({"diff", "--name-only", "-z", "--no-renames", "--no-ext-diff",
              before.head.empty() ? kEmptyTree : before.head, after.head, "--"},
             &names, error))
      return false;
    std::size_t start = 0;
    for (std::size_t end; (end = names.find('\0', start)) != std::string::npos; start = end + 1)
      committed.insert(names.substr(start, end - start));
  }
  std::map<std::string, const policy::FileChange*> dirty;
  for (const policy::FileChange& d : before.dirty) dirty[d.path] = &d;
  std::erase_if(changes, [&](const policy::FileChange& c) {
    if (committed.count(c.path)) return false;
    auto it = dirty.find(c.path);
    return it != dirty.end() && it->second->added == c.added && it->second->deleted == c.deleted &&
           it->second->binary == c.binary;
  });
  *stats = policy::ComputeDiffStats(std::move(changes), directories);
  return true;
}

}  // namespace tollgate::governance
