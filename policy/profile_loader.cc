#include "policy/profile_loader.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "policy/json_locations.h"
#include "policy/syscall_groups.h"

namespace tollgate::policy {
namespace {

// ordered_json iterates members in file order, so errors come out in the order they were written.
using Json = nlohmann::ordered_json;

// ---------------------------------------------------------------------------------------------
// Small text helpers.

bool IsPathLike(const std::string& name_or_path) {
  return name_or_path.find('/') != std::string::npos ||
         (name_or_path.size() >= 5 && name_or_path.ends_with(".json"));
}

bool IsProfileName(std::string_view name) {
  if (name.empty()) return false;
  auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!lower_or_digit(name[0])) return false;
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return lower_or_digit(c) || c == '-'; });
}

bool IsEnvName(std::string_view name) {
  if (name.empty()) return false;
  auto letter = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  if (!letter(name[0])) return false;
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return letter(c) || (c >= '0' && c <= '9'); });
}

// Env names with '*' wildcards: "LC_*", "*TOKEN*".
bool IsEnvPattern(std::string_view pattern) {
  if (pattern.empty()) return false;
  if (pattern[0] >= '0' && pattern[0] <= '9') return false;
  return std::all_of(pattern.begin(), pattern.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '*';
  });
}

std::string JoinPath(const std::string& dir, const std::string& file) {
  if (dir.empty()) return file;
  if (dir.back() == '/') return dir + file;
  return dir + "/" + file;
}

std::string DirectoryOf(const std::string& path) {
  std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return "";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Identity of a file for cycle detection and caching: "./a/../b.json" and "b.json" are one file.
std::string FileKey(const std::string& path) {
  return std::filesystem::path(path).lexically_normal().string();
}

std::string Quoted(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

std::string Join(const std::vector<std::string>& items, std::string_view separator) {
  std::string joined;
  for (const std::string& item : items) {
    if (!joined.empty()) joined += separator;
    joined += item;
  }
  return joined;
}

std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// The closest candidate, if it is close enough to be a plausible typo.
template <typename Range>
std::optional<std::string> NearestName(std::string_view wrong, const Range& candidates) {
  std::size_t limit = std::max<std::size_t>(1, std::min<std::size_t>(3, wrong.size() / 3));
  std::optional<std::string> best;
  std::size_t best_distance = limit + 1;
  for (const auto& candidate : candidates) {
    std::size_t distance = EditDistance(wrong, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = std::string(candidate);
    }
  }
  return best;
}

std::string TypeName(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return "boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return "number";
    case Json::value_t::string:
      return "string";
    case Json::value_t::array:
      return "array";
    case Json::value_t::object:
      return "object";
    default:
      return "unsupported value";
  }
}

// ---------------------------------------------------------------------------------------------
// Placeholders and paths.

struct Problem {
  std::string message;
  std::string hint;
};

bool IsKnownPlaceholder(std::string_view token) {
  return std::any_of(std::begin(kPlaceholders), std::end(kPlaceholders),
                     [&](const char* known) { return token == known; });
}

std::string KnownPlaceholderList() {
  std::vector<std::string> names(std::begin(kPlaceholders), std::end(kPlaceholders));
  return Join(names, ", ");
}

// Length of a placeholder-shaped token "{identifier}" at text[at], or 0. Other braces are text.
std::size_t PlaceholderTokenLength(std::string_view text, std::size_t at) {
  if (at >= text.size() || text[at] != '{') return 0;
  std::size_t i = at + 1;
  auto ident_start = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  };
  if (i >= text.size() || !ident_start(text[i])) return 0;
  while (i < text.size() &&
         (ident_start(text[i]) || (text[i] >= '0' && text[i] <= '9') || text[i] == '-')) {
    ++i;
  }
  if (i >= text.size() || text[i] != '}') return 0;
  return i + 1 - at;
}

std::optional<Problem> CheckControlCharacters(std::string_view text) {
  for (char c : text) {
    unsigned char byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F) {
      char code[8];
      std::snprintf(code, sizeof code, "U+%04X", byte);
      return Problem{std::string("contains the control character ") + code,
                     "remove it; control characters are never part of a usable path"};
    }
  }
  return std::nullopt;
}

// Reports placeholder tokens anywhere in `text` from `from` on. `allow_known` is for env values,
// where a known placeholder may appear anywhere; in a path it may only lead.
std::optional<Problem> CheckPlaceholderTokens(std::string_view text, std::size_t from,
                                              bool allow_known) {
  for (std::size_t i = from; i < text.size(); ++i) {
    std::size_t length = PlaceholderTokenLength(text, i);
    if (length == 0) continue;
    std::string token(text.substr(i, length));
    if (!IsKnownPlaceholder(token)) {
      return Problem{"unknown placeholder " + token,
                     "known placeholders: " + KnownPlaceholderList()};
    }
    if (!allow_known) {
      return Problem{"placeholder " + token + " may only start a path",
                     "write " + Quoted(token + "/...") + " or an absolute path"};
    }
    i += length - 1;
  }
  return std::nullopt;
}

std::optional<Problem> CheckPath(std::string_view path) {
  const std::string fix_relative =
      "write an absolute path (\"/usr/lib\") or start with a placeholder: " +
      KnownPlaceholderList();
  if (path.empty()) return Problem{"empty path", fix_relative};
  if (auto problem = CheckControlCharacters(path)) return problem;

  std::size_t rest_start = 0;
  if (std::size_t length = PlaceholderTokenLength(path, 0); length > 0) {
    std::string token(path.substr(0, length));
    if (!IsKnownPlaceholder(token)) {
      return Problem{"unknown placeholder " + token,
                     "known placeholders: " + KnownPlaceholderList()};
    }
    if (length < path.size() && path[length] != '/') {
      return Problem{"placeholder " + token + " must be followed by '/' or end the path",
                     "write " + Quoted(token + "/" + std::string(path.substr(length)))};
    }
    rest_start = length;
  } else if (path[0] != '/') {
    return Problem{"relative path " + Quoted(path), fix_relative};
  }

  if (auto problem = CheckPlaceholderTokens(path, rest_start, /*allow_known=*/false)) {
    return problem;
  }

  std::string_view rest = path.substr(rest_start);
  if (rest.empty() || path == "/") return std::nullopt;
  if (rest.back() == '/') {
    return Problem{"trailing '/'",
                   "write " + Quoted(path.substr(0, path.find_last_not_of('/') + 1))};
  }
  // rest starts with '/': walk its components.
  std::size_t start = 1;
  while (start <= rest.size()) {
    std::size_t end = rest.find('/', start);
    if (end == std::string_view::npos) end = rest.size();
    std::string_view component = rest.substr(start, end - start);
    if (component.empty()) return Problem{"empty path component ('//')", "use a single '/'"};
    if (component == "." || component == "..") {
      return Problem{"'" + std::string(component) + "' component",
                     "write the path without '.' and '..' components; they are not resolved"};
    }
    start = end + 1;
  }
  return std::nullopt;
}

// The collector's bounds on a pattern (supervisor/governance/evidence_files.cc): a pattern the
// loader accepts must be one the collector walks.
constexpr std::size_t kMaxEvidenceGlobBytes = 4096;
constexpr std::size_t kMaxEvidenceGlobSegments = 64;

