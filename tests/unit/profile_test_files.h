// Helpers the profile tests share: profiles kept in memory, and errors as text.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "policy/profile_loader.h"

namespace tollgate::policy::test_support {

// Profiles kept in memory: the loader sees only what a test puts here.
class InMemoryFiles {
 public:
  void Add(const std::string& path, const std::string& text) { files_[path] = text; }
  FileReader Reader() const {
    return [this](const std::string& path) -> std::optional<std::string> {
      auto found = files_.find(path);
      if (found == files_.end()) return std::nullopt;
      return found->second;
    };
  }
  FileExists Exists() const {
    return [this](const std::string& path) { return files_.count(path) > 0; };
  }

 private:
  std::map<std::string, std::string> files_;
};

// Every error, one per line, for a failing assertion's message.
inline std::string Describe(const std::vector<ProfileError>& errors) {
  std::string text;
  for (const ProfileError& error : errors) text += error.ToString() + "\n";
  return text;
}

}  // namespace tollgate::policy::test_support
