// Where things are in a JSON text: nlohmann::json forgets positions, but error messages must say
// "line 12, column 5". A small scanner walks the raw text once and maps every JSON pointer to the
// line:column of its value (and of its key, for object members). It also finds duplicate keys,
// which the parser silently collapses to the last one.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tollgate::policy {

// 1-based line and column; columns count characters (UTF-8 code points), not bytes.
struct TextPosition {
  int line = 0;
  int column = 0;
  friend bool operator==(const TextPosition&, const TextPosition&) = default;
};

struct JsonLocation {
  TextPosition value;               // first character of the value
  std::optional<TextPosition> key;  // opening quote of the key; only for object members
};

struct DuplicateKey {
  std::string json_path;     // pointer of the repeated member, e.g. "/limits/memory"
  TextPosition key;          // the later occurrence (the one the parser keeps)
  TextPosition earlier_key;  // the occurrence before it
};

class JsonLocations {
 public:
  // Scans `text`, which should be valid JSON (parse it first). On malformed input the scan stops
  // where the text stops making sense and keeps what it found up to there.
  static JsonLocations Scan(std::string_view text);

  // nullopt when the pointer was not seen. For a key that occurs twice, the later occurrence
  // wins, as it does in the parsed document.
  std::optional<JsonLocation> Find(const std::string& json_path) const;

  // In text order.
  const std::vector<DuplicateKey>& duplicate_keys() const { return duplicate_keys_; }

 private:
  friend class JsonScanner;
  std::map<std::string, JsonLocation> locations_;
  std::vector<DuplicateKey> duplicate_keys_;
};

// Line and column of a byte offset; an offset past the end is clamped to the end.
TextPosition PositionOfOffset(std::string_view text, std::size_t byte_offset);

// One reference token of a JSON pointer (RFC 6901): "~" -> "~0", "/" -> "~1".
std::string EscapeJsonPointerToken(std::string_view token);

}  // namespace tollgate::policy