// An evidence glob: relative to the workspace, '/'-separated segments, each a name with '*', '?'
// and '[...]' classes, or "**" alone for any number of directories.
std::optional<Problem> CheckEvidenceGlob(std::string_view glob) {
  const std::string relative_hint =
      "write a pattern relative to the workspace, such as \"build/test-results/**/*.xml\"";
  if (glob.empty()) return Problem{"empty pattern", relative_hint};
  if (glob.size() > kMaxEvidenceGlobBytes) {
    return Problem{"longer than " + std::to_string(kMaxEvidenceGlobBytes) + " bytes",
                   "name the folder the reports are in"};
  }
  if (auto problem = CheckControlCharacters(glob)) return problem;
  if (glob[0] == '/') return Problem{"absolute path " + Quoted(glob), relative_hint};
  if (std::size_t length = PlaceholderTokenLength(glob, 0);
      length > 0 && IsKnownPlaceholder(glob.substr(0, length))) {
    return Problem{"placeholder " + std::string(glob.substr(0, length)) + " in a pattern",
                   "evidence patterns are already relative to the workspace: " + relative_hint};
  }
  std::size_t start = 0;
  std::size_t segments = 0;
  while (start <= glob.size()) {
    std::size_t end = glob.find('/', start);
    if (end == std::string_view::npos) end = glob.size();
    std::string_view segment = glob.substr(start, end - start);
    if (++segments > kMaxEvidenceGlobSegments) {
      return Problem{"more than " + std::to_string(kMaxEvidenceGlobSegments) + " segments",
                     "name the folder the reports are in, or use \"**\""};
    }
    if (segment.empty()) {
      return Problem{end == glob.size() ? "trailing '/'" : "empty segment ('//')",
                     "end the pattern with a name or \"**\"; use a single '/' between segments"};
    }
    if (segment == "." || segment == "..") {
      return Problem{"'" + std::string(segment) + "' segment",
                     "evidence is collected inside the workspace; " + relative_hint};
    }
    if (segment != "**" && segment.find("**") != std::string_view::npos) {
      return Problem{"'**' inside the segment " + Quoted(segment),
                     "\"**\" stands alone for any number of directories (\"a/**/b.xml\"); within "
                     "a name, '*' already matches any characters"};
    }
    for (std::size_t i = 0; i < segment.size(); ++i) {
      if (segment[i] == '\\') {  // escapes the next character ("\\[" is a literal '[')
        ++i;
        continue;
      }
      if (segment[i] != '[') continue;
      std::size_t close = i + 1;
      if (close < segment.size() && (segment[close] == '!' || segment[close] == '^')) ++close;
      if (close < segment.size() && segment[close] == ']') ++close;  // "[]]": a literal ']'
      close = segment.find(']', close);
      if (close == std::string_view::npos) {
        return Problem{"unclosed '[' in " + Quoted(segment),
                       "close the character class: \"TEST-[0-9].xml\""};
      }
      i = close;
    }
    start = end + 1;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// errno names.

struct ErrnoName {
  std::string_view name;
  int value;
};

constexpr ErrnoName kErrnoNames[] = {
    {"EPERM", EPERM},
    {"ENOENT", ENOENT},
    {"ESRCH", ESRCH},
    {"EINTR", EINTR},
    {"EIO", EIO},
    {"ENXIO", ENXIO},
    {"E2BIG", E2BIG},
    {"ENOEXEC", ENOEXEC},
    {"EBADF", EBADF},
    {"ECHILD", ECHILD},
    {"EAGAIN", EAGAIN},
    {"ENOMEM", ENOMEM},
    {"EACCES", EACCES},
    {"EFAULT", EFAULT},
    {"EBUSY", EBUSY},
    {"EEXIST", EEXIST},
    {"EXDEV", EXDEV},
    {"ENODEV", ENODEV},
    {"ENOTDIR", ENOTDIR},
    {"EISDIR", EISDIR},
    {"EINVAL", EINVAL},
    {"ENFILE", ENFILE},
    {"EMFILE", EMFILE},
    {"ENOTTY", ENOTTY},
    {"EFBIG", EFBIG},
    {"ENOSPC", ENOSPC},
    {"ESPIPE", ESPIPE},
    {"EROFS", EROFS},
    {"EMLINK", EMLINK},
    {"EPIPE", EPIPE},
    {"ENOSYS", ENOSYS},
    {"ENOTSUP", ENOTSUP},
    {"EOPNOTSUPP", EOPNOTSUPP},
    {"EPROTONOSUPPORT", EPROTONOSUPPORT},
    {"EAFNOSUPPORT", EAFNOSUPPORT},
    {"ENETUNREACH", ENETUNREACH},
    {"ECONNREFUSED", ECONNREFUSED},
    {"EHOSTUNREACH", EHOSTUNREACH},
};

// The largest value the kernel's SECCOMP_RET_ERRNO data can carry as an errno.
constexpr std::int64_t kMaxErrno = 4095;

// ---------------------------------------------------------------------------------------------
// One document: parsed JSON plus where everything is in the text.

struct Document {
  std::string file;
  std::string text;
  Json json;
  bool has_duplicate_keys = false;
  // Where every value is in the text: scanned the first time a position is needed (an error, a
  // filesystem entry's source). Most of a large profile (tool rules, examples) never needs one.
  const JsonLocations& locations() const {
    if (!locations_) locations_ = JsonLocations::Scan(text);
    return *locations_;
  }

 private:
  mutable std::optional<JsonLocations> locations_;
};

struct ExtendsEntry {
  std::string name;
  std::string json_path;
};

struct ParsedDocument {
  Profile profile;  // this document's own fields only; parents not merged yet
  std::vector<ExtendsEntry> extends;
  std::vector<ProfileError> errors;
};

template <typename T>
void AppendUnique(std::vector<T>& into, const T& item) {
  if (std::find(into.begin(), into.end(), item) == into.end()) into.push_back(item);
}

void AppendUniquePaths(std::vector<PathEntry>& into, const std::vector<PathEntry>& from) {
  for (const PathEntry& entry : from) {
    bool present = std::any_of(into.begin(), into.end(), [&](const PathEntry& existing) {
      return existing.path == entry.path;
    });
    if (!present) into.push_back(entry);
  }
}

void AppendUniqueGlobs(std::vector<EvidencePattern>& into,
                       const std::vector<EvidencePattern>& from) {
  for (const EvidencePattern& pattern : from) {
    bool present = std::any_of(into.begin(), into.end(), [&](const EvidencePattern& existing) {
      return existing.glob == pattern.glob;
    });
    if (!present) into.push_back(pattern);
  }
}

void AppendUniqueStrings(std::vector<std::string>& into, const std::vector<std::string>& from) {
  for (const std::string& item : from) AppendUnique(into, item);
}

template <typename T>
void Override(std::optional<T>& into, const std::optional<T>& from) {
  if (from) into = from;
}

// Lays `layer` over `into`: lists accumulate, scalars are replaced, env.set merges per name.
void MergeInto(Profile& into, const Profile& layer) {
  FilesystemSpec& fs = into.filesystem;
  AppendUniquePaths(fs.read, layer.filesystem.read);
  AppendUniquePaths(fs.write, layer.filesystem.write);
  AppendUniquePaths(fs.exec, layer.filesystem.exec);
  AppendUniquePaths(fs.hide, layer.filesystem.hide);
  AppendUniquePaths(fs.protect, layer.filesystem.protect);
  AppendUniquePaths(fs.scratch, layer.filesystem.scratch);
  Override(fs.tmp_size, layer.filesystem.tmp_size);
  Override(fs.home, layer.filesystem.home);

  NetworkSpec& network = into.network;
  Override(network.mode, layer.network.mode);
  // Host rules accumulate like paths: a layer can add to its parent's allowlist and deny what
  // the parent allowed (deny wins), never silently drop a parent's deny.
  for (const auto* list : {&layer.network.allow, &layer.network.deny}) {
    auto& target = list == &layer.network.allow ? network.allow : network.deny;
    for (const HostRule& rule : *list) {
      if (std::none_of(target.begin(), target.end(),
                       [&](const HostRule& r) { return r.pattern.text == rule.pattern.text; }))
        target.push_back(rule);
    }
  }
  AppendUniquePaths(network.sockets, layer.network.sockets);
  ProxyLimitsSpec& proxy = network.limits;
  Override(proxy.connections, layer.network.limits.connections);
  Override(proxy.idle_seconds, layer.network.limits.idle_seconds);
  Override(proxy.header_seconds, layer.network.limits.header_seconds);
  Override(proxy.header_bytes, layer.network.limits.header_bytes);
  Override(proxy.connect_seconds, layer.network.limits.connect_seconds);

  AppendUniqueStrings(into.syscalls.deny, layer.syscalls.deny);
  AppendUniqueStrings(into.syscalls.allow, layer.syscalls.allow);
  AppendUniqueStrings(into.syscalls.log, layer.syscalls.log);
  Override(into.syscalls.errno_value, layer.syscalls.errno_value);

  LimitsSpec& limits = into.limits;
  Override(limits.memory, layer.limits.memory);
  Override(limits.processes, layer.limits.processes);
  Override(limits.cpu_seconds, layer.limits.cpu_seconds);
  Override(limits.wall_seconds, layer.limits.wall_seconds);
  Override(limits.file_size, layer.limits.file_size);
  Override(limits.open_files, layer.limits.open_files);

  AppendUniqueStrings(into.env.keep, layer.env.keep);
  AppendUniqueStrings(into.env.drop, layer.env.drop);
  for (const auto& [name, value] : layer.env.set) into.env.set[name] = value;

  AppendUniqueGlobs(into.evidence.test_results, layer.evidence.test_results);
  AppendUniqueGlobs(into.evidence.artifacts, layer.evidence.artifacts);

  McpSpec& mcp = into.mcp;
  Override(mcp.default_allow, layer.mcp.default_allow);
  Override(mcp.why, layer.mcp.why);
  for (const auto* list : {&layer.mcp.allow, &layer.mcp.deny, &layer.mcp.write_tools}) {
    auto& target = list == &layer.mcp.allow  ? mcp.allow
                   : list == &layer.mcp.deny ? mcp.deny
                                             : mcp.write_tools;
    for (const McpToolPattern& pattern : *list) {
      if (std::none_of(target.begin(), target.end(),
                       [&](const McpToolPattern& p) { return p.glob == pattern.glob; }))
        target.push_back(pattern);
    }
  }
  AppendUniqueStrings(mcp.path_arguments, layer.mcp.path_arguments);

  // A tool is defined whole: a layer's entry replaces its parent's. Examples are each file's
  // own: only the loaded profile's are checked, against the merged tools.
  for (const auto& [name, tool] : layer.tools) into.tools[name] = tool;
  into.examples = layer.examples;
  into.network_examples = layer.network_examples;
}

// Turns one parsed JSON document into a Profile layer, reporting every problem it finds.
class DocumentChecker {
 public:
  explicit DocumentChecker(const Document& document) : doc_(document) {}

  ParsedDocument Check() {
    for (const DuplicateKey& duplicate : doc_.has_duplicate_keys ? doc_.locations().duplicate_keys()
                                                                 : std::vector<DuplicateKey>{}) {
      std::string key = LastToken(duplicate.json_path);
      AddError(duplicate.json_path, duplicate.key,
               "duplicate key " + Quoted(key) + " (also at line " +
                   std::to_string(duplicate.earlier_key.line) + ", column " +
                   std::to_string(duplicate.earlier_key.column) + ")",
               "keep one; a JSON parser silently uses only the last one");
    }
    CheckTopLevel();
    std::stable_sort(result_.errors.begin(), result_.errors.end(),
                     [](const ProfileError& a, const ProfileError& b) {
                       return std::pair(a.line, a.column) < std::pair(b.line, b.column);
                     });
    return std::move(result_);
  }

 private:
  // --- error reporting ---

  static std::string LastToken(const std::string& json_path) {
    std::string token = json_path.substr(json_path.rfind('/') + 1);
    std::string unescaped;
    for (std::size_t i = 0; i < token.size(); ++i) {
      if (token[i] == '~' && i + 1 < token.size()) {
        unescaped += token[i + 1] == '1' ? '/' : '~';
        ++i;
      } else {
        unescaped += token[i];
      }
    }
    return unescaped;
  }

  void AddError(const std::string& json_path, TextPosition where, std::string message,
                std::string hint) {
    result_.errors.push_back(ProfileError{doc_.file, json_path, where.line, where.column,
                                          std::move(message), std::move(hint)});
  }

  TextPosition ValuePosition(const std::string& json_path) const {
    auto location = doc_.locations().Find(json_path);
    return location ? location->value : TextPosition{};
  }

  TextPosition KeyPosition(const std::string& json_path) const {
    auto location = doc_.locations().Find(json_path);
    if (!location) return TextPosition{};
    return location->key.value_or(location->value);
  }

  void ValueError(const std::string& json_path, std::string message, std::string hint = "") {
    AddError(json_path, ValuePosition(json_path), std::move(message), std::move(hint));
  }

  void KeyError(const std::string& json_path, std::string message, std::string hint = "") {
    AddError(json_path, KeyPosition(json_path), std::move(message), std::move(hint));
  }

  SourceRef Where(const std::string& json_path) const {
    TextPosition position = ValuePosition(json_path);
    return SourceRef{doc_.file, position.line, position.column};
  }

  static std::string Child(const std::string& path, std::string_view key) {
    return path + "/" + EscapeJsonPointerToken(key);
  }
  static std::string Child(const std::string& path, std::size_t index) {
    return path + "/" + std::to_string(index);
  }

  // --- structure ---

  // Keys present in the section but not handled: unknown, or from a later version of the format.
  void ReportUnknownKey(const std::string& member_path, const std::string& key,
                        const std::vector<std::string>& known,
                        const std::vector<std::string>& not_supported = {}) {
    if (std::find(not_supported.begin(), not_supported.end(), key) != not_supported.end()) {
      KeyError(member_path, Quoted(key) + " is not supported by this version",
               "remove it; supported keys here: " + Join(known, ", "));
      return;
    }
    std::string hint;
    if (auto nearest = NearestName(key, known)) {
      hint = "did you mean " + Quoted(*nearest) + "?";
    } else {
      hint = "supported keys here: " + Join(known, ", ");
    }
    KeyError(member_path, "unknown key " + Quoted(key), hint);
  }

  bool ExpectObject(const std::string& path, const Json& value) {
    if (value.is_object()) return true;
    ValueError(path, "expected an object, got " + TypeName(value),
               "write { ... } with the keys of this section");
    return false;
  }

  // Calls `each(element_path, element)` for the string elements; reports the others.
  template <typename Each>
  void ForEachString(const std::string& path, const Json& value, std::string_view example,
                     Each each) {
    if (!value.is_array()) {
      ValueError(path, "expected an array of strings, got " + TypeName(value),
                 "write [" + std::string(example) + "]");
      return;
    }
    for (std::size_t i = 0; i < value.size(); ++i) {
      std::string element_path = Child(path, i);
      if (!value[i].is_string()) {
        ValueError(element_path, "expected a string, got " + TypeName(value[i]),
                   "write " + std::string(example));
        continue;
      }
      each(element_path, value[i].get<std::string>());
    }
  }

  std::optional<std::string> ExpectString(const std::string& path, const Json& value,
                                          std::string_view example) {
    if (value.is_string()) return value.get<std::string>();
    ValueError(path, "expected a string, got " + TypeName(value), "write " + std::string(example));
    return std::nullopt;
  }

  void CheckTopLevel() {
    const Json& root = doc_.json;
    if (!root.is_object()) {
      ValueError("", "a profile must be a JSON object, got " + TypeName(root),
                 "write { \"name\": ..., \"description\": ..., ... }");
      return;
    }
    static const std::vector<std::string> kKnown = {
        "name",   "description", "extends", "filesystem", "network",  "syscalls",
        "limits", "env",         "tools",   "evidence",   "examples", "mcp"};
    Profile& profile = result_.profile;
    for (const auto& [key, value] : root.items()) {
      std::string path = Child("", key);
      if (key == "name") {
        if (auto name = ExpectString(path, value, "\"my-profile\"")) {
          if (IsProfileName(*name)) {
            profile.name = *name;
          } else {
            ValueError(path, Quoted(*name) + " is not a valid profile name",
                       "use lowercase letters, digits and '-', starting with a letter or digit");
          }
        }
      } else if (key == "description") {
        if (auto description = ExpectString(path, value, "\"what this profile is for\"")) {
          if (description->find_first_not_of(" \t\n\r") == std::string::npos) {
            ValueError(path, "empty description", "say in a sentence what the profile is for");
          } else {
            profile.description = *description;
          }
        }
      } else if (key == "extends") {
        CheckExtends(path, value);
      } else if (key == "filesystem") {
        CheckFilesystem(path, value);
      } else if (key == "network") {
        CheckNetwork(path, value);
      } else if (key == "syscalls") {
        CheckSyscalls(path, value);
      } else if (key == "limits") {
        CheckLimits(path, value);
      } else if (key == "env") {
        CheckEnv(path, value);
      } else if (key == "tools") {
        CheckTools(path, value);
      } else if (key == "evidence") {
        CheckEvidence(path, value);
      } else if (key == "examples") {
        CheckExamples(path, value);
      } else if (key == "mcp") {
        CheckMcp(path, value);
      } else {
        ReportUnknownKey(path, key, kKnown);
      }
    }
    if (!root.contains("name")) {
      ValueErrorAtRoot("/name", "missing required key \"name\"", "add \"name\": \"my-profile\"");
    }
    if (!root.contains("description")) {
      ValueErrorAtRoot("/description", "missing required key \"description\"",
                       "add \"description\": \"what this profile is for\"");
    }
  }

  void ValueErrorAtRoot(const std::string& path, std::string message, std::string hint) {
    AddError(path, ValuePosition(""), std::move(message), std::move(hint));
  }

  void CheckExtends(const std::string& path, const Json& value) {
    auto add = [&](const std::string& entry_path, const std::string& name) {
      if (!IsProfileName(name)) {
        ValueError(
            entry_path, Quoted(name) + " is not a profile name",
            "extends takes profile names such as \"base\" (lowercase letters, digits and '-'), "
            "not paths");
        return;
      }
      AppendUnique(result_.profile.extends, name);
      result_.extends.push_back(ExtendsEntry{name, entry_path});
    };
    if (value.is_string()) {
      add(path, value.get<std::string>());
      return;
    }
    if (!value.is_array()) {
      ValueError(path, "expected a string or an array of strings, got " + TypeName(value),
                 "write \"extends\": [\"base\"]");
      return;
    }
    ForEachString(path, value, "\"base\"", add);
  }

  // `with_position`: keep where each entry was written (filesystem entries: their mount ops say
  // so); other lists keep only the file, and positions are looked up for errors alone.
  void CheckPathList(const std::string& path, const Json& value, std::vector<PathEntry>& into,
                     bool with_position = true) {
    ForEachString(
        path, value, "\"{workspace}/build\"",
        [&](const std::string& element_path, const std::string& text) {
          if (auto problem = CheckPath(text)) {
            ValueError(element_path, problem->message, problem->hint);
            return;
          }
          SourceRef where = with_position ? Where(element_path) : SourceRef{doc_.file, 0, 0};
          AppendUniquePaths(into, {PathEntry{text, where}});
        });
  }

  void CheckFilesystem(const std::string& path, const Json& value) {
    if (!ExpectObject(path, value)) return;
    static const std::vector<std::string> kKnown = {"read",    "write",   "exec", "hide",
                                                    "protect", "scratch", "tmp",  "home"};
    FilesystemSpec& fs = result_.profile.filesystem;
    for (const auto& [key, member] : value.items()) {
      std::string member_path = Child(path, key);
      if (key == "read") {
        CheckPathList(member_path, member, fs.read);
      } else if (key == "write") {
        CheckPathList(member_path, member, fs.write);
      } else if (key == "exec") {
        CheckPathList(member_path, member, fs.exec);
      } else if (key == "hide") {
        CheckPathList(member_path, member, fs.hide);
      } else if (key == "protect") {
        CheckPathList(member_path, member, fs.protect);
      } else if (key == "scratch") {
        CheckPathList(member_path, member, fs.scratch);
      } else if (key == "tmp") {
        fs.tmp_size = CheckSize(member_path, member);
      } else if (key == "home") {
        if (auto mode = ExpectString(member_path, member, "\"empty\"")) {
          if (*mode == "empty") {
            fs.home = HomeMode::kEmpty;
          } else if (*mode == "none") {
            fs.home = HomeMode::kNone;
          } else {
            ValueError(member_path, "unknown home mode " + Quoted(*mode),
                       "write \"empty\" (a private empty home) or \"none\"");
          }
        }
      } else {
        ReportUnknownKey(member_path, key, kKnown);
      }
    }
  }

  // --- mcp (docs/MCP.md) ---

  void CheckMcp(const std::string& path, const Json& value) {
    if (!ExpectObject(path, value)) return;
    static const std::vector<std::string> kKnown = {"default", "why", "tools", "paths"};
    McpSpec& mcp = result_.profile.mcp;
    for (const auto& [key, member] : value.items()) {
      std::string member_path = Child(path, key);
      if (key == "default") {
        auto verdict = ExpectString(member_path, member, "\"deny\"");
        if (!verdict) continue;
        if (*verdict == "allow" || *verdict == "deny") {
          mcp.default_allow = *verdict == "allow";
        } else {
          ValueError(member_path, "unknown verdict " + Quoted(*verdict),
                     "write \"allow\" or \"deny\" (what a tool no list names gets)");
        }
      } else if (key == "why") {
        auto why = ExpectString(member_path, member, "\"only the server's read tools\"");
        if (why && why->find_first_not_of(" \t\n\r") == std::string::npos) {
          ValueError(member_path, "empty justification", "say in a sentence why, or leave it out");
        } else if (why) {
          mcp.why = *why;
        }
      } else if (key == "tools") {
        CheckMcpTools(member_path, member);
      } else if (key == "paths") {
        CheckMcpPaths(member_path, member);
      } else {
        ReportUnknownKey(member_path, key, kKnown);
      }
    }
  }

  void CheckMcpTools(const std::string& path, const Json& value) {
    if (!ExpectObject(path, value)) return;
    static const std::vector<std::string> kKnown = {"allow", "deny"};
    for (const auto& [key, member] : value.items()) {
      std::string member_path = Child(path, key);
      if (key == "allow") {
        CheckMcpToolList(member_path, member, result_.profile.mcp.allow);
      } else if (key == "deny") {
        CheckMcpToolList(member_path, member, result_.profile.mcp.deny);
      } else {
        ReportUnknownKey(member_path, key, kKnown);
      }
    }
  }

  void CheckMcpPaths(const std::string& path, const Json& value) {
    if (!ExpectObject(path, value)) return;
    static const std::vector<std::string> kKnown = {"arguments", "write_tools"};
    for (const auto& [key, member] : value.items()) {
      std::string member_path = Child(path, key);
      if (key == "arguments") {
        ForEachString(member_path, member, "\"notebook_path\"",
                      [&](const std::string& element_path, const std::string& name) {
                        if (auto problem = CheckMcpName(name)) {
                          ValueError(element_path, problem->message, problem->hint);
                          return;
                        }
                        AppendUnique(result_.profile.mcp.path_arguments, name);
                      });
      } else if (key == "write_tools") {
        CheckMcpToolList(member_path, member, result_.profile.mcp.write_tools);
      } else {
        ReportUnknownKey(member_path, key, kKnown);
      }
    }
  }

  // A tool name or argument name: printable ASCII without spaces, 1-128 bytes (MCP tool names
  // are [A-Za-z0-9_.-]; globs add '*', '?', '[', ']', '!').
  static std::optional<Problem> CheckMcpName(std::string_view name) {
    if (name.empty()) return Problem{"empty name", "write a tool name such as \"read_file\""};
    if (name.size() > 128) return Problem{"longer than 128 bytes", "write a shorter name"};
    for (char c : name) {
      if (c <= ' ' || c == 0x7f || static_cast<unsigned char>(c) >= 0x80) {
        return Problem{Quoted(name) + " has a space, a control or a non-ASCII character",
                       "MCP names are letters, digits, '_', '-' and '.'; globs may add '*', '?' "
                       "and [...]"};
      }
    }
    return std::nullopt;
  }

  void CheckMcpToolList(const std::string& path, const Json& value,
                        std::vector<McpToolPattern>& into) {
    ForEachString(path, value, "\"read_*\"",
                  [&](const std::string& element_path, const std::string& glob) {
                    if (auto problem = CheckMcpName(glob)) {
                      ValueError(element_path, problem->message, problem->hint);
                      return;
                    }
                    if (std::none_of(into.begin(), into.end(),
                                     [&](const McpToolPattern& p) { return p.glob == glob; }))
                      into.push_back(McpToolPattern{glob, Where(element_path)});
                  });
  }

  // --- evidence ---

  void CheckEvidence(const std::string& path, const Json& value) {
    if (!ExpectObject(path, value)) return;
    static const std::vector<std::string> kKnown = {"test_results", "artifacts"};
    EvidenceSpec& evidence = result_.profile.evidence;
    for (const auto& [key, member] : value.items()) {
      std::string member_path = Child(path, key);
      if (key == "test_results") {
        CheckGlobList(member_path, member, evidence.test_results,
                      "\"build/test-results/**/*.xml\"");
      } else if (key == "artifacts") {
        CheckGlobList(member_path, member, evidence.artifacts, "\"dist/*.tar.gz\"");
      } else {
        ReportUnknownKey(member_path, key, kKnown);
      }
    }
  }

  void CheckGlobList(const std::string& path, const Json& value, std::vector<EvidencePattern>& into,
                     std::string_view example) {
    ForEachString(path, value, example,
                  [&](const std::string& element_path, const std::string& glob) {
                    if (auto problem = CheckEvidenceGlob(glob)) {
                      ValueError(element_path, problem->message, problem->hint);
                      return;
                    }
                    AppendUniqueGlobs(into, {EvidencePattern{glob, Where(element_path)}});
                  });
  }

  void CheckNetwork(const std::string& path, const Json& value) {
    if (!ExpectObject(path, value)) return;
    static const std::vector<std::string> kKnown = {"mode", "allow", "deny", "sockets", "limits"};
    NetworkSpec& network = result_.profile.network;
    for (const auto& [key, member] : value.items()) {
      std::string member_path = Child(path, key);
      if (key == "mode") {
        auto mode = ExpectString(member_path, member, "\"none\"");
        if (!mode) continue;
        if (*mode == "none") {
          network.mode = NetworkMode::kNone;
        } else if (*mode == "proxy") {
          network.mode = NetworkMode::kProxy;
        } else if (*mode == "host") {
          network.mode = NetworkMode::kHost;
        } else {
          ValueError(member_path, "unknown network mode " + Quoted(*mode),
                     "write \"none\", \"proxy\" (the allowlist proxy) or \"host\"");
        }
      } else if (key == "allow") {
        CheckHostRules(member_path, member, network.allow);
      } else if (key == "deny") {
        CheckHostRules(member_path, member, network.deny);
      } else if (key == "sockets") {
        CheckPathList(member_path, member, network.sockets);
      } else if (key == "limits") {
        CheckProxyLimits(member_path, member);
      } else {
        ReportUnknownKey(member_path, key, kKnown);
      }
    }
  }

  void CheckHostRules(const std::string& path, const Json& value, std::vector<HostRule>& into) {
    ForEachString(
        path, value, "\"registry.npmjs.org:443\"",
        [&](const std::string& element_path, const std::string& text) {
          HostPatternResult parsed = ParseHostPattern(text);
          if (!parsed.pattern) {
            ValueError(element_path, parsed.error, parsed.hint);
            return;
          }
          for (const HostRule& rule : into) {
            if (rule.pattern.text == parsed.pattern->text) return;
          }
          into.push_back(HostRule{std::move(*parsed.pattern), SourceRef{doc_.file, 0, 0}});
        });
  }

  void CheckProxyLimits(const std::string& path, const Json& value) {
    if (!ExpectObject(path, value)) return;
    static const std::vector<std::string> kKnown = {"connections", "idle_timeout", "header_timeout",
                                                    "header_size", "connect_timeout"};
    ProxyLimitsSpec& limits = result_.profile.network.limits;
    for (const auto& [key, member] : value.items()) {
      std::string member_path = Child(path, key);
      if (key == "connections") {
        auto count = CheckCount(member_path, member);
        if (count && *count > 4096) {
          ValueError(member_path, "at most 4096 connections at once",
                     "each takes two of the supervisor's file descriptors; write 256 or so");
        } else if (count) {
          limits.connections = count;
        }
      } else if (key == "idle_timeout") {
        if (auto seconds = CheckDuration(member_path, member)) limits.idle_seconds = seconds;
      } else if (key == "header_timeout") {
        if (auto seconds = CheckDuration(member_path, member)) limits.header_seconds = seconds;
      } else if (key == "connect_timeout") {
        if (auto seconds = CheckDuration(member_path, member)) limits.connect_seconds = seconds;
      } else if (key == "header_size") {
        auto bytes = CheckSize(member_path, member);
        if (bytes && (*bytes < 1024 || *bytes > 1024 * 1024)) {
          ValueError(member_path, "header_size must be between 1K and 1M",
                     "write a size such as \"32K\"");
        } else if (bytes) {
          limits.header_bytes = bytes;
        }
      } else {
        ReportUnknownKey(member_path, key, kKnown);
      }
    }
  }

  void CheckSyscallList(const std::string& path, const Json& value,
                        std::vector<std::string>& into) {
    ForEachString(path, value, "\"ptrace\", \"@mount\"",
                  [&](const std::string& element_path, const std::string& name) {
                    if (name.starts_with('@')) {
                      if (FindSyscallGroup(name) != nullptr) {
                        AppendUnique(into, name);
                        return;
                      }
                      std::vector<std::string> groups;
                      for (const SyscallGroup& group : SyscallGroups()) {
                        groups.emplace_back(group.name);
                      }
                      std::string hint = "known groups: " + Join(groups, ", ");
                      if (auto nearest = NearestName(name, groups)) {
                        hint = "did you mean " + Quoted(*nearest) + "?";
                      }
                      ValueError(element_path, "unknown syscall group " + Quoted(name), hint);
                      return;
                    }
                    if (IsKnownSyscall(name)) {
                      AppendUnique(into, name);
                      return;
                    }
                    std::string hint = "write a Linux syscall name or a group such as \"@mount\"";
                    if (auto nearest = NearestName(name, KnownSyscalls())) {
                      hint = "did you mean " + Quoted(*nearest) + "?";
                    }
                    ValueError(element_path, "unknown syscall " + Quoted(name), hint);
                  });
  }

  void CheckSyscalls(const std::string& path, const Json& value) {
    if (!ExpectObject(path, value)) return;
    static const std::vector<std::string> kKnown = {"deny", "allow", "log", "errno"};
    SyscallSpec& syscalls = result_.profile.syscalls;
    for (const auto& [key, member] : value.items()) {
      std::string member_path = Child(path, key);
      if (key == "deny") {
        CheckSyscallList(member_path, member, syscalls.deny);
      } else if (key == "allow") {
        CheckSyscallList(member_path, member, syscalls.allow);
      } else if (key == "log") {
        CheckSyscallList(member_path, member, syscalls.log);
      } else if (key == "errno") {
        syscalls.errno_value = CheckErrno(member_path, member);
      } else {
        ReportUnknownKey(member_path, key, kKnown);
      }
    }
  }

  std::optional<int> CheckErrno(const std::string& path, const Json& value) {
    const std::string hint =
        "write a name such as \"EPERM\", \"EACCES\" or \"ENOSYS\", or a number "
        "from 1 to " +
        std::to_string(kMaxErrno);
    if (value.is_number_integer()) {
      std::int64_t number = value.is_number_unsigned()
                                ? static_cast<std::int64_t>(std::min<std::uint64_t>(
                                      value.get<std::uint64_t>(), kMaxErrno + 1))
                                : value.get<std::int64_t>();
      if (number < 1 || number > kMaxErrno) {
        ValueError(path, "errno " + value.dump() + " is out of range", hint);
        return std::nullopt;
      }
      return static_cast<int>(number);
    }
    if (!value.is_string()) {
      ValueError(path, "expected an errno name or number, got " + TypeName(value), hint);
      return std::nullopt;
    }
    std::string name = value.get<std::string>();
    for (const ErrnoName& known : kErrnoNames) {
      if (known.name == name) return known.value;
    }
    std::vector<std::string_view> names;
    for (const ErrnoName& known : kErrnoNames) names.push_back(known.name);
    std::string specific_hint = hint;
    if (auto nearest = NearestName(name, names))
      specific_hint = "did you mean " + Quoted(*nearest) + "?";
    ValueError(path, "unknown errno " + Quoted(name), specific_hint);
    return std::nullopt;
  }

  // Sizes and counts: all must be at least 1, since a zero limit makes the sandbox unusable.
  std::optional<std::uint64_t> CheckSize(const std::string& path, const Json& value) {
    const std::string hint =
        "write bytes as a number, or a string such as \"512M\", \"1.5G\" (K, M, G, T are "
        "binary multiples)";
    std::optional<std::uint64_t> bytes;
    if (value.is_number_unsigned()) {
      bytes = value.get<std::uint64_t>();
    } else if (value.is_number_integer()) {
      ValueError(path, "negative size " + value.dump(), hint);
      return std::nullopt;
    } else if (value.is_string()) {
      bytes = ParseSize(value.get<std::string>());
      if (!bytes) {
        ValueError(path, Quoted(value.get<std::string>()) + " is not a size", hint);
        return std::nullopt;
      }
    } else {
      ValueError(path,
                 "expected a size, got " + TypeName(value) +
                     (value.is_number_float() ? " with a fraction" : ""),
                 hint);
      return std::nullopt;
    }
    if (*bytes == 0) {
      ValueError(path, "size must be greater than zero", hint);
      return std::nullopt;
    }
    return bytes;
  }

  std::optional<std::uint64_t> CheckDuration(const std::string& path, const Json& value) {
    const std::string hint =
        "write seconds as a number, or a string such as \"90s\", \"30m\", \"1h30m\", \"1d\"";
    std::optional<std::uint64_t> seconds;
    if (value.is_number_unsigned()) {
      seconds = value.get<std::uint64_t>();
    } else if (value.is_string()) {
      seconds = ParseDuration(value.get<std::string>());
      if (!seconds) {
        ValueError(path, Quoted(value.get<std::string>()) + " is not a duration", hint);
        return std::nullopt;
      }
    } else if (value.is_number_integer()) {
      ValueError(path, "negative duration " + value.dump(), hint);
      return std::nullopt;
    } else if (value.is_number_float()) {
      ValueError(path, "expected whole seconds, got " + value.dump(), hint);
      return std::nullopt;
    } else {
      ValueError(path, "expected a duration, got " + TypeName(value), hint);
      return std::nullopt;
    }
    if (*seconds == 0) {
      ValueError(path, "duration must be greater than zero", hint);
      return std::nullopt;
    }
    return seconds;
  }

  std::optional<std::uint64_t> CheckCount(const std::string& path, const Json& value) {
    const std::string hint = "write a whole number of at least 1, such as 1024";
    if (value.is_number_unsigned() && value.get<std::uint64_t>() >= 1) {
      return value.get<std::uint64_t>();
    }
    if (value.is_number()) {
      ValueError(path, value.dump() + " is not a count of at least 1", hint);
    } else {
      ValueError(path, "expected a number, got " + TypeName(value), hint);
    }
    return std::nullopt;
  }

  void CheckLimits(const std::string& path, const Json& value) {
    if (!ExpectObject(path, value)) return;
    static const std::vector<std::string> kKnown = {"memory", "processes", "cpu",
                                                    "wall",   "file_size", "open_files"};
    LimitsSpec& limits = result_.profile.limits;
    for (const auto& [key, member] : value.items()) {
      std::string member_path = Child(path, key);
      if (key == "memory") {
        limits.memory = CheckSize(member_path, member);
      } else if (key == "processes") {
        limits.processes = CheckCount(member_path, member);
      } else if (key == "cpu") {
        limits.cpu_seconds = CheckDuration(member_path, member);
      } else if (key == "wall") {
        limits.wall_seconds = CheckDuration(member_path, member);
      } else if (key == "file_size") {
        limits.file_size = CheckSize(member_path, member);
      } else if (key == "open_files") {
        limits.open_files = CheckCount(member_path, member);
      } else {
        ReportUnknownKey(member_path, key, kKnown);
      }
    }
  }

  void CheckEnvPatterns(const std::string& path, const Json& value, std::vector<std::string>& into,
                        std::string_view example) {
    ForEachString(
        path, value, example, [&](const std::string& element_path, const std::string& pattern) {
          if (IsEnvPattern(pattern)) {
            AppendUnique(into, pattern);
            return;
          }
          ValueError(element_path, Quoted(pattern) + " is not a variable name or pattern",
                     "use letters, digits, '_' and '*' wildcards, not starting with a digit");
        });
  }

  void CheckEnv(const std::string& path, const Json& value) {
    if (!ExpectObject(path, value)) return;
    static const std::vector<std::string> kKnown = {"keep", "set", "drop"};
    EnvSpec& env = result_.profile.env;
    for (const auto& [key, member] : value.items()) {
      std::string member_path = Child(path, key);
      if (key == "keep") {
        CheckEnvPatterns(member_path, member, env.keep, "\"PATH\", \"LC_*\"");
      } else if (key == "drop") {
        CheckEnvPatterns(member_path, member, env.drop, "\"*TOKEN*\"");
      } else if (key == "set") {
        if (!ExpectObject(member_path, member)) continue;
        for (const auto& [name, setting] : member.items()) {
          std::string setting_path = Child(member_path, name);
          if (!IsEnvName(name)) {
            KeyError(setting_path, Quoted(name) + " is not a valid variable name",
                     "use letters, digits and '_', not starting with a digit");
            continue;
          }
          auto text = ExpectString(setting_path, setting, "\"1\"");
          if (!text) continue;
          if (auto problem = CheckPlaceholderTokens(*text, 0, /*allow_known=*/true)) {
            ValueError(setting_path, problem->message, problem->hint);
            continue;
          }
          env.set[name] = *text;
        }
      } else {
        ReportUnknownKey(member_path, key, kKnown);
      }
    }
  }

  // --- tools ---

  static bool IsToolName(std::string_view name) {
    if (name.empty() || name.size() > 64) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '-' || c == '_' || c == '.' || c == '+';
    });
  }

  static bool IsRuleId(std::string_view id) {
    return !id.empty() && id.size() <= 64 && IsProfileName(id);
  }

  std::optional<ToolVerdict> CheckVerdict(const std::string& path, const Json& value) {
    auto text = ExpectString(path, value, "\"deny\"");
    if (!text) return std::nullopt;
    if (auto verdict = ParseToolVerdict(*text)) return verdict;
    ValueError(path, "unknown verdict " + Quoted(*text), "write \"allow\", \"ask\" or \"deny\"");
    return std::nullopt;
  }

  std::optional<std::string> CheckJustification(const std::string& path, const Json& value) {
    auto text = ExpectString(path, value, "\"why this rule exists, as the agent will read it\"");
    if (!text) return std::nullopt;
    if (text->find_first_not_of(" \t") == std::string::npos) {
      ValueError(path, "empty justification", "say in a sentence why; the agent is shown it");
      return std::nullopt;
    }
    if (auto problem = CheckControlCharacters(*text)) {
      ValueError(path, "the justification " + problem->message, "keep it to one line");
      return std::nullopt;
    }
    return text;
  }

  // Argv patterns: a string of whitespace-separated tokens, or an array of tokens (for tokens
  // with spaces). "..." may only end the pattern.
  void CheckArgsPattern(const std::string& path, const Json& value, ToolRule& rule) {
    std::vector<std::pair<std::string, std::string>> tokens;  // json path, token
    if (value.is_string()) {
      std::string text = value.get<std::string>();
      std::size_t i = 0;
      while (i < text.size()) {
        std::size_t start = text.find_first_not_of(" \t", i);
        if (start == std::string::npos) break;
        std::size_t end = text.find_first_of(" \t", start);
        if (end == std::string::npos) end = text.size();
        tokens.emplace_back(path, text.substr(start, end - start));
        i = end;
      }
    } else if (value.is_array()) {
      ForEachString(path, value, "\"push\", \"...\"",
                    [&](const std::string& element_path, const std::string& token) {
                      tokens.emplace_back(element_path, token);
                    });
    } else {
      ValueError(path, "expected a string or an array of strings, got " + TypeName(value),
                 "write \"push|fetch ...\" or [\"commit\", \"-m\", \"...\"]");
      return;
    }
    rule.has_args = true;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      const auto& [token_path, token] = tokens[i];
      if (token == "...") {
        if (i + 1 != tokens.size()) {
          ValueError(token_path, "\"...\" must be the last token of a pattern",
                     "\"...\" stands for any further tokens; put it at the end");
          return;
        }
        rule.args_rest = true;
        break;
      }
      if (token.empty() || token.find('\0') != std::string::npos) {
        ValueError(token_path, "empty pattern token", "write a word, a glob or a|b alternatives");
        return;
      }
      std::vector<std::string> alternatives;
      std::size_t start = 0;
      for (;;) {
        std::size_t bar = token.find('|', start);
        std::string alternative = token.substr(start, bar == std::string::npos ? bar : bar - start);
        if (alternative.empty()) {
          ValueError(token_path, "empty alternative in " + Quoted(token),
                     "write alternatives as \"push|fetch\"");
          return;
        }
        alternatives.push_back(alternative);
        if (bar == std::string::npos) break;
        start = bar + 1;
      }
      rule.args.push_back(std::move(alternatives));
    }
  }

  void CheckOptionPatterns(const std::string& path, const Json& value,
                           std::vector<std::string>& into) {
    ForEachString(path, value, "\"-c\", \"--upload-pack*\"",
                  [&](const std::string& element_path, const std::string& pattern) {
                    if (pattern.size() < 2 || pattern[0] != '-') {
                      ValueError(element_path, Quoted(pattern) + " is not an option pattern",
                                 "options start with '-': \"-c\", \"--exec*\"");
                      return;
                    }
                    AppendUnique(into, pattern);
                  });
  }

  void CheckRule(const std::string& path, const Json& value, ToolSpec& tool,
                 std::set<std::string>& ids) {
    if (!ExpectObject(path, value)) return;
    static const std::vector<std::string> kKnown = {
        "id", "verdict", "why", "args", "options", "env", "paths_outside", "skip_operands", "run"};
    ToolRule rule;
    rule.where = SourceRef{doc_.file, 0, 0};  // positions only for errors (see Document)
    bool ok = true;
    std::optional<std::size_t> skip;
    for (const auto& [key, member] : value.items()) {
      std::string member_path = Child(path, key);
      if (key == "id") {
        auto id = ExpectString(member_path, member, "\"git-push\"");
        if (!id) {
          ok = false;
        } else if (!IsRuleId(*id)) {
          ValueError(member_path, Quoted(*id) + " is not a rule id",
                     "use lowercase letters, digits and '-', such as \"git-push\"");
          ok = false;
        } else if (!ids.insert(*id).second) {
          ValueError(member_path, "duplicate rule id " + Quoted(*id),
                     "each rule of a tool needs its own id");
          ok = false;
        } else {
          rule.id = *id;
        }
      } else if (key == "verdict") {
        if (auto verdict = CheckVerdict(member_path, member)) {
          rule.verdict = *verdict;
        } else {
          ok = false;
        }
      } else if (key == "why") {
        if (auto why = CheckJustification(member_path, member)) {
          rule.why = *why;
        } else {
          ok = false;
        }
      } else if (key == "args") {
        CheckArgsPattern(member_path, member, rule);
      } else if (key == "options") {
        CheckOptionPatterns(member_path, member, rule.options);
      } else if (key == "env") {
        ForEachString(
            member_path, member, "\"GIT_SSH_COMMAND\", \"GIT_EXEC_PATH!=/usr/lib/git-core\"",
            [&](const std::string& element_path, const std::string& pattern) {
              std::size_t eq = pattern.find('=');
              std::string name = pattern.substr(0, eq);
              if (eq != std::string::npos && !name.empty() && name.back() == '!') name.pop_back();
              if (IsEnvPattern(name)) {
                AppendUnique(rule.env, pattern);
                return;
              }
              ValueError(element_path, Quoted(pattern) + " is not a variable pattern",
                         "write NAME (set), NAME=VALUE (set to a matching value) or NAME!=VALUE "
                         "(set to another value); NAME may use '*'");
            });
      } else if (key == "paths_outside") {
        PathCondition condition;
        std::vector<PathEntry> roots;
        CheckPathList(member_path, member, roots, /*with_position=*/false);
        for (const PathEntry& root : roots) condition.within.push_back(root.path);
        if (condition.within.empty()) {
          ValueError(member_path, "no roots given",
                     "list the directories path operands must stay inside, such as "
                     "[\"{workspace}\", \"{tmp}\"]");
        }
        rule.paths_outside = std::move(condition);
      } else if (key == "skip_operands") {
        if (member.is_number_unsigned() && member.get<std::uint64_t>() <= 16) {
          skip = member.get<std::size_t>();
        } else {
          ValueError(member_path, "expected a number from 0 to 16, got " + member.dump(),
                     "how many leading operands are not paths (1 for chmod's mode)");
        }
      } else if (key == "run") {
        auto where = ExpectString(member_path, member, "\"host\"");
        if (where && *where == "host") {
          rule.run_on_host = true;
        } else if (where && *where != "sandbox") {
          ValueError(member_path, "unknown run location " + Quoted(*where),
                     "write \"sandbox\" (the default) or \"host\"");
        }
      } else {
        ReportUnknownKey(member_path, key, kKnown);
      }
    }
    if (!value.contains("id")) {
      ValueError(path, "a rule needs an \"id\"", "add \"id\": \"git-push\"");
      ok = false;
    }
    if (!value.contains("verdict")) {
      ValueError(path, "a rule needs a \"verdict\"",
                 "add \"verdict\": \"allow\", \"ask\" or \"deny\"");
      ok = false;
    }
    if (!value.contains("why")) {
      ValueError(path, "a rule needs a justification",
                 "add \"why\": \"...\"; the agent is shown it");
      ok = false;
    }
    if (skip) {
      if (rule.paths_outside) {
        rule.paths_outside->skip = *skip;
      } else {
        ValueError(Child(path, "skip_operands"), "\"skip_operands\" without \"paths_outside\"",
                   "it only says which operands \"paths_outside\" checks");
      }
    }
    if (rule.run_on_host) {
      // The host has the credentials: only an argv the rule spells out in full may run there.
      bool literal = rule.has_args && !rule.args_rest &&
                     std::all_of(rule.args.begin(), rule.args.end(), [](const auto& alternatives) {
                       return std::all_of(
                           alternatives.begin(), alternatives.end(), [](const std::string& token) {
                             return token.find_first_of("*?[\\") == std::string::npos;
                           });
                     });
      if (!literal) {
        ValueError(Child(path, "run"), "a rule that runs on the host must match argv in full",
                   "give \"args\" as literal words (alternatives a|b allowed), with no globs and "
                   "no \"...\"");
        ok = false;
      }
      if (rule.verdict == ToolVerdict::kDeny) {
        ValueError(Child(path, "run"), "a deny rule does not run anywhere",
                   "remove \"run\", or make the rule allow or ask");
        ok = false;
      }
    }
    if (ok) tool.rules.push_back(std::move(rule));
  }

  void CheckSubcommandGrammar(const std::string& path, const Json& value, ToolSpec& tool) {
    if (!ExpectObject(path, value)) return;
    static const std::vector<std::string> kKnown = {"flags", "value_options", "checked_values",
                                                    "dashed_prefix"};
    SubcommandGrammar grammar;
    for (const auto& [key, member] : value.items()) {
      std::string member_path = Child(path, key);
      if (key == "flags") {
        CheckOptionPatterns(member_path, member, grammar.flags);
      } else if (key == "value_options") {
        CheckOptionPatterns(member_path, member, grammar.value_options);
      } else if (key == "checked_values") {
        CheckCheckedValues(member_path, member, grammar);
      } else if (key == "dashed_prefix") {
        if (auto prefix = ExpectString(member_path, member, "\"git-\"")) {
          if (prefix->empty() || !IsToolName(*prefix)) {
            ValueError(member_path, Quoted(*prefix) + " is not a name prefix",
                       "write the tool's name and a dash: \"git-\"");
          } else {
            grammar.dashed_prefix = *prefix;
          }
        }
      } else {
        ReportUnknownKey(member_path, key, kKnown);
      }
    }
    for (const auto* list : {&grammar.flags, &grammar.value_options}) {
      for (const std::string& pattern : *list) {
        if (pattern.find_first_of("*?[") != std::string::npos) {
          ValueError(Child(path, list == &grammar.flags ? "flags" : "value_options"),
                     "grammar options are literal, not globs: " + pattern,
                     "list each option as it is written");
        }
      }
    }
    // A checked option is a value option only for the values on its list; also listed as a
    // plain one (or as a flag), it would be taken with any value, and the list would mean nothing.
    for (const auto& [option, allowed] : grammar.checked_values) {
      for (const auto* list : {&grammar.flags, &grammar.value_options}) {
        if (std::find(list->begin(), list->end(), option) != list->end()) {
          KeyError(Child(Child(path, "checked_values"), option),
                   option + " is also in " +
                       (list == &grammar.flags ? "\"flags\"" : "\"value_options\"") +
                       ", which takes it with any value",
                   "remove it from there: \"checked_values\" alone makes it a value option, "
                   "taken only with a value on its list");
        }
      }
    }
    tool.subcommand = std::move(grammar);
  }

  // "checked_values": {"-c": {"values": ["core.hookspath=/dev/null", "hook.*.enabled=false"],
  // "why": "...", "env": ["GIT_CONFIG_PARAMETERS"]}} ("env" optional). Each option is literal; each
  // value a setting glob (SettingMatches) whose section and variable name are lowercase, since the
  // call's are folded to lowercase before they are compared.
  void CheckCheckedValues(const std::string& path, const Json& value, SubcommandGrammar& grammar) {
    if (!ExpectObject(path, value)) return;
    for (const auto& [option, member] : value.items()) {
      std::string option_path = Child(path, option);
      if (option.size() < 2 || option[0] != '-' || option == "--" ||
          option.find_first_of("*?[= ") != std::string::npos) {
        KeyError(option_path, Quoted(option) + " is not an option",
                 "write the option as it is written before the sub-command: \"-c\"");
        continue;
      }
      if (!ExpectObject(option_path, member)) continue;
      static const std::vector<std::string> kKnown = {"values", "why", "env"};
      SubcommandGrammar::CheckedOption checked;
      bool ok = true;
      for (const auto& [key, field] : member.items()) {
        std::string field_path = Child(option_path, key);
        if (key == "values") {
          if (field.is_array() && field.empty()) {
            ValueError(field_path, "no values listed for " + option,
                       "list the values it may take, or leave the option out (it is then "
                       "refused)");
            ok = false;
            continue;
          }
          ForEachString(field_path, field, "\"core.hookspath=/dev/null\", \"hook.*.enabled=false\"",
                        [&](const std::string& element_path, const std::string& pattern) {
                          if (auto problem = SettingPatternProblem(pattern)) {
                            ValueError(
                                element_path, Quoted(pattern) + " " + *problem,
                                "write key=value, such as \"core.hookspath=/dev/null\", with the "
                                "section and the variable name in lowercase (git compares them "
                                "without case; a subsection keeps its case)");
                            ok = false;
                            return;
                          }
                          AppendUnique(checked.values, pattern);
                        });
        } else if (key == "why") {
          if (auto why = CheckJustification(field_path, field)) {
            checked.why = *why;
          } else {
            ok = false;
          }
        } else if (key == "env") {
          ForEachString(field_path, field, "\"GIT_CONFIG_PARAMETERS\"",
                        [&](const std::string& element_path, const std::string& name) {
                          // The forms git hands `-c` on in; no other is read.
                          if (name != "GIT_CONFIG_PARAMETERS" && name != "GIT_CONFIG_COUNT") {
                            ValueError(
                                element_path,
                                Quoted(name) + " is not a variable that carries git's settings",
                                "list \"GIT_CONFIG_PARAMETERS\" (git's -c handed on to "
                                "the programs it starts) and/or \"GIT_CONFIG_COUNT\" "
                                "(with its GIT_CONFIG_KEY_<i> and GIT_CONFIG_VALUE_<i>)");
                            ok = false;
                            return;
                          }
                          AppendUnique(checked.env, name);
                        });
        } else {
          ReportUnknownKey(field_path, key, kKnown);
          ok = false;
        }
      }
      if (!member.contains("values")) {
        ValueError(option_path, "no \"values\" listed for " + option,
                   "add \"values\": [\"key=value\", ...], the values it may take");
        ok = false;
      }
      if (!member.contains("why")) {
        ValueError(option_path, "no justification for the list of " + option,
                   "add \"why\": \"...\"; a call refused for a value off the list is shown it");
        ok = false;
      }
      if (ok) grammar.checked_values[option] = std::move(checked);
    }
  }

  // Why a checked value pattern can never match as written, if it cannot.
  static std::optional<std::string> SettingPatternProblem(const std::string& pattern) {
    std::string key = pattern.substr(0, pattern.find('='));
    if (key.empty()) return "has no key before '='";
    if (pattern.find('\0') != std::string::npos) return "contains a NUL byte";
    std::size_t first = key.find('.');
    std::size_t last = key.rfind('.');
    std::string section = key.substr(0, first);
    std::string name = first == std::string::npos ? "" : key.substr(last + 1);
    if (CanonicalSettingKey(section) != section || CanonicalSettingKey(name) != name)
      return "has upper-case letters in its section or variable name, which never match";
    return std::nullopt;
  }

  void CheckTool(const std::string& path, const std::string& name, const Json& value) {
    if (!ExpectObject(path, value)) return;
    static const std::vector<std::string> kKnown = {
        "paths", "alias_dirs", "default", "why", "subcommand", "rules", "host_env", "host_cwd"};
    ToolSpec tool;
    tool.name = name;
    tool.where = SourceRef{doc_.file, 0, 0};
    std::set<std::string> ids;
    for (const auto& [key, member] : value.items()) {
      std::string member_path = Child(path, key);
      if (key == "paths") {
        CheckPathList(member_path, member, tool.paths, /*with_position=*/false);
      } else if (key == "alias_dirs") {
        CheckPathList(member_path, member, tool.alias_dirs, /*with_position=*/false);
      } else if (key == "default") {
        if (auto verdict = CheckVerdict(member_path, member)) tool.default_verdict = *verdict;
      } else if (key == "why") {
        if (auto why = CheckJustification(member_path, member)) tool.default_why = *why;
      } else if (key == "subcommand") {
        CheckSubcommandGrammar(member_path, member, tool);
      } else if (key == "rules") {
        if (!member.is_array()) {
          ValueError(member_path, "expected an array of rules, got " + TypeName(member),
                     "write [{\"id\": ..., \"verdict\": ..., \"why\": ...}]");
          continue;
        }
        for (std::size_t i = 0; i < member.size(); ++i)
          CheckRule(Child(member_path, i), member[i], tool, ids);
      } else if (key == "host_cwd") {
        if (auto cwd = ExpectString(member_path, member, "\"{workspace}\"")) {
          if (auto problem = CheckPath(*cwd)) {
            ValueError(member_path, problem->message, problem->hint);
          } else {
            tool.host_cwd = *cwd;
          }
        }
      } else if (key == "host_env") {
        if (!ExpectObject(member_path, member)) continue;
        for (const auto& [variable, setting] : member.items()) {
          std::string setting_path = Child(member_path, variable);
          if (!IsEnvName(variable)) {
            KeyError(setting_path, Quoted(variable) + " is not a valid variable name",
                     "use letters, digits and '_', not starting with a digit");
            continue;
          }
          auto text = ExpectString(setting_path, setting, "\"{home}/.ssh/agent.sock\"");
          if (!text) continue;
          if (text->starts_with("$") && !IsEnvName(text->substr(1))) {
            ValueError(setting_path, Quoted(*text) + " names no variable",
                       "write \"$NAME\" to pass the supervisor's own NAME, or a literal value");
            continue;
          }
          if (auto problem = CheckPlaceholderTokens(*text, 0, /*allow_known=*/true)) {
            ValueError(setting_path, problem->message, problem->hint);
            continue;
          }
          tool.host_env[variable] = *text;
        }
      } else {
        ReportUnknownKey(member_path, key, kKnown);
      }
    }
    if (!value.contains("paths") ||
        (value.contains("paths") && value["paths"].is_array() && value["paths"].empty())) {
      ValueError(path, "tool " + Quoted(name) + " has no paths",
                 "list every path it lives at: \"paths\": [\"/usr/bin/" + name + "\"]");
    }
    if (!value.contains("default")) {
      ValueError(path, "tool " + Quoted(name) + " has no default verdict",
                 "add \"default\": \"deny\" (what a call no rule matches gets)");
    }
    if (!value.contains("why")) {
      ValueError(path, "tool " + Quoted(name) + " has no justification for its default",
                 "add \"why\": \"...\"; the agent is shown it when the default denies");
    }
    result_.profile.tools[name] = std::move(tool);
  }

  void CheckTools(const std::string& path, const Json& value) {
    if (!ExpectObject(path, value)) return;
    for (const auto& [name, member] : value.items()) {
      std::string member_path = Child(path, name);
      if (!IsToolName(name)) {
        KeyError(member_path, Quoted(name) + " is not a tool name",
                 "use the program's file name, such as \"git\" or \"npm\"");
        continue;
      }
      CheckTool(member_path, name, member);
    }
  }

  // --- examples ---

  // {"connect": "host:port", "resolves_to": [addresses], "expect": "allow"|"deny", "rule": …}
  void CheckNetworkExample(const std::string& path, const Json& value) {
    static const std::vector<std::string> kKnown = {"connect", "resolves_to", "expect", "rule"};
    NetworkExample example;
    example.json_path = path;
    example.where = SourceRef{doc_.file, 0, 0};
    bool ok = true;
    for (const auto& [key, member] : value.items()) {
      std::string member_path = Child(path, key);
      if (key == "connect") {
        auto target = ExpectString(member_path, member, "\"registry.npmjs.org:443\"");
        std::string host;
        std::uint16_t port = 0;
        if (target && !SplitExampleTarget(*target, &host, &port)) {
          ValueError(member_path, Quoted(*target) + " is not host:port",
                     "write \"registry.npmjs.org:443\" or \"[2001:db8::1]:443\"");
          ok = false;
        } else if (target) {
          example.target = *target;
        } else {
          ok = false;
        }
      } else if (key == "resolves_to") {
        ForEachString(member_path, member, "\"10.1.2.3\"",
                      [&](const std::string& element_path, const std::string& text) {
                        if (auto address = ParseIpAddress(text)) {
                          example.resolves_to.push_back(*address);
                        } else {
                          ValueError(element_path, Quoted(text) + " is not an IP address",
                                     "write \"192.0.2.1\" or \"2001:db8::1\"");
                          ok = false;
                        }
                      });
      } else if (key == "expect") {
        auto verdict = ExpectString(member_path, member, "\"allow\"");
        if (verdict && (*verdict == "allow" || *verdict == "deny")) {
          example.expect_allow = *verdict == "allow";
        } else {
          if (verdict)
            ValueError(member_path, "a connection is allowed or denied, not " + Quoted(*verdict),
                       "write \"allow\" or \"deny\"");
          ok = false;
        }
      } else if (key == "rule") {
        if (auto rule = ExpectString(member_path, member, "\"default\"")) example.rule = *rule;
      } else {
        ReportUnknownKey(member_path, key, kKnown);
      }
    }
    std::string host;
    std::uint16_t port = 0;
    if (!example.resolves_to.empty() && SplitExampleTarget(example.target, &host, &port) &&
        ParseIpAddress(host)) {
      // The proxy never resolves an address: what it would connect to is the address itself.
      ValueError(Child(path, "resolves_to"), "an address does not resolve to anything",
                 "give resolves_to only with a host name");
      ok = false;
    }
    if (!value.contains("expect")) {
      ValueError(path, "an example needs \"expect\"", "add \"expect\": \"allow\" or \"deny\"");
      ok = false;
    }
    if (ok) result_.profile.network_examples.push_back(std::move(example));
  }

  void CheckExample(const std::string& path, const Json& value) {
    if (!ExpectObject(path, value)) return;
    if (value.contains("connect")) return CheckNetworkExample(path, value);
    static const std::vector<std::string> kKnown = {"call", "argv", "expect", "rule", "cwd", "env"};
    ToolExample example;
    example.json_path = path;
    example.where = SourceRef{doc_.file, 0, 0};  // line and column found if it fails
    bool ok = true;
    for (const auto& [key, member] : value.items()) {
      std::string member_path = Child(path, key);
      if (key == "call") {
        if (auto text = ExpectString(member_path, member, "\"git push origin main\"")) {
          std::size_t i = 0;
          while (i < text->size()) {
            std::size_t start = text->find_first_not_of(" \t", i);
            if (start == std::string::npos) break;
            std::size_t end = text->find_first_of(" \t", start);
            if (end == std::string::npos) end = text->size();
            example.argv.push_back(text->substr(start, end - start));
            i = end;
          }
        }
      } else if (key == "argv") {
        ForEachString(
            member_path, member, "\"git\", \"commit\", \"-m\", \"a message\"",
            [&](const std::string&, const std::string& token) { example.argv.push_back(token); });
      } else if (key == "expect") {
        if (auto verdict = CheckVerdict(member_path, member)) {
          example.expect = *verdict;
        } else {
          ok = false;
        }
      } else if (key == "rule") {
        if (auto rule = ExpectString(member_path, member, "\"git-push\"")) example.rule = *rule;
      } else if (key == "cwd") {
        if (auto cwd = ExpectString(member_path, member, "\"{workspace}/src\"")) {
          if (auto problem = CheckPath(*cwd)) {
            ValueError(member_path, problem->message, problem->hint);
            ok = false;
          } else {
            example.cwd = *cwd;
          }
        }
      } else if (key == "env") {
        if (!ExpectObject(member_path, member)) continue;
        for (const auto& [variable, setting] : member.items()) {
          if (auto text = ExpectString(Child(member_path, variable), setting, "\"value\""))
            example.env.push_back(variable + "=" + *text);
        }
      } else {
        ReportUnknownKey(member_path, key, kKnown);
      }
    }
    if (value.contains("call") == value.contains("argv")) {
      ValueError(path, "an example needs exactly one of \"call\" and \"argv\"",
                 "write \"call\": \"git push origin main\" or \"argv\": [\"git\", ...]");
      ok = false;
    } else if (example.argv.empty()) {
      ValueError(path, "an example needs a call", "name the tool and its arguments");
      ok = false;
    }
    if (!value.contains("expect")) {
      ValueError(path, "an example needs \"expect\"",
                 "add \"expect\": \"allow\", \"ask\" or \"deny\"");
      ok = false;
    }
    if (ok) result_.profile.examples.push_back(std::move(example));
  }

  void CheckExamples(const std::string& path, const Json& value) {
    if (!value.is_array()) {
      ValueError(path, "expected an array of examples, got " + TypeName(value),
                 "write [{\"call\": \"git push\", \"expect\": \"deny\"}]");
      return;
    }
    for (std::size_t i = 0; i < value.size(); ++i) CheckExample(Child(path, i), value[i]);
  }

  const Document& doc_;
  ParsedDocument result_;
};

