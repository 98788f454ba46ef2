#include "supervisor/audit/log_files.h"

#include <dirent.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace tollgate::audit {

std::string LogFileName(std::uint64_t first_seq, const std::string& day) {
  char name[64];
  std::snprintf(name, sizeof name, "audit-%012llu-%s.jsonl",
                static_cast<unsigned long long>(first_seq), day.c_str());
  return name;
}

std::optional<LogFile> ParseLogFileName(const std::string& name) {
  // audit-NNNNNNNNNNNN-YYYYMMDD.jsonl: 6 + 12 + 1 + 8 + 6 characters.
  static constexpr std::size_t kLength = 6 + 12 + 1 + 8 + 6;
  if (name.size() != kLength || name.compare(0, 6, "audit-") != 0 || name[18] != '-' ||
      name.compare(27, 6, ".jsonl") != 0)
    return std::nullopt;
  auto digits = [&](std::size_t at, std::size_t count) {
    return std::all_of(name.begin() + at, name.begin() + at + count,
                       [](char c) { return c >= '0' && c <= '9'; });
  };
  if (!digits(6, 12) || !digits(19, 8)) return std::nullopt;
  LogFile file;
  file.name = name;
  file.first_seq = std::stoull(name.substr(6, 12));
  file.day = name.substr(19, 8);
  return file;
}

std::vector<LogFile> ListLogFiles(const std::string& directory, std::string* error) {
  std::vector<LogFile> files;
  DIR* dir = opendir(directory.c_str());
  if (dir == nullptr) {
    if (error) *error = "cannot read " + directory + ": " + std::strerror(errno);
    return files;
  }
  while (dirent* entry = readdir(dir)) {
    if (auto file = ParseLogFileName(entry->d_name)) files.push_back(*file);
  }
  closedir(dir);
  std::sort(files.begin(), files.end(),
            [](const LogFile& a, const LogFile& b) { return a.name < b.name; });
  return files;
}

std::string UtcDay(std::int64_t unix_ns) {
  std::time_t seconds = static_cast<std::time_t>(unix_ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char day[48];
  std::snprintf(day, sizeof day, "%04d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return day;
}

std::string DefaultLogDirectory() {
  if (geteuid() == 0) return "/var/log/tollgate";
  if (const char* state = std::getenv("XDG_STATE_HOME"); state && state[0] == '/')
    return std::string(state) + "/tollgate/audit";
  const char* home = std::getenv("HOME");
  std::string home_dir = home && home[0] == '/' ? home : "";
  if (home_dir.empty()) {
    if (passwd* pw = getpwuid(getuid()); pw && pw->pw_dir) home_dir = pw->pw_dir;
  }
  return home_dir + "/.local/state/tollgate/audit";
}

}  // namespace tollgate::audit
