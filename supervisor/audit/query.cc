#include "supervisor/audit/query.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace tollgate::audit {

namespace {

// Exact, or a prefix when the pattern ends in '*' ("task.*" matches "task.phase").
bool MatchesPattern(std::string_view pattern, std::string_view value) {
  if (!pattern.empty() && pattern.back() == '*') {
    pattern.remove_suffix(1);
    return value.substr(0, pattern.size()) == pattern;
  }
  return pattern == value;
}

std::string FirstDetail(const Json& details, std::initializer_list<const char*> keys) {
  for (const char* key : keys) {
    std::string text = DetailText(details, key);
    if (!text.empty()) return text;
  }
  return "";
}

bool Digits(std::string_view text, std::size_t at, std::size_t count) {
  if (at + count > text.size()) return false;
  for (std::size_t i = at; i < at + count; ++i)
    if (text[i] < '0' || text[i] > '9') return false;
  return true;
}

long Number(std::string_view text, std::size_t at, std::size_t count) {
  long value = 0;
  for (std::size_t i = at; i < at + count; ++i) value = value * 10 + (text[i] - '0');
  return value;
}

// The entries of a count table, largest first (ties in name order), at most `top` of them.
std::vector<std::pair<std::string, std::uint64_t>> Largest(
    const std::map<std::string, std::uint64_t>& counts, std::size_t top) {
  std::vector<std::pair<std::string, std::uint64_t>> entries(counts.begin(), counts.end());
  std::stable_sort(entries.begin(), entries.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  if (entries.size() > top) entries.resize(top);
  return entries;
}

void CountInto(std::map<std::string, std::uint64_t>* counts, const std::string& key,
               std::uint64_t* dropped = nullptr) {
  auto it = counts->find(key);
  if (it != counts->end()) {
    ++it->second;
  } else if (counts->size() < kMaxSummaryKeys) {
    counts->emplace(key, 1);
  } else if (dropped) {
    ++*dropped;
  }
}

}  // namespace

std::string WithThousands(std::uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string DetailText(const Json& details, const char* key) {
  auto it = details.find(key);
  if (it == details.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<std::int64_t>());
  if (it->is_array()) {
    std::string joined;
    for (const Json& item : *it) {
      if (!joined.empty()) joined += ' ';
      joined += item.is_string() ? item.get<std::string>() : item.dump();
    }
    return joined;
  }
  return "";
}

bool RecordFilter::MayMatchLine(std::string_view line) const {
  return grep.empty() || line.find(grep) != std::string_view::npos;
}

bool RecordFilter::Matches(const ParsedRecord& record, std::string_view line) const {
  if (!MayMatchLine(line)) return false;
  if (!run.empty() && record.run.compare(0, run.size(), run) != 0) return false;
  if (!task.empty() && record.task.value_or("") != task) return false;
  if (!kinds.empty() && std::none_of(kinds.begin(), kinds.end(), [&](const std::string& kind) {
        return MatchesPattern(kind, record.kind);
      }))
    return false;
  if (verdict && record.verdict != *verdict) return false;
  if (since_ns && record.time_ns < *since_ns) return false;
  if (until_ns && record.time_ns >= *until_ns) return false;
  if (pid && (!record.process || record.process->pid != *pid)) return false;
  if (!rule.empty() && !MatchesPattern(rule, record.rule)) return false;
  return true;
}

std::optional<std::int64_t> ParseTimeBound(std::string_view text, std::int64_t now_ns,
                                           std::string* error) {
  constexpr std::int64_t kSecond = 1'000'000'000;
  // A duration before now: 90s, 30m, 24h, 7d, 2w.
  if (!text.empty() && Digits(text, 0, text.size() - 1) && text.size() >= 2 && text.size() <= 12) {
    std::int64_t unit = 0;
    switch (text.back()) {
      case 's':
        unit = kSecond;
        break;
      case 'm':
        unit = 60 * kSecond;
        break;
      case 'h':
        unit = 3600 * kSecond;
        break;
      case 'd':
        unit = 86400 * kSecond;
        break;
      case 'w':
        unit = 7 * 86400 * kSecond;
        break;
    }
    if (unit != 0) {
      std::int64_t count = Number(text, 0, text.size() - 1);
      if (count <= (now_ns / unit)) return now_ns - count * unit;
      *error = "\"" + std::string(text) + "\" reaches back before 1970";
      return std::nullopt;
    }
  }
  // YYYY-MM-DD, then optionally THH:MM[:SS[.fraction]] and Z or ±HH:MM.
  auto fail = [&]() -> std::optional<std::int64_t> {
    *error = "\"" + std::string(text) +
             "\" is not a time: write an RFC 3339 time (2026-11-27T05:29:30Z), a day "
             "(2026-11-27) or a duration before now (90s, 30m, 24h, 7d, 2w)";
    return std::nullopt;
  };
  if (!Digits(text, 0, 4) || text.size() < 10 || text[4] != '-' || !Digits(text, 5, 2) ||
      text[7] != '-' || !Digits(text, 8, 2))
    return fail();
  std::tm tm{};
  tm.tm_year = static_cast<int>(Number(text, 0, 4)) - 1900;
  tm.tm_mon = static_cast<int>(Number(text, 5, 2)) - 1;
  tm.tm_mday = static_cast<int>(Number(text, 8, 2));
  std::int64_t nanos = 0, offset_seconds = 0;
  std::size_t at = 10;
  if (at < text.size()) {
    if ((text[at] != 'T' && text[at] != 't' && text[at] != ' ') || !Digits(text, at + 1, 2) ||
        at + 6 > text.size() || text[at + 3] != ':' || !Digits(text, at + 4, 2))
      return fail();
    tm.tm_hour = static_cast<int>(Number(text, at + 1, 2));
    tm.tm_min = static_cast<int>(Number(text, at + 4, 2));
    at += 6;
    if (at < text.size() && text[at] == ':') {
      if (!Digits(text, at + 1, 2)) return fail();
      tm.tm_sec = static_cast<int>(Number(text, at + 1, 2));
      at += 3;
      if (at < text.size() && text[at] == '.') {
        std::size_t digits = 0;
        std::int64_t scale = 100'000'000;
        while (++at < text.size() && text[at] >= '0' && text[at] <= '9') {
          if (++digits > 9) return fail();
          nanos += (text[at] - '0') * scale;
          scale /= 10;
        }
        if (digits == 0) return fail();
      }
    }
    if (at >= text.size()) return fail();  // a time of day needs its zone
    if (text[at] == 'Z' || text[at] == 'z') {
      ++at;
    } else if ((text[at] == '+' || text[at] == '-') && Digits(text, at + 1, 2) &&
               at + 6 <= text.size() && text[at + 3] == ':' && Digits(text, at + 4, 2)) {
      offset_seconds = Number(text, at + 1, 2) * 3600 + Number(text, at + 4, 2) * 60;
      if (text[at] == '-') offset_seconds = -offset_seconds;
      at += 6;
    } else {
      return fail();
    }
    if (at != text.size()) return fail();
  }
  if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60)
    return fail();
  std::time_t seconds = timegm(&tm);
  return (static_cast<std::int64_t>(seconds) - offset_seconds) * kSecond + nanos;
}

std::string ActionOf(const ParsedRecord& record) {
  const Json& details = record.details;
  const std::string& kind = record.kind;
  std::string what;
  if (kind == kKindSyscallDenied) {
    what = FirstDetail(details, {"syscall", "nr"});
    return "syscall " + (what.empty() ? "?" : what);
  }
  if (kind == kKindExec) {
    // A PATH search tries candidates that are not there: say so, or the table reads as if each
    // of them ran.
    bool absent = details.is_object() && details.contains("found") &&
                  details["found"].is_boolean() && !details["found"].get<bool>();
    return std::string(absent ? "exec (absent) " : "exec ") +
           FirstDetail(details, {"path", "argv"});
  }
  if (kind == kKindFileAccess) {
    std::string op = FirstDetail(details, {"access", "op", "operation"});
    return "file " + (op.empty() ? "" : op + " ") + FirstDetail(details, {"path"});
  }
  if (kind == "net.connect") {
    std::string host = FirstDetail(details, {"host", "hostname", "ip", "address"});
    std::string port = DetailText(details, "port");
    return "net " + host + (port.empty() ? "" : ":" + port);
  }
  if (kind.rfind("tool.", 0) == 0) {
    std::string tool = FirstDetail(details, {"tool", "name", "program"});
    std::string args = FirstDetail(details, {"args", "argv"});
    return "tool " + tool + (args.empty() ? "" : " " + args);
  }
  if (kind == kKindLimitHit) return "limit " + FirstDetail(details, {"limit", "resource"});
  if (kind == kKindRunStart) return "start " + FirstDetail(details, {"command"});
  if (kind == kKindRunEnd) {
    std::string status = FirstDetail(details, {"status"});
    std::string code = DetailText(details, "exit_code");
    return "end " + status + (code.empty() ? "" : " " + code);
  }
  if (kind == kKindLogRecovered) return "recovered " + FirstDetail(details, {"file"});
  return kind + (record.rule.empty() ? "" : " " + record.rule);
}

void Summary::Add(const ParsedRecord& record) {
  ++records_;
  if (first_time_.empty() || record.time < first_time_) first_time_ = record.time;
  if (record.time > last_time_) last_time_ = record.time;
  CountInto(&by_kind_, record.kind);
  CountInto(&by_verdict_, VerdictName(record.verdict));
  if (!record.rule.empty()) CountInto(&by_rule_, record.rule);
  if (record.verdict == Verdict::kDeny)
    CountInto(&denied_actions_, ActionOf(record), &denied_actions_dropped_);

  auto it = runs_.find(record.run);
  if (it == runs_.end()) {
    if (runs_.size() >= kMaxSummaryKeys) {
      ++runs_dropped_;
      return;
    }
    it = runs_.emplace(record.run, RunCounts{}).first;
    run_order_.push_back(record.run);
  }
  RunCounts& run = it->second;
  ++run.records;
  switch (record.verdict) {
    case Verdict::kAllow:
      ++run.allowed;
      break;
    case Verdict::kDeny:
      ++run.denied;
      break;
    case Verdict::kInfo:
      ++run.info;
      break;
  }
  if (run.first_time.empty()) run.first_time = record.time;
  run.last_time = record.time;
  if (run.profile.empty()) run.profile = record.profile;
  if (run.task.empty() && record.task) run.task = *record.task;
  if (record.kind == kKindRunStart) run.command = FirstDetail(record.details, {"command"});
  if (record.kind == kKindRunEnd) {
    std::string status = FirstDetail(record.details, {"status"});
    std::string code = DetailText(record.details, "exit_code");
    run.status = status + (code.empty() ? "" : (status.empty() ? "" : " ") + code);
  }
}

Json Summary::ToJson(std::size_t top) const {
  Json out = Json::object();
  out["records"] = records_;
  if (records_ > 0) {
    out["first_time"] = first_time_;
    out["last_time"] = last_time_;
  }
  out["by_kind"] = by_kind_;
  out["by_verdict"] = by_verdict_;
  out["by_rule"] = by_rule_;
  Json denied = Json::array();
  for (const auto& [action, count] : Largest(denied_actions_, top))
    denied.push_back({{"action", action}, {"count", count}});
  out["top_denied"] = denied;
  if (denied_actions_dropped_ > 0) out["denied_not_itemised"] = denied_actions_dropped_;
  Json runs = Json::array();
  for (const std::string& id : run_order_) {
    const RunCounts& run = runs_.at(id);
    Json entry = {{"run", id},
                  {"records", run.records},
                  {"allowed", run.allowed},
                  {"denied", run.denied},
                  {"info", run.info},
                  {"first_time", run.first_time},
                  {"last_time", run.last_time},
                  {"profile", run.profile}};
    if (!run.task.empty()) entry["task"] = run.task;
    if (!run.command.empty()) entry["command"] = run.command;
    if (!run.status.empty()) entry["status"] = run.status;
    runs.push_back(entry);
  }
  out["runs"] = runs;
  if (runs_dropped_ > 0) out["records_of_runs_not_itemised"] = runs_dropped_;
  return out;
}

std::string Summary::ToText(std::size_t top) const {
  std::string out;
  auto line = [&](const std::string& text) { out += text + "\n"; };
  if (records_ == 0) {
    line("no records");
    return out;
  }
  line(WithThousands(records_) + " records from " + first_time_ + " to " + last_time_ + ", " +
       WithThousands(runs_.size()) + (runs_.size() == 1 ? " run" : " runs"));
  std::string verdicts;
  for (const char* name : {"allow", "deny", "info"}) {
    auto it = by_verdict_.find(name);
    verdicts +=
        std::string("  ") + name + " " + WithThousands(it == by_verdict_.end() ? 0 : it->second);
  }
  line("verdicts:" + verdicts);
  auto table = [&](const char* title, const std::map<std::string, std::uint64_t>& counts,
                   std::size_t limit) {
    if (counts.empty()) return;
    line(title);
    for (const auto& [name, count] : Largest(counts, limit)) {
      char number[32];
      std::snprintf(number, sizeof number, "%10s  ", WithThousands(count).c_str());
      line(number + name);
    }
    if (counts.size() > limit)
      line("           … " + WithThousands(counts.size() - limit) + " more");
  };
  table("by kind:", by_kind_, by_kind_.size());
  table("by rule:", by_rule_, top);
  table("top denied actions:", denied_actions_, top);
  if (denied_actions_dropped_ > 0)
    line("           (" + WithThousands(denied_actions_dropped_) +
         " denials of further distinct actions not itemised)");
  line("runs:");
  for (const std::string& id : run_order_) {
    const RunCounts& run = runs_.at(id);
    line("  " + id + "  profile " + run.profile + (run.task.empty() ? "" : "  task " + run.task));
    line("    " + run.first_time + " .. " + run.last_time + "  records " +
         WithThousands(run.records) + "  allowed " + WithThousands(run.allowed) + "  denied " +
         WithThousands(run.denied) + "  info " + WithThousands(run.info) +
         (run.status.empty() ? "" : "  end: " + run.status));
    if (!run.command.empty()) line("    command: " + run.command);
  }
  if (runs_dropped_ > 0)
    line("  (" + WithThousands(runs_dropped_) + " records of further runs not itemised)");
  return out;
}

}  // namespace tollgate::audit