// Parses text into a Document, or reports the syntax error with its position.
std::optional<Document> ParseDocument(const std::string& file, const std::string& text,
                                      std::vector<ProfileError>& errors) {
  Document document;
  document.file = file;
  document.text = text;
  // Duplicate keys are found while parsing: a key given twice is stored once, so an object that
  // ends with fewer members than keys were read had one. Their positions are looked up only
  // when there are some.
  std::vector<std::size_t> keys_read;  // per open object
  bool duplicates = false;
  auto watch = [&](int, nlohmann::detail::parse_event_t event, Json& parsed) {
    using Event = nlohmann::detail::parse_event_t;
    if (event == Event::object_start) {
      keys_read.push_back(0);
    } else if (event == Event::object_end) {
      if (!keys_read.empty()) {
        if (parsed.is_object() && parsed.size() < keys_read.back()) duplicates = true;
        keys_read.pop_back();
      }
    } else if (event == Event::key && !keys_read.empty()) {
      ++keys_read.back();
    }
    return true;
  };
  try {
    document.json = Json::parse(text, watch);
  } catch (const Json::parse_error& error) {
    // error.byte is the 1-based index of the last character read, i.e. the offending one.
    std::size_t offset = error.byte > 0 ? error.byte - 1 : 0;
    TextPosition position = PositionOfOffset(text, offset);
    std::string message = error.what();
    // Drop nlohmann's own "[json.exception...] parse error at line 1, column 2: " prefix: its
    // column counts differently and the position is ours.
    if (std::size_t detail = message.find("syntax error"); detail != std::string::npos) {
      message = message.substr(detail);
    }
    errors.push_back(ProfileError{file, "", position.line, position.column,
                                  "invalid JSON: " + message,
                                  "fix the JSON syntax; comments and trailing commas are not "
                                  "allowed"});
    return std::nullopt;
  }
  document.has_duplicate_keys = duplicates;
  return document;
}

