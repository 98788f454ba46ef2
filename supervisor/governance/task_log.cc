#include "supervisor/governance/task_log.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "supervisor/audit/log_files.h"
#include "supervisor/audit/reader.h"

namespace tollgate::governance {
namespace {

using Json = nlohmann::json;

// Where reading stopped: the last record read, by file, byte range, seq and hash.
struct Position {
  std::string file;
  std::uint64_t line_start = 0;
  std::uint64_t offset = 0;  // just past its newline
  std::uint64_t seq = 0;
  std::string hash;
};

policy::TaskEvent ToEvent(const audit::ParsedRecord& r) {
  policy::TaskEvent e;
  e.seq = r.seq;
  e.time = r.time;
  e.run = r.run;
  e.task = r.task.value_or("");
  e.kind = r.kind;
  e.verdict = audit::VerdictName(r.verdict);
  e.rule = r.rule;
  e.reason = r.reason;
  e.details = r.details;
  return e;
}

Json EventJson(const policy::TaskEvent& e) {
  return {{"seq", e.seq},   {"time", e.time},     {"run", e.run},
          {"task", e.task}, {"kind", e.kind},     {"verdict", e.verdict},
          {"rule", e.rule}, {"reason", e.reason}, {"details", e.details}};
}

std::optional<policy::TaskEvent> EventFromJson(const Json& j) {
  if (!j.is_object()) return std::nullopt;
  policy::TaskEvent e;
  try {
    e.seq = j.at("seq").get<std::uint64_t>();
    e.time = j.at("time").get<std::string>();
    e.run = j.at("run").get<std::string>();
    e.task = j.at("task").get<std::string>();
    e.kind = j.at("kind").get<std::string>();
    e.verdict = j.at("verdict").get<std::string>();
    e.rule = j.at("rule").get<std::string>();
    e.reason = j.at("reason").get<std::string>();
    e.details = j.at("details");
  } catch (const Json::exception&) {
    return std::nullopt;
  }
  return e;
}

// Whether the record the index stopped at is still there.
bool IndexMatches(const std::string& directory, const Position& p, std::string* why) {
  const std::string path = directory + "/" + p.file;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *why = p.file + " is gone";
    return false;
  }
  std::string line(p.offset - p.line_start, '\0');
  ssize_t n = p.offset > p.line_start && line.size() <= audit::kMaxRecordBytes + 1
                  ? ::pread(fd, line.data(), line.size(), static_cast<off_t>(p.line_start))
                  : -1;
  ::close(fd);
  if (n != static_cast<ssize_t>(line.size()) || line.back() != '\n') {
    *why = "the record it ends at is not in " + p.file;
    return false;
  }
  line.pop_back();
  audit::ParseResult parsed = audit::ParseRecordLine(line);
  if (!parsed.record || parsed.record->seq != p.seq || parsed.record->hash != p.hash) {
    *why = "the record it ends at (seq " + std::to_string(p.seq) + ") differs from the log's";
    return false;
  }
  return true;
}

bool WriteIndex(const std::string& directory, const Position& p,
                const std::vector<policy::TaskEvent>& events) {
  Json records = Json::array();
  for (const policy::TaskEvent& e : events) records.push_back(EventJson(e));
  Json index = {{"version", 1},
                {"note", "a cache of the task records of this log: tollgate audit reindex"},
                {"file", p.file},
                {"line_start", p.line_start},
                {"offset", p.offset},
                {"seq", p.seq},
                {"hash", p.hash},
                {"records", records}};
  const std::string path = directory + "/" + kTaskIndexFile;
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  std::string text = index.dump() + "\n";
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ::close(fd) == 0 && ok;
  if (!ok || ::rename(temp.c_str(), path.c_str()) != 0) {
    ::unlink(temp.c_str());
    return false;
  }
  return true;
}

bool Load(const std::string& directory, bool use_index, policy::TaskLedger* ledger,
          LedgerLoadStats* stats, std::string* error, std::vector<policy::TaskEvent>* out) {
  *stats = {};
  struct stat st {};
  if (::stat(directory.c_str(), &st) != 0 && errno == ENOENT) return true;  // no log yet
  std::string list_error;
  std::vector<audit::LogFile> files = audit::ListLogFiles(directory, &list_error);
  if (!list_error.empty()) {
    *error = list_error;
    return false;
  }
  std::vector<policy::TaskEvent> events;
  Position position;
  std::size_t first_file = 0;
  std::uint64_t first_offset = 0;
  const std::string index_path = directory + "/" + kTaskIndexFile;
  if (use_index) {
    std::ifstream in(index_path);
    if (in) {
      Json index = Json::parse(in, nullptr, /*allow_exceptions=*/false);
      bool valid = index.is_object() && index.value("version", 0) == 1;
      if (valid) {
        try {
          position = {index.at("file").get<std::string>(),
                      index.at("line_start").get<std::uint64_t>(),
                      index.at("offset").get<std::uint64_t>(), index.at("seq").get<std::uint64_t>(),
                      index.at("hash").get<std::string>()};
          for (const Json& r : index.at("records")) {
            std::optional<policy::TaskEvent> e = EventFromJson(r);
            if (!e) throw std::runtime_error("record");
            events.push_back(std::move(*e));
          }
        } catch (const std::exception&) {
          valid = false;
        }
      }
      std::string why = valid ? "" : "it is not a task index of this version";
      std::size_t found = files.size();
      for (std::size_t i = 0; valid && i < files.size(); ++i) {
        if (files[i].name == position.file) found = i;
      }
      if (valid && found == files.size()) why = position.file + " is not in the log";
      if (why.empty() && IndexMatches(directory, position, &why)) {
        stats->index_used = true;
        first_file = found;
        first_offset = position.offset;
      } else {
        stats->index_ignored_why = why;
        events.clear();
        position = {};
      }
    }
  }
  const std::size_t cached = events.size();
  const Position cached_position = position;
  auto visit = [&](const std::string& file, std::uint64_t start, std::uint64_t end,
                   std::string_view text) {
    stats->lines_read++;
    // Canonical records have no white space: a task record holds exactly this text.
    const bool task_record = text.find("\"kind\":\"task.") != std::string_view::npos;
    audit::ParseResult parsed = audit::ParseRecordLine(text);
    if (!parsed.record) {
      if (!task_record) return true;
      *error = directory + "/" + file + " at byte " + std::to_string(start) + ": " + parsed.error;
      return false;
    }
    position = {file, start, end, parsed.record->seq, parsed.record->hash};
    if (policy::IsTaskKind(parsed.record->kind)) events.push_back(ToEvent(*parsed.record));
    return true;
  };
  if (!audit::ScanLogFrom(directory, files, first_file, first_offset, visit, error)) return false;
  for (const policy::TaskEvent& e : events) ledger->Apply(e);
  stats->task_records = events.size();
  // Refresh the cache when the log moved on (best effort: it is only a cache).
  if (!position.file.empty() &&
      (!stats->index_used || events.size() != cached || position.seq != cached_position.seq))
    WriteIndex(directory, position, events);
  if (out != nullptr) *out = std::move(events);
  return true;
}

}  // namespace

