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

const char* LandlockModeName(LandlockMode mode) {
  switch (mode) {
    case LandlockMode::kOff:
      return "off";
    case LandlockMode::kRequire:
      return "require";
    case LandlockMode::kBestEffort:
      return "best-effort";
  }
  return "best-effort";
}

LandlockMode ParseLandlockMode(std::string_view text) {
  if (text == "require") return LandlockMode::kRequire;
  if (text == "off") return LandlockMode::kOff;
  return LandlockMode::kBestEffort;
}

}  // namespace tollgate::policy
