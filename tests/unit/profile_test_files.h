// Helpers the profile tests share: profiles kept in memory, and errors as text.
#pragma once

#include <fstream>
#include <map>
#include <optional>
#include <sstream>
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

// A profile shipped in the source tree's profiles/, loaded by name as tollgate would.
inline LoadResult LoadShipped(const std::string& name) {
  FileReader read = [](const std::string& path) -> std::optional<std::string> {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  };
  FileExists exists = [](const std::string& path) { return std::ifstream(path).good(); };
  return ProfileLoader({TOLLGATE_SOURCE_DIR "/profiles"}, read, exists).Load(name);
}

}  // namespace tollgate::policy::test_support