bool LoadLedger(const std::string& directory, policy::TaskLedger* ledger, LedgerLoadStats* stats,
                std::string* error, std::vector<policy::TaskEvent>* events) {
  return Load(directory, /*use_index=*/true, ledger, stats, error, events);
}

bool ReindexLedger(const std::string& directory, policy::TaskLedger* ledger, LedgerLoadStats* stats,
                   std::string* error) {
  ::unlink((directory + "/" + kTaskIndexFile).c_str());
  return Load(directory, /*use_index=*/false, ledger, stats, error, nullptr);
}

std::unique_ptr<DispatchLock> DispatchLock::Acquire(const std::string& directory,
                                                    std::string* error) {
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  ::chmod(directory.c_str(), 0700);
  const std::string path = directory + "/" + kTaskLockFile;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    *error = "cannot open " + path + ": " + std::strerror(errno);
    return nullptr;
  }
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno != EINTR) {
      *error = "cannot lock " + path + ": " + std::strerror(errno);
      ::close(fd);
      return nullptr;
    }
  }
  return std::unique_ptr<DispatchLock>(new DispatchLock(fd));
}

DispatchLock::~DispatchLock() {
  ::close(fd_);
}

namespace {

// Field 22 of /proc/PID/stat: the start time in clock ticks since boot. The command name
// (field 2) may hold spaces and parentheses: count from the last ')'.
std::string StartTime(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t close = stat.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i == 22) return field;
  }
  return {};
}

std::string BootId() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  return id;
}

}  // namespace

policy::Supervisor ThisSupervisor() {
  policy::Supervisor s;
  s.pid = ::getpid();
  s.start = StartTime(s.pid);
  s.boot = BootId();
  return s;
}

bool SupervisorAlive(const policy::Supervisor& s) {
  if (s.pid <= 0 || s.boot != BootId()) return false;
  std::string start = StartTime(s.pid);
  return !start.empty() && start == s.start;
}

}  // namespace tollgate::governance
