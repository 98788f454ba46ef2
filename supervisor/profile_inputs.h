// What a loaded profile was made of, as the file system showed it: the files read and the
// directories a profile could have been found in. A sandbox prepared ahead (`tollgate serve`)
// is used only while this has not changed, so that it runs exactly the profile a launch at
// that moment would load.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tollgate {

class ProfileInputs {
 public:
  // Snapshots `paths`: for each, its identity, size and times (lstat), or that it does not
  // exist. A directory's times change when an entry is added, removed or renamed.
  static ProfileInputs Capture(const std::vector<std::string>& paths);

  // Whether every path still looks as captured.
  bool Unchanged() const;

  // The first path that no longer looks as captured, or "" when none.
  std::string FirstChanged() const;

 private:
  struct Entry {
    std::string path;
    bool exists = false;
    dev_t device = 0;
    ino_t inode = 0;
    mode_t mode = 0;
    off_t size = 0;
    std::int64_t mtime_ns = 0;
    std::int64_t ctime_ns = 0;
    bool operator==(const Entry&) const = default;
  };
  static Entry Look(const std::string& path);

  std::vector<Entry> entries_;
};

}  // namespace tollgate