// One profile file's own settings, before its parents are laid under it.
struct Layer {
  std::string file_key;
  std::shared_ptr<const Profile> own;
};

// The layers of a profile, parents first: each parent's layers in the order the parents are
// listed, then the profile itself. A file reached twice (two parents that both extend "base")
// is applied once, where it first appears, so a shared grandparent cannot undo what the first
// parent changed.
using Layers = std::vector<Layer>;

void AppendLayers(Layers& into, const Layers& from) {
  for (const Layer& layer : from) {
    bool present = std::any_of(into.begin(), into.end(), [&](const Layer& existing) {
      return existing.file_key == layer.file_key;
    });
    if (!present) into.push_back(layer);
  }
}

// One Load: follows extends, detects cycles, and caches each file so a parent shared by two
// branches is read, checked and reported once.
class ExtendsResolver {
 public:
  ExtendsResolver(std::vector<std::string> dirs, const FileReader& read, const FileExists& exists)
      : dirs_(std::move(dirs)), read_(read), exists_(exists) {}

  // The merged profile of `file`, or nullopt when it or a parent has errors (see errors()).
  std::optional<Profile> LoadProfile(const std::string& file, const std::string& text,
                                     const std::string& display_name) {
    std::optional<Layers> layers = LoadLayers(file, text, display_name);
    if (!layers || !errors_.empty()) return std::nullopt;
    Profile merged;
    for (const Layer& layer : *layers) MergeInto(merged, *layer.own);
    const Profile& own = *layers->back().own;
    merged.name = own.name;
    merged.description = own.description;
    merged.extends = own.extends;
    merged.source_file = file;
    std::optional<JsonLocations> positions;  // of the file, found only when an example fails
    for (const ExampleFailure& failure : CheckToolExamples(merged.tools, merged.examples)) {
      // The examples checked are the loaded file's own: `text`.
      if (!positions) positions = JsonLocations::Scan(text);
      TextPosition at = positions->Find(failure.example->json_path).value_or(JsonLocation{}).value;
      errors_.push_back(ProfileError{failure.example->where.file, failure.example->json_path,
                                     at.line, at.column, "example fails: " + failure.message,
                                     "fix the rules or the example; a profile whose examples "
                                     "fail does not load"});
    }
    NetworkRules rules;
    for (const HostRule& rule : merged.network.allow) rules.allow.push_back(rule.pattern);
    for (const HostRule& rule : merged.network.deny) rules.deny.push_back(rule.pattern);
    for (const NetworkExampleFailure& failure : CheckNetworkExamples(
             merged.network.mode.value_or(NetworkMode::kNone), rules, merged.network_examples)) {
      if (!positions) positions = JsonLocations::Scan(text);
      TextPosition at = positions->Find(failure.example->json_path).value_or(JsonLocation{}).value;
      errors_.push_back(ProfileError{failure.example->where.file, failure.example->json_path,
                                     at.line, at.column, "example fails: " + failure.message,
                                     "fix the network rules or the example; a profile whose "
                                     "examples fail does not load"});
    }
    if (!errors_.empty()) return std::nullopt;
    return merged;
  }

