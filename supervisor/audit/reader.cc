#include "supervisor/audit/reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

namespace tollgate::audit {

namespace {

// How much of an over-long line is kept, so that a message can show how it starts.
constexpr std::size_t kTooLongPrefix = 256;
constexpr std::size_t kReadChunk = 64 * 1024;
// How often --follow looks for new lines and for a newer file.
constexpr auto kFollowPoll = std::chrono::milliseconds(200);

// Depth of the deepest array or object in `line`, counted without parsing (strings skipped), so
// that a hostile line is refused before any recursive code sees it.
int NestingDepth(std::string_view line) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : line) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
      if (deepest > kMaxRecordDepth) return deepest;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return deepest;
}

// Records carry integers only (record.h): a fraction or an exponent has no single text form.
bool HasFloat(const Json& value) {
  if (value.is_number_float()) return true;
  if (value.is_structured()) {
    for (const Json& item : value)
      if (HasFloat(item)) return true;
  }
  return false;
}

bool IsHex64(const std::string& text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// Reads a field of an expected type; `error` names the field and what was wrong.
class FieldReader {
 public:
  FieldReader(const Json& object, std::string* error) : object_(object), error_(error) {}

  const Json* Find(const char* name) const {
    auto it = object_.find(name);
    return it == object_.end() ? nullptr : &*it;
  }
  bool String(const char* name, std::string* out, bool required) {
    const Json* value = Find(name);
    if (value == nullptr) return required ? Fail(name, "is missing") : true;
    if (!value->is_string()) return Fail(name, "is not a string");
    *out = value->get<std::string>();
    return true;
  }
  bool Fail(const std::string& name, const char* what) {
    *error_ = "\"" + name + "\" " + what;
    return false;
  }

 private:
  const Json& object_;
  std::string* error_;
};

bool ReadProcess(const Json& value, ProcessInfo* process, std::string* error) {
  if (!value.is_object()) return (*error = "\"process\" is not an object"), false;
  FieldReader fields(value, error);
  for (const char* id : {"pid", "ppid"}) {
    const Json* number = fields.Find(id);
    if (number == nullptr) return fields.Fail(std::string("process.") + id, "is missing");
    if (!number->is_number_integer() || number->get<std::int64_t>() < 0 ||
        number->get<std::int64_t>() > 0x7fffffff)
      return fields.Fail(std::string("process.") + id, "is not a process id");
    (std::strcmp(id, "pid") == 0 ? process->pid : process->ppid) =
        static_cast<pid_t>(number->get<std::int64_t>());
  }
  for (const char* text : {"comm", "exe"}) {
    const Json* string = fields.Find(text);
    if (string == nullptr) continue;
    if (!string->is_string()) return fields.Fail(std::string("process.") + text, "is not a string");
    (std::strcmp(text, "comm") == 0 ? process->comm : process->exe) = string->get<std::string>();
  }
  return true;
}

// Reads the fields of a parsed record object into `record`; false with `error` set when a field
// is missing or of the wrong type.
bool ReadFields(const Json& value, ParsedRecord* record, std::string* error) {
  FieldReader fields(value, error);

  const Json* seq = fields.Find(field::kSeq);
  if (seq == nullptr) return fields.Fail(field::kSeq, "is missing");
  if (!seq->is_number_unsigned() || seq->get<std::uint64_t>() == 0)
    return fields.Fail(field::kSeq, "is not a positive integer");
  record->seq = seq->get<std::uint64_t>();

  if (!fields.String(field::kTime, &record->time, true)) return false;
  // Nanoseconds since 1970 fit in 64 bits from 1678 to 2261 only.
  if (record->time.size() >= 4 &&
      (record->time.compare(0, 4, "1678") < 0 || record->time.compare(0, 4, "2261") > 0))
    return fields.Fail(field::kTime, "is out of range (years 1678 to 2261)");
  auto time_ns = ParseTime(record->time);
  if (!time_ns) return fields.Fail(field::kTime, "is not an RFC 3339 UTC time with ns");
  record->time_ns = *time_ns;

  if (!fields.String(field::kRun, &record->run, true)) return false;
  if (const Json* task = fields.Find(field::kTask); task && !task->is_null()) {
    if (!task->is_string()) return fields.Fail(field::kTask, "is not a string");
    record->task = task->get<std::string>();
  }
  if (!fields.String(field::kProfile, &record->profile, false)) return false;
  if (!fields.String(field::kKind, &record->kind, true)) return false;
  if (record->kind.empty()) return fields.Fail(field::kKind, "is empty");

  std::string verdict;
  if (!fields.String(field::kVerdict, &verdict, true)) return false;
  auto parsed_verdict = ParseVerdict(verdict);
  if (!parsed_verdict) return fields.Fail(field::kVerdict, "is not allow, deny or info");
  record->verdict = *parsed_verdict;

  if (!fields.String(field::kRule, &record->rule, false)) return false;
  if (!fields.String(field::kReason, &record->reason, false)) return false;

  if (const Json* process = fields.Find(field::kProcess)) {
    ProcessInfo info;
    if (!ReadProcess(*process, &info, error)) return false;
    record->process = info;
  }
  if (const Json* details = fields.Find(field::kDetails)) {
    if (!details->is_object()) return fields.Fail(field::kDetails, "is not an object");
    record->details = *details;
  }
  if (const Json* escaped = fields.Find(field::kEscaped)) {
    if (!escaped->is_array() ||
        !std::all_of(escaped->begin(), escaped->end(), [](const Json& v) { return v.is_string(); }))
      return fields.Fail(field::kEscaped, "is not an array of field paths");
    record->escaped = *escaped;
  }
  if (const Json* truncated = fields.Find(field::kTruncated)) {
    if (!truncated->is_object() ||
        !std::all_of(truncated->begin(), truncated->end(),
                     [](const Json& v) { return v.is_number_unsigned(); }))
      return fields.Fail(field::kTruncated, "is not an object of original lengths");
    record->truncated = *truncated;
  }
  if (!fields.String(field::kPrev, &record->prev, true)) return false;
  if (!IsHex64(record->prev)) return fields.Fail(field::kPrev, "is not a SHA-256 in hex");
  if (!fields.String(field::kHash, &record->hash, true)) return false;
  if (!IsHex64(record->hash)) return fields.Fail(field::kHash, "is not a SHA-256 in hex");

  static const char* const kKnown[] = {
      field::kSeq,     field::kTime,    field::kRun,       field::kTask,   field::kProfile,
      field::kKind,    field::kVerdict, field::kRule,      field::kReason, field::kProcess,
      field::kDetails, field::kEscaped, field::kTruncated, field::kPrev,   field::kHash};
  for (auto it = value.begin(); it != value.end(); ++it) {
    bool known = std::any_of(std::begin(kKnown), std::end(kKnown),
                             [&](const char* name) { return it.key() == name; });
    if (!known) record->extra[it.key()] = it.value();
  }
  return true;
}

}  // namespace

