#include "supervisor/profile_inputs.h"

#include <sys/stat.h>

namespace tollgate {

ProfileInputs::Entry ProfileInputs::Look(const std::string& path) {
  Entry entry;
  entry.path = path;
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return entry;
  entry.exists = true;
  entry.device = st.st_dev;
  entry.inode = st.st_ino;
  entry.mode = st.st_mode;
  entry.size = st.st_size;
  entry.mtime_ns = std::int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  entry.ctime_ns = std::int64_t(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec;
  return entry;
}

ProfileInputs ProfileInputs::Capture(const std::vector<std::string>& paths) {
  ProfileInputs inputs;
  for (const std::string& path : paths) inputs.entries_.push_back(Look(path));
  return inputs;
}

bool ProfileInputs::Unchanged() const {
  return FirstChanged().empty();
}

std::string ProfileInputs::FirstChanged() const {
  for (const Entry& entry : entries_) {
    if (!(Look(entry.path) == entry)) return entry.path;
  }
  return {};
}

}  // namespace tollgate