  std::vector<ProfileError>& errors() { return errors_; }

 private:
  struct Link {
    std::string file_key;
    std::string name;
  };

  std::optional<Layers> LoadLayers(const std::string& file, const std::string& text,
                                   const std::string& display_name) {
    std::string key = FileKey(file);
    if (auto cached = cache_.find(key); cached != cache_.end()) return cached->second;

    chain_.push_back(Link{key, display_name});
    std::optional<Layers> layers = LoadUncached(key, file, text);
    chain_.pop_back();
    cache_[key] = layers;
    return layers;
  }

  std::optional<Layers> LoadUncached(const std::string& key, const std::string& file,
                                     const std::string& text) {
    std::optional<Document> document = ParseDocument(file, text, errors_);
    if (!document) return std::nullopt;
    ParsedDocument parsed = DocumentChecker(*document).Check();
    // This file's errors first, in file order; then each parent's, as the parents are loaded.
    std::size_t own_start = errors_.size();
    errors_.insert(errors_.end(), parsed.errors.begin(), parsed.errors.end());
    std::size_t own_count = parsed.errors.size();

    std::vector<ProfileError> extends_errors;
    Layers layers;
    bool parents_ok = true;
    for (const ExtendsEntry& entry : parsed.extends) {
      std::optional<Layers> parent = LoadParent(*document, entry, extends_errors);
      if (parent) {
        AppendLayers(layers, *parent);
      } else {
        parents_ok = false;
      }
    }
    // Errors at extends entries are this file's errors: merge them in by position.
    if (!extends_errors.empty()) {
      auto own_begin = errors_.begin() + static_cast<std::ptrdiff_t>(own_start);
      errors_.insert(own_begin + static_cast<std::ptrdiff_t>(own_count), extends_errors.begin(),
                     extends_errors.end());
      own_begin = errors_.begin() + static_cast<std::ptrdiff_t>(own_start);
      std::stable_sort(own_begin,
                       own_begin + static_cast<std::ptrdiff_t>(own_count + extends_errors.size()),
                       [](const ProfileError& a, const ProfileError& b) {
                         return std::pair(a.line, a.column) < std::pair(b.line, b.column);
                       });
    }
    if (own_count > 0 || !parents_ok) return std::nullopt;
    AppendLayers(layers, {Layer{key, std::make_shared<const Profile>(std::move(parsed.profile))}});
    return layers;
  }