ParseResult ParseRecordLine(std::string_view line) {
  ParseResult result;
  std::string& error = result.error;
  if (line.size() > kMaxRecordBytes) {
    error = "longer than " + std::to_string(kMaxRecordBytes) + " bytes";
    return result;
  }
  if (line.empty() || line.front() != '{') {
    error = "not a JSON object";
    return result;
  }
  if (NestingDepth(line) > kMaxRecordDepth) {
    error = "nested deeper than " + std::to_string(kMaxRecordDepth) + " levels";
    return result;
  }
  ParsedRecord record;
  try {
    record.value = Json::parse(line);
  } catch (const Json::exception& e) {
    // A syntax error (parse_error) or a number too large for a double (out_of_range, e.g.
    // 1e999); nlohmann's message names the byte offset and what it expected.
    std::string what = e.what();
    auto at = what.find("] ");
    if (at != std::string::npos) at += 2;
    error = "not valid JSON: " + (at == std::string::npos ? what : what.substr(at));
    return result;
  }
  const Json& value = record.value;
  if (!value.is_object()) {
    error = "not a JSON object";
    return result;
  }
  if (HasFloat(value)) {
    error = "holds a number that is not an integer";
    return result;
  }
  if (!ReadFields(value, &record, &error)) return result;
  result.record = std::move(record);
  return result;
}

