// Small types shared by the profile model and its parts.
#pragma once

#include <string>

namespace tollgate::policy {

// Where a value came from, for messages and `tollgate explain`: "workspace-write.json:12:5".
struct SourceRef {
  std::string file;
  int line = 0;
  int column = 0;
  std::string ToString() const;
};

// A path entry of the filesystem section, with the place it was written.
struct PathEntry {
  std::string path;  // absolute, may start with a placeholder such as "{workspace}/"
  SourceRef where;
};

}  // namespace tollgate::policy
