#include "supervisor/audit/record.h"

#include <nettle/sha2.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <stdexcept>

namespace tollgate::audit {

const char* VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kAllow:
      return "allow";
    case Verdict::kDeny:
      return "deny";
    case Verdict::kInfo:
      return "info";
  }
  return "info";
}

std::optional<Verdict> ParseVerdict(std::string_view text) {
  if (text == "allow") return Verdict::kAllow;
  if (text == "deny") return Verdict::kDeny;
  if (text == "info") return Verdict::kInfo;
  return std::nullopt;
}

namespace {

// Length of the well-formed UTF-8 sequence at text[i] (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), or 0 when the byte there does not start one.
std::size_t Utf8SequenceLength(std::string_view text, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char b0 = byte(i);
  if (b0 < 0x80) return 1;
  std::size_t left = text.size() - i;
  auto cont = [&](std::size_t k) { return (byte(i + k) & 0xC0) == 0x80; };
  if (b0 >= 0xC2 && b0 <= 0xDF) return left >= 2 && cont(1) ? 2 : 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (left < 3 || !cont(1) || !cont(2)) return 0;
    unsigned char b1 = byte(i + 1);
    if (b0 == 0xE0 && b1 < 0xA0) return 0;   // overlong
    if (b0 == 0xED && b1 >= 0xA0) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (left < 4 || !cont(1) || !cont(2) || !cont(3)) return 0;
    unsigned char b1 = byte(i + 1);
    if (b0 == 0xF0 && b1 < 0x90) return 0;   // overlong
    if (b0 == 0xF4 && b1 >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

constexpr char kHexDigits[] = "0123456789abcdef";

}  // namespace

bool IsValidUtf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    std::size_t n = Utf8SequenceLength(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

Json SafeStrings::String(std::string_view raw, const std::string& path, std::size_t max_bytes) {
  const bool valid = IsValidUtf8(raw);
  if (valid && raw.size() <= max_bytes) return std::string(raw);

  std::string out;
  out.reserve(std::min(raw.size() + 8, max_bytes));
  bool cut = false;
  for (std::size_t i = 0; i < raw.size();) {
    std::size_t n = Utf8SequenceLength(raw, i);
    char unit[4];
    std::size_t unit_size = 0;
    if (n == 0) {  // an invalid byte: \xNN
      unsigned char b = static_cast<unsigned char>(raw[i]);
      unit[0] = '\\', unit[1] = 'x', unit[2] = kHexDigits[b >> 4], unit[3] = kHexDigits[b & 15];
      unit_size = 4, n = 1;
    } else if (!valid && raw[i] == '\\') {  // escaping is reversible only if \ is escaped too
      unit[0] = '\\', unit[1] = '\\';
      unit_size = 2;
    } else {
      for (std::size_t k = 0; k < n; ++k) unit[k] = raw[i + k];
      unit_size = n;
    }
    if (out.size() + unit_size > max_bytes) {
      cut = true;
      break;
    }
    out.append(unit, unit_size);
    i += n;
  }
  if (!valid) escaped_.push_back(path);
  if (cut) truncated_[path] = raw.size();
  return out;
}

Json SafeStrings::StringArray(const std::vector<std::string>& raw, const std::string& path) {
  Json out = Json::array();
  std::size_t kept = std::min(raw.size(), kMaxArrayItems);
  for (std::size_t i = 0; i < kept; ++i)
    out.push_back(String(raw[i], path + "." + std::to_string(i)));
  if (kept < raw.size()) truncated_[path] = raw.size();
  return out;
}

void SafeStrings::AnnotateRecord(Json* record) const {
  if (!escaped_.empty()) {
    Json& list = (*record)[field::kEscaped];
    for (const Json& path : escaped_) list.push_back(path);
  }
  if (!truncated_.empty()) {
    Json& map = (*record)[field::kTruncated];
    for (const auto& [path, length] : truncated_.items()) map[path] = length;
  }
}

void AppendJsonString(std::string_view text, std::string* out) {
  // Only bytes above 0x7F need the UTF-8 check: most record strings are ASCII paths.
  bool ascii = true;
  for (char c : text) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  if (!ascii && !IsValidUtf8(text))
    throw std::invalid_argument("an audit record string is not UTF-8");
  out->push_back('"');
  std::size_t plain_from = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(text.substr(plain_from, i - plain_from));
    plain_from = i + 1;
    out->push_back('\\');
    switch (c) {
      case '"':
        out->push_back('"');
        break;
      case '\\':
        out->push_back('\\');
        break;
      case '\b':
        out->push_back('b');
        break;
      case '\t':
        out->push_back('t');
        break;
      case '\n':
        out->push_back('n');
        break;
      case '\f':
        out->push_back('f');
        break;
      case '\r':
        out->push_back('r');
        break;
      default:  // other control characters: \u00XX, lower-case hex as nlohmann writes it
        out->append("u00");
        out->push_back(kHexDigits[c >> 4]);
        out->push_back(kHexDigits[c & 15]);
    }
  }
  out->append(text.substr(plain_from));
  out->push_back('"');
}

void AppendCanonical(const Json& value, std::string* out) {
  switch (value.type()) {
    case Json::value_t::object: {
      out->push_back('{');
      bool first = true;
      for (const auto& [key, item] : value.get_ref<const Json::object_t&>()) {
        if (!first) out->push_back(',');
        first = false;
        AppendJsonString(key, out);
        out->push_back(':');
        AppendCanonical(item, out);
      }
      out->push_back('}');
      return;
    }
    case Json::value_t::array: {
      out->push_back('[');
      bool first = true;
      for (const Json& item : value.get_ref<const Json::array_t&>()) {
        if (!first) out->push_back(',');
        first = false;
        AppendCanonical(item, out);
      }
      out->push_back(']');
      return;
    }
    case Json::value_t::string:
      AppendJsonString(value.get_ref<const std::string&>(), out);
      return;
    case Json::value_t::boolean:
      out->append(value.get<bool>() ? "true" : "false");
      return;
    case Json::value_t::null:
      out->append("null");
      return;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: {
      char digits[24];
      auto result = value.is_number_unsigned()
                        ? std::to_chars(digits, digits + sizeof digits, value.get<std::uint64_t>())
                        : std::to_chars(digits, digits + sizeof digits, value.get<std::int64_t>());
      out->append(digits, result.ptr);
      return;
    }
    default:  // floating point (never written by tollgate) and binary: as nlohmann writes them
      out->append(value.dump(-1, ' ', false, Json::error_handler_t::strict));
      return;
  }
}

std::string Canonical(const Json& value) {
  std::string out;
  AppendCanonical(value, &out);
  return out;
}

std::string Sha256Hex(std::string_view bytes) {
  // Nettle's SHA-256 (its SHA-NI or x86-64 code, chosen at start-up by a few CPUID probes).
  // Statically linked libcrypto cost every tollgate process ~0.25 ms before main (about a
  // hundred page faults of relocated data), for a digest.
  sha256_ctx context;
  sha256_init(&context);
  sha256_update(&context, bytes.size(), reinterpret_cast<const std::uint8_t*>(bytes.data()));
  std::uint8_t digest[SHA256_DIGEST_SIZE];
  sha256_digest(&context, sizeof digest, digest);
  std::string hex(64, '0');
  for (unsigned int i = 0; i < 32; ++i) {
    hex[2 * i] = kHexDigits[digest[i] >> 4];
    hex[2 * i + 1] = kHexDigits[digest[i] & 15];
  }
  return hex;
}

std::string SealRecord(Json* record) {
  record->erase(field::kHash);
  // The canonical text without `hash`, noting where `hash` belongs in key order, so that the
  // record is serialised once and the hash spliced in.
  std::string text = "{";
  std::size_t hash_at = std::string::npos;
  bool hash_first = false;
  for (const auto& [key, item] : record->get_ref<const Json::object_t&>()) {
    if (hash_at == std::string::npos && key > field::kHash) {
      hash_at = text.size();
      hash_first = text.size() == 1;
    }
    if (text.size() > 1) text.push_back(',');
    AppendJsonString(key, &text);
    text.push_back(':');
    AppendCanonical(item, &text);
  }
  text.push_back('}');
  std::string hash = Sha256Hex(text);
  (*record)[field::kHash] = hash;
  std::string member = "\"hash\":\"" + hash + "\"";
  if (hash_at == std::string::npos) {  // `hash` is the last key
    text.insert(text.size() - 1, text.size() > 2 ? "," + member : member);
  } else {
    text.insert(hash_at, hash_first ? member + "," : "," + member);
  }
  text.push_back('\n');
  return text;
}

std::string FormatTime(std::int64_t unix_ns) {
  std::int64_t seconds = unix_ns / 1'000'000'000;
  std::int64_t nanos = unix_ns % 1'000'000'000;
  if (nanos < 0) nanos += 1'000'000'000, seconds -= 1;
  // The calendar part changes once a second; records come by the hundred thousand.
  thread_local std::int64_t cached_seconds = INT64_MIN;
  thread_local char cached[24];  // "YYYY-MM-DDTHH:MM:SS."
  if (seconds != cached_seconds) {
    std::time_t t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char text[96];
    std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    std::memcpy(cached, text, 20);
    cached_seconds = seconds;
  }
  std::string out(cached, 20);
  out.resize(30);
  for (int i = 28; i >= 20; --i, nanos /= 10) out[i] = static_cast<char>('0' + nanos % 10);
  out[29] = 'Z';
  return out;
}

std::optional<std::int64_t> ParseTime(std::string_view text) {
  // Exactly YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ (30 characters).
  if (text.size() != 30) return std::nullopt;
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd.dddddddddZ";
  for (std::size_t i = 0; i < kShape.size(); ++i) {
    if (kShape[i] == 'd' ? (text[i] < '0' || text[i] > '9') : text[i] != kShape[i])
      return std::nullopt;
  }
  auto number = [&](std::size_t at, std::size_t digits) {
    long long value = 0;
    for (std::size_t i = 0; i < digits; ++i) value = value * 10 + (text[at + i] - '0');
    return value;
  };
  // Nanoseconds since 1970 fit an int64 from 1678 to 2262 only.
  if (number(0, 4) < 1678 || number(0, 4) > 2261) return std::nullopt;
  std::tm tm{};
  tm.tm_year = static_cast<int>(number(0, 4)) - 1900;
  tm.tm_mon = static_cast<int>(number(5, 2)) - 1;
  tm.tm_mday = static_cast<int>(number(8, 2));
  tm.tm_hour = static_cast<int>(number(11, 2));
  tm.tm_min = static_cast<int>(number(14, 2));
  tm.tm_sec = static_cast<int>(number(17, 2));
  if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60)
    return std::nullopt;
  std::time_t seconds = timegm(&tm);
  return static_cast<std::int64_t>(seconds) * 1'000'000'000 + number(20, 9);
}

}  // namespace tollgate::audit
