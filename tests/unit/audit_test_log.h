// A small audit log for the tests of the reading side: records sealed with SealRecord into
// files named and rotated as the writer names and rotates them, and helpers to tamper with them.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "supervisor/audit/log_files.h"
#include "supervisor/audit/reader.h"
#include "supervisor/audit/record.h"

namespace tollgate::audit::testing {

class TestLog {
 public:
  TestLog() {
    char name[] = "/tmp/tollgate-audit-read-XXXXXX";
    if (mkdtemp(name) == nullptr) std::abort();
    dir_ = name;
  }
  ~TestLog() { std::filesystem::remove_all(dir_); }
  TestLog(const TestLog&) = delete;
  TestLog& operator=(const TestLog&) = delete;

  const std::string& dir() const { return dir_; }

  // 2026-11-27T05:29:30Z plus one millisecond per record.
  static constexpr std::int64_t kStartNs = 1'795'757'370'000'000'000;

  // Builds the next record (not yet sealed): the caller may change it before Append.
  Json Next(const std::string& kind, Verdict verdict = Verdict::kAllow,
            Json details = Json::object()) {
    std::uint64_t seq = last_seq_ + 1;
    if (details.is_null()) details = Json::object();  // `{}` in a call is a null Json
    Json record = {{"seq", seq},
                   {"time", FormatTime(kStartNs + static_cast<std::int64_t>(seq) * 1'000'000)},
                   {"run", run},
                   {"profile", "workspace-write"},
                   {"kind", kind},
                   {"verdict", VerdictName(verdict)},
                   {"rule", ""},
                   {"reason", ""},
                   {"process",
                    {{"pid", 100 + static_cast<int>(seq)},
                     {"ppid", 1},
                     {"comm", "sh"},
                     {"exe", "/usr/bin/sh"}}},
                   {"details", details},
                   {"prev", last_hash_}};
    if (!task.empty()) record["task"] = task;
    return record;
  }

  // Seals `record` and appends it to the current file (a new one after Rotate or at first).
  std::string Append(Json record) {
    std::string line = SealRecord(&record);
    last_seq_ = record["seq"].get<std::uint64_t>();
    last_hash_ = record["hash"].get<std::string>();
    if (current_.empty())
      current_ = LogFileName(last_seq_, UtcDay(*ParseTime(record["time"].get<std::string>())));
    std::ofstream(Path(current_), std::ios::app) << line;
    chmod(Path(current_).c_str(), 0600);
    return line;
  }

  std::string Add(const std::string& kind, Verdict verdict = Verdict::kAllow,
                  Json details = Json::object()) {
    return Append(Next(kind, verdict, std::move(details)));
  }

  // Seals the current file as the writer does when it rotates; the next record starts a file.
  void Rotate() {
    if (!current_.empty()) chmod(Path(current_).c_str(), 0400);
    current_.clear();
  }

  std::vector<std::string> Files() const {
    std::string error;
    std::vector<std::string> names;
    for (const LogFile& file : ListLogFiles(dir_, &error)) names.push_back(file.name);
    return names;
  }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  // The lines of a file, without newlines (a last line without one is kept as it is).
  std::vector<std::string> Lines(const std::string& name) const {
    std::ifstream in(Path(name));
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(in, line)) lines.push_back(line);
    return lines;
  }
  // Replaces the content of a file (even a sealed one), keeping its mode.
  void WriteFile(const std::string& name, const std::string& content) const {
    struct stat st {};
    stat(Path(name).c_str(), &st);
    chmod(Path(name).c_str(), 0600);
    std::ofstream(Path(name), std::ios::trunc) << content;
    chmod(Path(name).c_str(), st.st_mode & 07777);
  }
  void WriteLines(const std::string& name, const std::vector<std::string>& lines) const {
    std::string content;
    for (const std::string& line : lines) content += line + "\n";
    WriteFile(name, content);
  }
  std::string ReadFile(const std::string& name) const {
    std::ifstream in(Path(name));
    std::stringstream content;
    content << in.rdbuf();
    return content.str();
  }

  std::uint64_t last_seq() const { return last_seq_; }
  const std::string& last_hash() const { return last_hash_; }

  std::string run = "run-0001";
  std::string task;

 private:
  std::string dir_;
  std::string current_;
  std::uint64_t last_seq_ = 0;
  std::string last_hash_{kGenesisHash};
};

// A line TestLog::Add returned (with its newline), parsed; a test failure if it does not parse.
inline ParsedRecord Parse(const std::string& line) {
  ParseResult result = ParseRecordLine(line.substr(0, line.size() - 1));
  EXPECT_TRUE(result.record) << result.error;
  return result.record.value_or(ParsedRecord{});
}

}  // namespace tollgate::audit::testing
