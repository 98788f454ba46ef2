// git evidence, read outside the sandbox: HEAD before and after a run, and what the run and the
// task changed (docs/GOVERNANCE.md, "Evidence").
//
// git runs on a repository the sandboxed agent could write to, but never with anything the
// agent could have configured: the repository's configuration files are fingerprinted before
// the run and git is not run after it when they changed (a filter, fsmonitor or textconv
// command planted there would otherwise run outside the sandbox). git runs with no system or
// global configuration, no hooks, no fsmonitor, no optional locks, no external diff or textconv,
// in a clean environment, as the sandbox's host user (not root), with a time limit.
#pragma once

#include <sys/types.h>

#include <set>
#include <string>
#include <vector>

#include "policy/task_evidence.h"

namespace tollgate::governance {

struct GitSnapshot {
  bool repository = false;
  std::string problem;      // why there is no usable repository
  std::string head;         // the commit HEAD names; empty in a repository without commits
  std::string git_dir;      // absolute
  std::string common_dir;   // absolute
  std::string fingerprint;  // SHA-256 over the configuration files git would read
  // What was already changed, uncommitted, before the run (working tree against HEAD,
  // untracked files included): a run is not credited with it.
  std::vector<policy::FileChange> dirty;
};

class GitEvidence {
 public:
  // `workspace`: absolute. As root, git runs as `uid`/`gid` (the sandbox's host ids).
  GitEvidence(std::string workspace, uid_t uid, gid_t gid);

  // Before the run: HEAD and the configuration fingerprint.
  GitSnapshot Before();
  // After the run: HEAD again, unless the configuration changed (then `problem` says so).
  GitSnapshot After(const GitSnapshot& before);

  // What changed from `revision` (a commit; empty: the empty tree) to the working tree,
  // untracked files included (lines counted by reading them, binary files as no lines).
  // False with `error` set when git failed.
  bool Diff(const std::string& revision, policy::DiffStats* stats, std::string* error);

  // What a run changed: the files whose state differs from before it — committed during it,
  // or changed in the working tree where they were not already (a file already changed before
  // the run counts when the run changed its line counts or committed it).
  // `since_head_before`, when given, receives the whole diff from HEAD before the run (what the
  // task changed, when the task began there), from the same git calls.
  bool RunDiff(const GitSnapshot& before, const GitSnapshot& after, policy::DiffStats* stats,
               policy::DiffStats* since_head_before, std::string* error);

  // The full commit id of `revision`, or empty when it does not name a commit.
  std::string ResolveCommit(const std::string& revision);

 private:
  // Runs git with the hardened options; stdout into `out` (at most 64 MiB). False when git
  // could not run, timed out or exited non-zero (`error` says which).
  bool Git(const std::vector<std::string>& args, std::string* out, std::string* error);
  std::string Fingerprint(const std::string& git_dir, const std::string& common_dir);
  bool Locate(std::string* git_dir, std::string* common_dir, std::string* head, std::string* error);
  // The working tree against `base` (empty tree when empty), untracked files included, and the
  // directories of `base`'s tree.
  bool Changes(const std::string& base, std::vector<policy::FileChange>* changes,
               std::set<std::string>* base_directories, std::string* error);

  std::string workspace_;
  uid_t uid_;
  gid_t gid_;
};

}  // namespace tollgate::governance
