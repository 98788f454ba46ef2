// The audit record: its fields, its canonical form and the hash chain (docs/AUDIT.md).
//
// A record is one JSON object on one line. Its canonical form is the compact JSON serialisation
// with object keys in byte order and no whitespace; `hash` is the SHA-256, in lower-case hex,
// of the canonical form of the record without its `hash` field (but with `prev`, the hash of the
// record before it). The line in the file is the canonical form of the record with `hash`, so a
// reader re-serialises what it parsed and compares byte for byte: any edit, even of white space,
// shows.
//
// Numbers in records are integers only (times in ns, sizes in bytes): floating point has no
// single canonical text.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tollgate::audit {

using Json = nlohmann::json;

enum class Verdict { kAllow, kDeny, kInfo };
const char* VerdictName(Verdict verdict);  // "allow", "deny", "info"
std::optional<Verdict> ParseVerdict(std::string_view text);

// The process an event is about, as the supervisor saw it.
struct ProcessInfo {
  pid_t pid = 0;   // as the sandbox numbers it (its pid namespace) when known, else the host's
  pid_t ppid = 0;  // likewise
  std::string comm;
  std::string exe;
};

inline constexpr std::string_view kKindRunStart = "run.start";
inline constexpr std::string_view kKindRunEnd = "run.end";
inline constexpr std::string_view kKindExec = "exec";
inline constexpr std::string_view kKindSyscallDenied = "syscall.denied";
inline constexpr std::string_view kKindFileAccess = "file.access";
inline constexpr std::string_view kKindLimitHit = "limit.hit";
inline constexpr std::string_view kKindLogRecovered = "log.recovered";
inline constexpr std::string_view kKindToolCall = "tool.call";
inline constexpr std::string_view kKindToolExit = "tool.exit";
inline constexpr std::string_view kKindNetConnect = "net.connect";
inline constexpr std::string_view kKindNetClose = "net.close";

// The `prev` of the very first record of a log.
inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// Field names, in one place for the writer, the reader and the exporters.
namespace field {
inline constexpr const char* kSeq = "seq";
inline constexpr const char* kTime = "time";
inline constexpr const char* kRun = "run";
inline constexpr const char* kTask = "task";
inline constexpr const char* kProfile = "profile";
inline constexpr const char* kKind = "kind";
inline constexpr const char* kVerdict = "verdict";
inline constexpr const char* kRule = "rule";
inline constexpr const char* kReason = "reason";
inline constexpr const char* kProcess = "process";
inline constexpr const char* kDetails = "details";
inline constexpr const char* kPrev = "prev";
inline constexpr const char* kHash = "hash";
// Written only when a string of the record had to be escaped or cut (see SafeStrings).
inline constexpr const char* kEscaped = "escaped";
inline constexpr const char* kTruncated = "truncated";
}  // namespace field

// Bounds on what one record may carry, so that a record stays one reasonable line whatever the
// sandbox does: a string longer than kMaxStringBytes is cut, an array longer than
// kMaxArrayItems keeps its first items, and the total is bounded by kMaxRecordBytes.
inline constexpr std::size_t kMaxStringBytes = 4096;
inline constexpr std::size_t kMaxArrayItems = 256;
inline constexpr std::size_t kMaxRecordBytes = 64 * 1024;

// Turns untrusted strings (argv, paths, host names from the sandbox) into JSON strings that are
// faithful and safe: valid UTF-8 is kept as it is (JSON escapes control characters, so a
// newline can never end a line); a string with invalid UTF-8 has each backslash doubled and
// each invalid byte written as \xNN, and its field path is listed in the record's `escaped`;
// a string over the bound is cut on a character boundary and its field path and original length
// are listed in `truncated`.
class SafeStrings {
 public:
  // `path` names the field in the record, e.g. "details.argv.2".
  Json String(std::string_view raw, const std::string& path,
              std::size_t max_bytes = kMaxStringBytes);
  // An array of strings: at most kMaxArrayItems (the count cut is listed in `truncated` with
  // the original number of items).
  Json StringArray(const std::vector<std::string>& raw, const std::string& path);

  // Adds `escaped` / `truncated` to the record when anything was escaped or cut (to what it
  // already lists, so two SafeStrings can annotate one record).
  void AnnotateRecord(Json* record) const;
  bool empty() const { return escaped_.empty() && truncated_.empty(); }

 private:
  // Null until something is escaped or cut: most events have nothing to note, and an empty
  // array or object would cost an allocation per event.
  Json escaped_;
  Json truncated_;
};

// What the caller knows of an event; the writer adds seq, time, run, task, profile, prev, hash.
// Strings from the sandbox go into `details` through `strings`, whose notes the writer adds to
// the record; the writer passes rule, reason and the process's comm and exe through it too.
struct Event {
  std::string kind;  // "run.start", "exec", "syscall.denied", … (kKind* above)
  Verdict verdict = Verdict::kInfo;
  std::string rule;    // the profile rule or plan entry that decided, or empty
  std::string reason;  // one line a person can read, or empty
  std::optional<ProcessInfo> process;
  Json details = Json::object();
  SafeStrings strings;
};

bool IsValidUtf8(std::string_view text);

// The canonical text of a JSON value (see the top of this file): byte for byte what
// nlohmann::json::dump() writes, at a fraction of the cost (records are written at hundreds of
// thousands per second). Records built through SafeStrings never hold invalid UTF-8.
std::string Canonical(const Json& value);
// The same, appended to `out`; AppendJsonString writes one string. Both throw
// std::invalid_argument for a string that is not UTF-8.
void AppendCanonical(const Json& value, std::string* out);
void AppendJsonString(std::string_view text, std::string* out);

// Lower-case hex SHA-256 of `bytes` (Nettle).
std::string Sha256Hex(std::string_view bytes);

// Computes `hash` for a record that has every other field (including `prev`) and returns the
// line to write: the canonical form with `hash`, and a final newline.
std::string SealRecord(Json* record);

// RFC 3339 UTC time with nanoseconds: 2026-11-27T05:28:56.123456789Z.
std::string FormatTime(std::int64_t unix_ns);
// The inverse; nullopt when `text` is not in exactly that form.
std::optional<std::int64_t> ParseTime(std::string_view text);

}  // namespace tollgate::audit
