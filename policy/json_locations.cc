#include "policy/json_locations.h"

#include <algorithm>
#include <cstdint>
#include <unordered_map>

namespace tollgate::policy {
namespace {

// Deeper documents are not profiles; stopping keeps the recursion bounded.
constexpr int kMaxDepth = 256;

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

bool IsUtf8Continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

void AppendUtf8(std::string& out, std::uint32_t code_point) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

std::optional<std::uint32_t> HexValue(std::string_view digits) {
  if (digits.size() != 4) return std::nullopt;
  std::uint32_t value = 0;
  for (char c : digits) {
    value <<= 4;
    if (c >= '0' && c <= '9') {
      value |= static_cast<std::uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      value |= static_cast<std::uint32_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      value |= static_cast<std::uint32_t>(c - 'A' + 10);
    } else {
      return std::nullopt;
    }
  }
  return value;
}

// Byte offsets where each line starts, so that positions cost a binary search, not a rescan.
class LineIndex {
 public:
  explicit LineIndex(std::string_view text) : text_(text) {
    line_starts_.push_back(0);
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n') line_starts_.push_back(i + 1);
    }
  }

  TextPosition Position(std::size_t offset) const {
    offset = std::min(offset, text_.size());
    auto next_line = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    std::size_t line_index = static_cast<std::size_t>(next_line - line_starts_.begin()) - 1;
    std::size_t line_start = line_starts_[line_index];
    // A byte order mark is invisible in editors, so it takes no column.
    if (line_start == 0 && text_.starts_with(kByteOrderMark)) {
      line_start = std::min(offset, kByteOrderMark.size());
    }
    int column = 1;
    for (std::size_t i = line_start; i < offset; ++i) {
      if (!IsUtf8Continuation(text_[i])) ++column;
    }
    return TextPosition{static_cast<int>(line_index) + 1, column};
  }

 private:
  std::string_view text_;
  std::vector<std::size_t> line_starts_;
};

}  // namespace

// Recursive descent over the raw text. It mirrors the JSON grammar only as far as needed to know
// where values and keys start; the real validation is nlohmann's parser.
class JsonScanner {
 public:
  JsonScanner(std::string_view text, JsonLocations& out) : text_(text), lines_(text), out_(out) {}

  void ScanDocument() {
    if (text_.starts_with(kByteOrderMark)) pos_ = kByteOrderMark.size();  // as the parser does
    ScanValue("", std::nullopt, 0);
  }

