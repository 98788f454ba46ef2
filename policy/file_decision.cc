#include "policy/file_decision.h"

#include <vector>

namespace tollgate::policy {

const char* FileAccessName(FileAccess access) {
  switch (access) {
    case FileAccess::kRead:
      return "read";
    case FileAccess::kWrite:
      return "write";
    case FileAccess::kCreate:
      return "create";
    case FileAccess::kRemove:
      return "remove";
  }
  return "read";
}

std::string NormalizePath(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t at = 0;
  while (at <= path.size()) {
    std::size_t end = path.find('/', at);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(at, end - at);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    at = end + 1;
  }
  std::string out;
  for (std::string_view part : parts) out.append("/").append(part);
  return out.empty() ? "/" : out;
}

namespace {

bool IsWithin(std::string_view path, std::string_view dir) {
  if (dir == "/") return true;
  return path.size() >= dir.size() && path.compare(0, dir.size(), dir) == 0 &&
         (path.size() == dir.size() || path[dir.size()] == '/');
}

}  // namespace

FileDecision DecideFileAccess(const SandboxPlan& plan, std::string_view raw_path,
                              FileAccess access) {
  const std::string path = NormalizePath(raw_path);
  const bool modifies = access != FileAccess::kRead;
  // The innermost tree that shows the path, and what covers it after: later operations mount
  // over earlier ones, so the last matching operation of each kind counts.
  const MountOp* shown = nullptr;
  const MountOp* hidden = nullptr;
  const MountOp* protect = nullptr;
  const MountOp* read_only = nullptr;
  for (const MountOp& op : plan.mounts.ops) {
    if (!IsWithin(path, op.target)) continue;
    switch (op.kind) {
      case MountOpKind::kTmpfs:
      case MountOpKind::kBind:
      case MountOpKind::kProc:
      case MountOpKind::kDevpts:
        if (shown == nullptr || op.target.size() >= shown->target.size()) shown = &op;
        break;
      case MountOpKind::kHide:
        hidden = &op;
        break;
      case MountOpKind::kProtect:
        protect = &op;
        break;
      case MountOpKind::kReadOnly:
        read_only = &op;
        break;
      default:
        break;
    }
  }
  if (hidden != nullptr)
    return {false, hidden->why, "the profile hides " + hidden->target + " from the sandbox"};
  if (shown == nullptr)
    return {false, "filesystem: not in the view",
            "no entry of the profile shows " + path +
                " (the sandbox's root is empty but for "
                "what the profile lists)"};
  if (!modifies) return {true, shown->why, ""};
  if (protect != nullptr)
    return {false, protect->why,
            protect->target + " is protected: read-only even in a writable tree"};
  if (read_only != nullptr) return {false, read_only->why, read_only->target + " is read-only"};
  // The sandbox's own /proc: its processes' files are theirs to write; the kernel decides.
  if (shown->kind == MountOpKind::kProc) return {true, shown->why, ""};
  if (!shown->writable) return {false, shown->why, shown->target + " is read-only in this profile"};
  return {true, shown->why, ""};
}

}  // namespace tollgate::policy