  std::optional<Layers> LoadParent(const Document& child, const ExtendsEntry& entry,
                                   std::vector<ProfileError>& errors) {
    auto location = child.locations().Find(entry.json_path);
    TextPosition position = location ? location->value : TextPosition{};
    auto error = [&](std::string message, std::string hint) {
      errors.push_back(ProfileError{child.file, entry.json_path, position.line, position.column,
                                    std::move(message), std::move(hint)});
    };

    std::optional<std::string> parent_file;
    for (const std::string& dir : dirs_) {
      std::string candidate = JoinPath(dir, entry.name + ".json");
      if (exists_(candidate)) {
        parent_file = candidate;
        break;
      }
    }
    if (!parent_file) {
      error("no profile named " + Quoted(entry.name),
            dirs_.empty() ? "no profile directories are configured"
                          : "looked for " + entry.name + ".json in: " + Join(dirs_, ", "));
      return std::nullopt;
    }

    std::string key = FileKey(*parent_file);
    auto in_chain = std::find_if(chain_.begin(), chain_.end(),
                                 [&](const Link& link) { return link.file_key == key; });
    if (in_chain != chain_.end()) {
      std::vector<std::string> names;
      for (auto link = in_chain; link != chain_.end(); ++link) names.push_back(link->name);
      names.push_back(entry.name);
      error("extends cycle: " + Join(names, " -> "),
            "a profile cannot extend itself, directly or through its parents");
      return std::nullopt;
    }

    std::optional<std::string> text = read_(*parent_file);
    if (!text) {
      error("cannot read " + *parent_file, "check that the file is readable");
      return std::nullopt;
    }
    return LoadLayers(*parent_file, *text, entry.name);
  }

