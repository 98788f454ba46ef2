// What a profile says about one file access: the answer the audit log's `files` level records
// next to each open, create, remove or rename it observes. Pure: the mount plan alone decides,
// the way the kernel will (the mount view and Landlock, both built from it); this function never
// grants anything, it explains what the kernel does.
#pragma once

#include <string>
#include <string_view>

#include "policy/plans.h"

namespace tollgate::policy {

enum class FileAccess {
  kRead,    // open for reading, O_PATH
  kWrite,   // open for writing, truncate, chmod/chown
  kCreate,  // O_CREAT, mkdir, link, symlink, the new name of a rename
  kRemove,  // unlink, rmdir, the old name of a rename
};
const char* FileAccessName(FileAccess access);  // "read", "write", "create", "remove"

struct FileDecision {
  bool allowed = false;
  std::string rule;    // the mount plan entry that decides: its `why` (profile file:line)
  std::string reason;  // one line
};

// `path` as the sandbox sees it, absolute; "." and ".." are resolved lexically (symlinks are
// not: the record is an observation, the kernel resolves).
FileDecision DecideFileAccess(const SandboxPlan& plan, std::string_view path, FileAccess access);

// "/a/./b//c/../d" -> "/a/b/d"; ".." above the root stays at the root.
std::string NormalizePath(std::string_view path);

}  // namespace tollgate::policy
