#include "policy/plans.h"

namespace tollgate::policy {

const char* LimitName(LimitKind kind) {
  switch (kind) {
    case LimitKind::kMemory:
      return "memory";
    case LimitKind::kProcesses:
      return "processes";
    case LimitKind::kCpuSeconds:
      return "cpu";
    case LimitKind::kWallSeconds:
      return "wall";
    case LimitKind::kFileSize:
      return "file_size";
    case LimitKind::kOpenFiles:
      return "open_files";
    case LimitKind::kTmpfs:
      return "tmpfs";
  }
  return "unknown";
}

std::optional<std::uint64_t> LimitsPlan::Get(LimitKind kind) const {
  for (const Limit& limit : limits) {
    if (limit.kind == kind) return limit.value;
  }
  return std::nullopt;
}

}  // namespace tollgate::policy