  std::vector<std::string> dirs_;
  const FileReader& read_;
  const FileExists& exists_;
  std::vector<Link> chain_;
  std::map<std::string, std::optional<Layers>> cache_;
  std::vector<ProfileError> errors_;
};

std::string StemOf(const std::string& file) {
  std::string base = file.substr(file.rfind('/') + 1);
  if (base.ends_with(".json")) base.resize(base.size() - 5);
  return base;
}

}  // namespace

std::string ProfileError::ToString() const {
  std::string text;
  if (!file.empty()) {
    text += file;
    if (line > 0) text += ":" + std::to_string(line) + ":" + std::to_string(column);
    text += ": ";
  }
  if (!json_path.empty()) text += json_path + ": ";
  text += message;
  if (!hint.empty()) text += " (" + hint + ")";
  return text;
}

ProfileLoader::ProfileLoader(std::vector<std::string> search_dirs, FileReader read,
                             FileExists exists)
    : search_dirs_(std::move(search_dirs)), read_(std::move(read)), exists_(std::move(exists)) {}

std::optional<std::string> ProfileLoader::Resolve(const std::string& name_or_path) const {
  if (IsPathLike(name_or_path)) return name_or_path;
  for (const std::string& dir : search_dirs_) {
    std::string candidate = JoinPath(dir, name_or_path + ".json");
    if (exists_(candidate)) return candidate;
  }
  return std::nullopt;
}