 private:
  void SkipWhitespace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }

  bool Consume(char c) {
    SkipWhitespace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  // Returns false when the text is malformed: the caller stops.
  bool ScanValue(const std::string& path, std::optional<TextPosition> key, int depth) {
    SkipWhitespace();
    if (pos_ >= text_.size() || depth > kMaxDepth) return false;
    out_.locations_[path] = JsonLocation{lines_.Position(pos_), key};
    switch (text_[pos_]) {
      case '{':
        return ScanObject(path, depth);
      case '[':
        return ScanArray(path, depth);
      case '"':
        return ReadString().has_value();
      default:
        return SkipLiteral();
    }
  }

  bool ScanObject(const std::string& path, int depth) {
    ++pos_;  // '{'
    std::unordered_map<std::string, TextPosition> seen_keys;
    if (Consume('}')) return true;
    while (true) {
      SkipWhitespace();
      TextPosition key_position = lines_.Position(pos_);
      std::optional<std::string> key = ReadString();
      if (!key || !Consume(':')) return false;
      std::string member_path = path + "/" + EscapeJsonPointerToken(*key);
      auto [earlier, inserted] = seen_keys.emplace(*key, key_position);
      if (!inserted) {
        out_.duplicate_keys_.push_back(DuplicateKey{member_path, key_position, earlier->second});
        earlier->second = key_position;
      }
      if (!ScanValue(member_path, key_position, depth + 1)) return false;
      if (Consume(',')) continue;
      return Consume('}');
    }
  }

  bool ScanArray(const std::string& path, int depth) {
    ++pos_;  // '['
    if (Consume(']')) return true;
    for (std::size_t index = 0;; ++index) {
      if (!ScanValue(path + "/" + std::to_string(index), std::nullopt, depth + 1)) return false;
      if (Consume(',')) continue;
      return Consume(']');
    }
  }

  // Numbers, true, false, null: whatever runs up to the next delimiter.
  bool SkipLiteral() {
    std::size_t start = pos_;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == ',' || c == ']' || c == '}' || c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
          c == ':' || c == '"' || c == '[' || c == '{') {
        break;
      }
      ++pos_;
    }
    return pos_ > start;
  }

  // Reads a string at pos_ and returns its decoded value, so keys compare like the parser's.
  std::optional<std::string> ReadString() {
    if (pos_ >= text_.size() || text_[pos_] != '"') return std::nullopt;
    ++pos_;
    std::string value;
    while (pos_ < text_.size()) {
      // Plain runs are copied whole: profiles are mostly paths without escapes.
      std::size_t plain_end = text_.find_first_of("\"\\", pos_);
      if (plain_end == std::string_view::npos) plain_end = text_.size();
      value.append(text_.substr(pos_, plain_end - pos_));
      pos_ = plain_end;
      if (pos_ >= text_.size()) break;
      char c = text_[pos_++];
      if (c == '"') return value;
      if (pos_ >= text_.size()) return std::nullopt;
      char escaped = text_[pos_++];
      switch (escaped) {
        case '"':
        case '\\':
        case '/':
          value += escaped;
          break;
        case 'b':
          value += '\b';
          break;
        case 'f':
          value += '\f';
          break;
        case 'n':
          value += '\n';
          break;
        case 'r':
          value += '\r';
          break;
        case 't':
          value += '\t';
          break;
        case 'u': {
          std::optional<std::uint32_t> code_point = ReadHex4();
          if (!code_point) return std::nullopt;
          // A high surrogate must be followed by an escaped low one; together they are one
          // code point outside the basic plane.
          if (*code_point >= 0xD800 && *code_point <= 0xDBFF) {
            if (pos_ + 1 >= text_.size() || text_[pos_] != '\\' || text_[pos_ + 1] != 'u') {
              return std::nullopt;
            }
            pos_ += 2;
            std::optional<std::uint32_t> low = ReadHex4();
            if (!low || *low < 0xDC00 || *low > 0xDFFF) return std::nullopt;
            *code_point = 0x10000 + ((*code_point - 0xD800) << 10) + (*low - 0xDC00);
          }
          AppendUtf8(value, *code_point);
          break;
        }
        default:
          return std::nullopt;
      }
    }
    return std::nullopt;
  }

  std::optional<std::uint32_t> ReadHex4() {
    if (text_.size() - pos_ < 4) return std::nullopt;
    std::optional<std::uint32_t> value = HexValue(text_.substr(pos_, 4));
    pos_ += 4;
    return value;
  }

  std::string_view text_;
  LineIndex lines_;
  JsonLocations& out_;
  std::size_t pos_ = 0;
};

JsonLocations JsonLocations::Scan(std::string_view text) {
  JsonLocations locations;
  JsonScanner(text, locations).ScanDocument();
  return locations;
}

std::optional<JsonLocation> JsonLocations::Find(const std::string& json_path) const {
  auto found = locations_.find(json_path);
  if (found == locations_.end()) return std::nullopt;
  return found->second;
}

TextPosition PositionOfOffset(std::string_view text, std::size_t byte_offset) {
  return LineIndex(text).Position(byte_offset);
}

std::string EscapeJsonPointerToken(std::string_view token) {
  std::string escaped;
  escaped.reserve(token.size());
  for (char c : token) {
    if (c == '~') {
      escaped += "~0";
    } else if (c == '/') {
      escaped += "~1";
    } else {
      escaped += c;
    }
  }
  return escaped;
}

}  // namespace tollgate::policy
