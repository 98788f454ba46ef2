// Reading an audit log: the strict parser of one line into a record, and a streaming reader of
// a log directory (or one file) in chain order (docs/AUDIT.md, "Reading the log").
//
// The reader holds one line at a time, whatever the size of the log: `tollgate audit` runs in
// constant memory over millions of records. A line is at most kMaxRecordBytes; a longer one is
// reported as too long (and skipped up to its newline) instead of being buffered.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "supervisor/audit/log_files.h"
#include "supervisor/audit/record.h"

namespace tollgate::audit {

// One record as parsed from its line. Every field of the record format is typed; fields this
// version does not know are kept in `extra` so that nothing of the line is lost.
struct ParsedRecord {
  std::uint64_t seq = 0;
  std::string time;  // as written (RFC 3339, ns)
  std::int64_t time_ns = 0;
  std::string run;
  std::optional<std::string> task;
  std::string profile;
  std::string kind;
  Verdict verdict = Verdict::kInfo;
  std::string rule;
  std::string reason;
  std::optional<ProcessInfo> process;
  Json details = Json::object();
  Json escaped;    // array of field paths, or null
  Json truncated;  // object path -> original length, or null
  std::string prev;
  std::string hash;
  Json extra = Json::object();  // fields this version does not know
  Json value;                   // the whole record as parsed
};

struct ParseResult {
  std::optional<ParsedRecord> record;
  std::string error;  // why the line is not a record, when `record` is empty
};

// Deepest nesting of arrays and objects a record may have. Records nest three levels at most
// (record > details > argv); the bound keeps a hostile line from exhausting the stack of the
// recursive code that walks parsed values.
inline constexpr int kMaxRecordDepth = 16;

// Parses one line (without its newline) strictly: a JSON object of at most kMaxRecordBytes,
// valid UTF-8, integers only, every required field present with its type, `prev` and `hash`
// 64 lower-case hex digits. It does not check the hash or the canonical form: that is
// CheckSeal's job (verify.h), so that `list` can still show a record whose seal is broken.
ParseResult ParseRecordLine(std::string_view line);

// One line of a log as read from its file.
struct LogLine {
  std::size_t file_index = 0;  // into LogReader::files()
  std::string file;            // the file's name (its path when a single file was opened)
  std::uint64_t line_number = 0;
  std::string text;       // without the newline; the first bytes only when too_long
  bool complete = true;   // false: the file ended without a newline after this line
  bool too_long = false;  // longer than kMaxRecordBytes
};

// Splits a byte stream (a file descriptor or a buffer) into lines of bounded length.
class LineReader {
 public:
  explicit LineReader(int fd);  // does not take ownership
  explicit LineReader(std::string_view buffer);

  enum class Status { kLine, kEnd, kError };
  // kLine: a whole line (text without its newline). kEnd: no more bytes for now; an unfinished
  // line stays pending, so that when the file grows (--follow) reading simply goes on.
  Status Next(std::string* text, bool* too_long);
  // The bytes of an unfinished last line, if any (after kEnd), and whether it was too long.
  bool TakePending(std::string* text, bool* too_long);
  int error() const { return error_; }

 private:
  bool Fill();  // false at end of input (or on error)

  int fd_ = -1;
  std::string_view memory_;
  std::vector<char> buffer_;
  std::size_t begin_ = 0, end_ = 0;
  std::string line_;
  bool discarding_ = false;  // inside a line longer than the bound
  int error_ = 0;
};

// Reads the lines of a log in chain order: every file of a log directory in name order, or a
// single file.
class LogReader {
 public:
  // `path` is a log directory or one log file. nullptr and `error` set when it cannot be read.
  static std::unique_ptr<LogReader> Open(const std::string& path, std::string* error);
  // A log held in memory, read as one file called `name` (tests and the fuzzer). `text` must
  // outlive the reader.
  static std::unique_ptr<LogReader> FromText(std::string_view text, const std::string& name);

  // The next line; false at the end of the log (or on a read error: see error()).
  // With follow set, at the end of the newest file it waits for more lines or a newer file
  // (rotation), and returns false only when `keep_following` says to stop.
  bool Next(LogLine* line);

  void set_follow(bool follow, bool (*keep_following)() = nullptr) {
    follow_ = follow;
    keep_following_ = keep_following;
  }
  const std::vector<LogFile>& files() const { return files_; }
  bool single_file() const { return single_file_; }
  const std::string& directory() const { return directory_; }
  const std::string& error() const { return error_; }

 private:
  LogReader() = default;
  bool OpenFile(std::size_t index);
  bool RescanForNewerFile();

  std::string directory_;
  bool single_file_ = false;
  std::vector<LogFile> files_;
  std::size_t current_ = 0;
  int fd_ = -1;
  std::unique_ptr<LineReader> lines_;
  std::uint64_t line_number_ = 0;
  bool follow_ = false;
  bool (*keep_following_)() = nullptr;
  std::string error_;

 public:
  ~LogReader();
  LogReader(const LogReader&) = delete;
  LogReader& operator=(const LogReader&) = delete;
};

// Reads the log of `directory` from byte `offset` of `files[first]` on, through every later file,
// and calls `each` with each whole line: the file's name, the line's first byte and the byte after
// its newline, and its text. Lines longer than kMaxRecordBytes are skipped (tollgate never writes
// one; the offsets after it are then approximate, which a resuming reader's own check catches).
// `each` returns false to stop (ScanLogFrom then returns false and leaves `error` to the caller);
// false with `error` set when a file cannot be read. For readers that resume where they stopped
// (the task index, a run's own records).
using LineVisitor = std::function<bool(const std::string& file, std::uint64_t start,
                                       std::uint64_t end, std::string_view text)>;
bool ScanLogFrom(const std::string& directory, const std::vector<LogFile>& files, std::size_t first,
                 std::uint64_t offset, const LineVisitor& each, std::string* error);

// The path of a file of the log opened by `reader`.
std::string LogFilePath(const LogReader& reader, std::size_t file_index);

}  // namespace tollgate::audit