LineReader::LineReader(int fd) : fd_(fd), buffer_(kReadChunk) {}
LineReader::LineReader(std::string_view buffer) : memory_(buffer), buffer_(kReadChunk) {}

bool LineReader::Fill() {
  begin_ = end_ = 0;
  if (fd_ < 0) {
    std::size_t n = std::min(memory_.size(), buffer_.size());
    std::copy_n(memory_.data(), n, buffer_.data());
    memory_.remove_prefix(n);
    end_ = n;
    return n > 0;
  }
  for (;;) {
    ssize_t n = read(fd_, buffer_.data(), buffer_.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error_ = errno;
      return false;
    }
    end_ = static_cast<std::size_t>(n);
    return n > 0;
  }
}

LineReader::Status LineReader::Next(std::string* text, bool* too_long) {
  for (;;) {
    if (begin_ == end_ && !Fill()) return error_ != 0 ? Status::kError : Status::kEnd;
    const char* start = buffer_.data() + begin_;
    const char* newline = static_cast<const char*>(std::memchr(start, '\n', end_ - begin_));
    std::size_t take = newline ? static_cast<std::size_t>(newline - start) : end_ - begin_;
    if (!discarding_) {
      line_.append(start, take);
      if (line_.size() > kMaxRecordBytes) {
        line_.resize(kTooLongPrefix);
        discarding_ = true;
      }
    }
    begin_ += take;
    if (newline == nullptr) continue;
    ++begin_;  // the newline
    *too_long = discarding_;
    discarding_ = false;
    text->swap(line_);
    line_.clear();
    return Status::kLine;
  }
}

bool LineReader::TakePending(std::string* text, bool* too_long) {
  if (line_.empty() && !discarding_) return false;
  *too_long = discarding_;
  discarding_ = false;
  text->swap(line_);
  line_.clear();
  return true;
}

std::unique_ptr<LogReader> LogReader::Open(const std::string& path, std::string* error) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    *error = "cannot read " + path + ": " + std::strerror(errno);
    return nullptr;
  }
  std::unique_ptr<LogReader> reader(new LogReader());
  if (S_ISDIR(st.st_mode)) {
    reader->directory_ = path;
    std::string list_error;
    reader->files_ = ListLogFiles(path, &list_error);
    if (!list_error.empty()) {
      *error = list_error;
      return nullptr;
    }
  } else if (S_ISREG(st.st_mode)) {
    reader->single_file_ = true;
    reader->directory_ = path;  // the file itself (LogFilePath)
    std::string base = path.substr(path.find_last_of('/') + 1);
    LogFile file = ParseLogFileName(base).value_or(LogFile{});
    file.name = path;
    reader->files_.push_back(file);
  } else {
    *error = path + " is neither a directory nor a file";
    return nullptr;
  }
  if (!reader->files_.empty() && !reader->OpenFile(0)) {
    *error = reader->error_;
    return nullptr;
  }
  return reader;
}

std::unique_ptr<LogReader> LogReader::FromText(std::string_view text, const std::string& name) {
  std::unique_ptr<LogReader> reader(new LogReader());
  reader->single_file_ = true;
  reader->directory_ = name;
  LogFile file = ParseLogFileName(name).value_or(LogFile{});
  file.name = name;
  reader->files_.push_back(file);
  reader->lines_ = std::make_unique<LineReader>(text);
  return reader;
}

LogReader::~LogReader() {
  if (fd_ >= 0) close(fd_);
}

