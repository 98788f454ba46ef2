// Selecting and counting records: the filters of `tollgate audit list|denied|summary|export`
// and the summary (docs/AUDIT.md).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "supervisor/audit/reader.h"

namespace tollgate::audit {

// A record matches when it passes every filter that is set.
struct RecordFilter {
  std::string run;                 // the run id, or a prefix of it (as short hashes in git)
  std::string task;                // exact
  std::vector<std::string> kinds;  // any of: exact ("exec") or a prefix pattern ("task.*")
  std::optional<Verdict> verdict;
  std::optional<std::int64_t> since_ns;  // time >= since
  std::optional<std::int64_t> until_ns;  // time < until
  std::optional<std::int64_t> pid;       // process.pid
  std::string rule;                      // exact, or a prefix pattern ending in *
  std::string grep;                      // a substring of the line as written (JSON-escaped)

  bool Matches(const ParsedRecord& record, std::string_view line) const;
  // Cheap test on the raw line before parsing it (the grep filter).
  bool MayMatchLine(std::string_view line) const;
};

// A time bound from the command line: RFC 3339 ("2026-11-27T05:29:30Z", with or without a
// fraction, "Z" or an offset such as "+01:00"), a UTC day ("2026-11-27"), or a duration before
// `now_ns` ("90s", "30m", "24h", "7d", "2w"). nullopt with `error` set otherwise.
std::optional<std::int64_t> ParseTimeBound(std::string_view text, std::int64_t now_ns,
                                           std::string* error);

// 1234567 -> "1,234,567": counts as people read them.
std::string WithThousands(std::uint64_t n);

// A detail as text: strings as they are, integers in decimal, arrays joined by spaces; "" for
// anything else or a missing key.
std::string DetailText(const Json& details, const char* key);

// What a denied action was about, in a few words: "syscall ptrace", "exec /usr/bin/curl",
// "net example.com:443", "tool git push", "file /home/a/.ssh/id_ed25519". Used by the summary
// and the table of `list`.
std::string ActionOf(const ParsedRecord& record);

// Counts over the records it is given; memory grows with the number of distinct kinds, rules,
// runs and denied actions (each bounded), never with the number of records.
class Summary {
 public:
  void Add(const ParsedRecord& record);

  Json ToJson(std::size_t top = 10) const;
  std::string ToText(std::size_t top = 10) const;  // for a terminal: pass it through terminal.h

  std::uint64_t records() const { return records_; }

  struct RunCounts {
    std::uint64_t records = 0, allowed = 0, denied = 0, info = 0;
    std::string first_time, last_time;
    std::string profile, task, command, status;
  };

 private:
  std::uint64_t records_ = 0;
  std::string first_time_, last_time_;
  std::map<std::string, std::uint64_t> by_kind_, by_verdict_, by_rule_, denied_actions_;
  std::uint64_t denied_actions_dropped_ = 0;  // denials past the bound on distinct actions
  std::map<std::string, RunCounts> runs_;
  std::vector<std::string> run_order_;  // runs in the order they first appear
  std::uint64_t runs_dropped_ = 0;
};

// Bounds on the summary's tables, so that a log of millions of distinct paths still fits.
inline constexpr std::size_t kMaxSummaryKeys = 100000;

}  // namespace tollgate::audit