LoadResult ProfileLoader::Load(const std::string& name_or_path) const {
  std::optional<std::string> file = Resolve(name_or_path);
  if (!file) {
    LoadResult result;
    result.errors.push_back(ProfileError{
        "", "", 0, 0, "no profile named " + Quoted(name_or_path),
        search_dirs_.empty() ? "give a path to a .json file"
                             : "looked for " + name_or_path + ".json in: " +
                                   Join(search_dirs_, ", ") + "; or give a path to a .json file"});
    return result;
  }
  std::optional<std::string> text = read_(*file);
  if (!text) {
    LoadResult result;
    result.errors.push_back(ProfileError{*file, "", 0, 0, "cannot read the profile file",
                                         "check that it exists and is readable"});
    return result;
  }
  // A profile given by path finds its parents next to it first, so a directory of profiles can
  // be tried out before it is installed.
  if (IsPathLike(name_or_path)) return LoadText(*file, *text);

  LoadResult result;
  ExtendsResolver resolver(search_dirs_, read_, exists_);
  result.profile = resolver.LoadProfile(*file, *text, StemOf(*file));
  result.errors = std::move(resolver.errors());
  if (!result.errors.empty()) result.profile.reset();
  return result;
}

LoadResult ProfileLoader::LoadText(const std::string& file, const std::string& text) const {
  std::vector<std::string> dirs;
  if (file.find('/') != std::string::npos) dirs.push_back(DirectoryOf(file));
  for (const std::string& dir : search_dirs_) {
    if (dirs.empty() || FileKey(dir) != FileKey(dirs.front())) dirs.push_back(dir);
  }
  LoadResult result;
  ExtendsResolver resolver(std::move(dirs), read_, exists_);
  result.profile = resolver.LoadProfile(file, text, StemOf(file));
  result.errors = std::move(resolver.errors());
  if (!result.errors.empty()) result.profile.reset();
  return result;
}

// --- sizes and durations ---

std::optional<std::uint64_t> ParseSize(const std::string& text) {
  std::size_t i = 0;
  auto is_digit = [&](std::size_t at) {
    return at < text.size() && text[at] >= '0' && text[at] <= '9';
  };
  if (!is_digit(0)) return std::nullopt;
  std::uint64_t whole = 0;
  for (; is_digit(i); ++i) {
    if (__builtin_mul_overflow(whole, 10u, &whole) ||
        __builtin_add_overflow(whole, static_cast<std::uint64_t>(text[i] - '0'), &whole)) {
      return std::nullopt;
    }
  }
  // The fraction is kept as digits over a power of ten so "1.5G" is exact, not a double.
  std::uint64_t fraction = 0;
  std::uint64_t fraction_scale = 1;
  bool has_fraction = false;
  if (i < text.size() && text[i] == '.') {
    ++i;
    if (!is_digit(i)) return std::nullopt;
    has_fraction = true;
    for (; is_digit(i); ++i) {
      if (fraction_scale >= 1'000'000'000'000'000'000ull) return std::nullopt;  // 18 digits
      fraction = fraction * 10 + static_cast<std::uint64_t>(text[i] - '0');
      fraction_scale *= 10;
    }
  }

  std::string_view unit = std::string_view(text).substr(i);
  unsigned shift = 0;
  if (!unit.empty() && unit != "B") {
    switch (unit[0]) {
      case 'K':
      case 'k':
        shift = 10;
        break;
      case 'M':
      case 'm':
        shift = 20;
        break;
      case 'G':
      case 'g':
        shift = 30;
        break;
      case 'T':
      case 't':
        shift = 40;
        break;
      default:
        return std::nullopt;
    }
    std::string_view suffix = unit.substr(1);
    if (!suffix.empty() && suffix != "i" && suffix != "iB" && suffix != "B") return std::nullopt;
  }
  if (has_fraction && shift == 0) return std::nullopt;  // no such thing as half a byte

  std::uint64_t multiplier = std::uint64_t{1} << shift;
  std::uint64_t bytes = 0;
  if (__builtin_mul_overflow(whole, multiplier, &bytes)) return std::nullopt;
  unsigned __int128 fraction_bytes =
      static_cast<unsigned __int128>(fraction) * multiplier / fraction_scale;
  if (__builtin_add_overflow(bytes, static_cast<std::uint64_t>(fraction_bytes), &bytes)) {
    return std::nullopt;
  }
  return bytes;
}

std::optional<std::uint64_t> ParseDuration(const std::string& text) {
  struct Unit {
    char letter;
    std::uint64_t seconds;
  };
  // Largest first: a duration lists each unit at most once, in this order ("1h30m", not "30m1h").
  static constexpr Unit kUnits[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};
  if (text.empty()) return std::nullopt;
  if (std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    std::uint64_t seconds = 0;
    for (char c : text) {
      if (__builtin_mul_overflow(seconds, 10u, &seconds) ||
          __builtin_add_overflow(seconds, static_cast<std::uint64_t>(c - '0'), &seconds)) {
        return std::nullopt;
      }
    }
    return seconds;
  }

  std::uint64_t total = 0;
  std::size_t next_unit = 0;  // index into kUnits of the smallest unit still allowed
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    std::uint64_t amount = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
      if (__builtin_mul_overflow(amount, 10u, &amount) ||
          __builtin_add_overflow(amount, static_cast<std::uint64_t>(text[i] - '0'), &amount)) {
        return std::nullopt;
      }
    }
    if (i >= text.size()) return std::nullopt;  // "1h30": a number without its unit
    char letter = text[i++];
    std::size_t unit = next_unit;
    while (unit < std::size(kUnits) && kUnits[unit].letter != letter) ++unit;
    if (unit == std::size(kUnits)) return std::nullopt;  // unknown, repeated or out of order
    std::uint64_t seconds = 0;
    if (__builtin_mul_overflow(amount, kUnits[unit].seconds, &seconds) ||
        __builtin_add_overflow(total, seconds, &total)) {
      return std::nullopt;
    }
    next_unit = unit + 1;
  }
  return total;
}

}  // namespace tollgate::policy