bool ScanLogFrom(const std::string& directory, const std::vector<LogFile>& files, std::size_t first,
                 std::uint64_t offset, const LineVisitor& each, std::string* error) {
  for (std::size_t i = first; i < files.size(); ++i) {
    const std::string path = directory + "/" + files[i].name;
    const std::uint64_t from = i == first ? offset : 0;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || (from > 0 && ::lseek(fd, static_cast<off_t>(from), SEEK_SET) < 0)) {
      *error = "cannot read " + path + ": " + std::strerror(errno);
      if (fd >= 0) ::close(fd);
      return false;
    }
    LineReader lines(fd);
    std::string text;
    bool too_long = false;
    std::uint64_t at = from;
    for (;;) {
      LineReader::Status status = lines.Next(&text, &too_long);
      if (status == LineReader::Status::kError) {
        *error = "cannot read " + path + ": " + std::strerror(lines.error());
        ::close(fd);
        return false;
      }
      if (status == LineReader::Status::kEnd) break;
      const std::uint64_t start = at;
      at += text.size() + 1;
      if (too_long) continue;
      if (!each(files[i].name, start, at, text)) {
        ::close(fd);
        return false;
      }
    }
    ::close(fd);
  }
  return true;
}

std::string LogFilePath(const LogReader& reader, std::size_t file_index) {
  if (reader.single_file()) return reader.directory();
  return reader.directory() + "/" + reader.files()[file_index].name;
}

bool LogReader::OpenFile(std::size_t index) {
  if (fd_ >= 0) close(fd_);
  lines_.reset();
  current_ = index;
  line_number_ = 0;
  std::string path = LogFilePath(*this, index);
  fd_ = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd_ < 0) {
    error_ = "cannot open " + path + ": " + std::strerror(errno);
    return false;
  }
  // O_NONBLOCK only guards the open against a FIFO planted under a log name.
  fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) & ~O_NONBLOCK);
  lines_ = std::make_unique<LineReader>(fd_);
  return true;
}

bool LogReader::RescanForNewerFile() {
  if (single_file_) return false;
  std::string ignored;
  bool found = false;
  for (const LogFile& file : ListLogFiles(directory_, &ignored)) {
    if (files_.empty() || file.name > files_.back().name) {
      files_.push_back(file);
      found = true;
    }
  }
  return found;
}

bool LogReader::Next(LogLine* line) {
  for (;;) {
    if (lines_ == nullptr) {
      // An empty directory: with --follow, wait for the first file.
      if (!follow_ || !error_.empty()) return false;
      if (RescanForNewerFile()) {
        if (!OpenFile(0)) return false;
        continue;
      }
      if (keep_following_ && !keep_following_()) return false;
      std::this_thread::sleep_for(kFollowPoll);
      continue;
    }
    bool too_long = false;
    std::string text;
    LineReader::Status status = lines_->Next(&text, &too_long);
    if (status == LineReader::Status::kError) {
      error_ =
          "cannot read " + LogFilePath(*this, current_) + ": " + std::strerror(lines_->error());
      return false;
    }
    bool complete = status == LineReader::Status::kLine;
    const bool newest = current_ + 1 >= files_.size();
    if (!complete) {
      if (follow_ && newest) {
        // The writer may be in the middle of a line, or rotating: look for a newer file, and
        // read this one once more before leaving it.
        if (RescanForNewerFile()) continue;
        if (keep_following_ && !keep_following_()) return false;
        std::this_thread::sleep_for(kFollowPoll);
        continue;
      }
      if (!lines_->TakePending(&text, &too_long)) {
        if (newest) return false;
        if (!OpenFile(current_ + 1)) return false;
        continue;
      }
    }
    line->file_index = current_;
    line->file = single_file_ ? directory_ : files_[current_].name;
    line->line_number = ++line_number_;
    line->text = std::move(text);
    line->complete = complete;
    line->too_long = too_long;
    return true;
  }
}

}  // namespace tollgate::audit
