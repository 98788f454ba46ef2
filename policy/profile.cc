#include "policy/profile.h"

namespace tollgate::policy {

std::string SourceRef::ToString() const {
  std::string text = file.empty() ? "<unknown>" : file;
  if (line > 0) {
    text += ":" + std::to_string(line);
    if (column > 0) text += ":" + std::to_string(column);
  }
  return text;
}

}  // namespace tollgate::policy
