#include "supervisor/audit/terminal.h"

#include <cstdint>
#include <cstdio>

namespace tollgate::audit {

namespace {

// Decodes the UTF-8 sequence at text[i]; 0 when it is not a well-formed one (then the byte is
// shown as \xNN). Same rules as record.cc's validation: no overlong forms, no surrogates.
std::size_t Decode(std::string_view text, std::size_t i, std::uint32_t* code_point) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
  const std::size_t left = text.size() - i;
  const unsigned char b0 = byte(0);
  auto cont = [&](std::size_t k) { return k < left && (byte(k) & 0xC0) == 0x80; };
  if (b0 < 0x80) {
    *code_point = b0;
    return 1;
  }
  if (b0 >= 0xC2 && b0 <= 0xDF && cont(1)) {
    *code_point = ((b0 & 0x1Fu) << 6) | (byte(1) & 0x3Fu);
    return 2;
  }
  if (b0 >= 0xE0 && b0 <= 0xEF && cont(1) && cont(2)) {
    std::uint32_t cp = ((b0 & 0x0Fu) << 12) | ((byte(1) & 0x3Fu) << 6) | (byte(2) & 0x3Fu);
    if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    *code_point = cp;
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4 && cont(1) && cont(2) && cont(3)) {
    std::uint32_t cp = ((b0 & 0x07u) << 18) | ((byte(1) & 0x3Fu) << 12) | ((byte(2) & 0x3Fu) << 6) |
                       (byte(3) & 0x3Fu);
    if (cp < 0x10000 || cp > 0x10FFFF) return 0;
    *code_point = cp;
    return 4;
  }
  return 0;
}

// Characters above ASCII that change how a terminal shows text rather than being text.
bool IsInvisibleControl(std::uint32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) || cp == 0x061C || cp == 0x200E || cp == 0x200F ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 ||
         cp == 0x2029;
}

void AppendUnicodeEscape(std::string* out, std::uint32_t cp) {
  char text[16];
  std::snprintf(text, sizeof text, "\\u%04x", static_cast<unsigned>(cp & 0xFFFF));
  out->append(text);
}

}  // namespace

std::string TerminalSafe(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    std::uint32_t cp = 0;
    std::size_t n = Decode(text, i, &cp);
    if (n == 0) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned char>(text[i]));
      out.append(hex);
      ++i;
      continue;
    }
    if (cp < 0x20 || cp == 0x7F) {
      switch (cp) {
        case '\n':
          out.append("\\n");
          break;
        case '\r':
          out.append("\\r");
          break;
        case '\t':
          out.append("\\t");
          break;
        default: {
          char hex[8];
          std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned>(cp));
          out.append(hex);
        }
      }
    } else if (IsInvisibleControl(cp)) {
      AppendUnicodeEscape(&out, cp);
    } else {
      out.append(text.substr(i, n));
    }
    i += n;
  }
  return out;
}

std::string TerminalSafeJsonText(std::string_view json) {
  // Inside valid JSON these characters can only occur in strings, where a \u escape means the
  // same character: replacing them keeps the value and removes them from the bytes.
  std::string out;
  out.reserve(json.size());
  for (std::size_t i = 0; i < json.size();) {
    std::uint32_t cp = 0;
    std::size_t n = Decode(json, i, &cp);
    if (n == 0) {  // not expected in valid JSON; never pass a raw byte through
      AppendUnicodeEscape(&out, 0xFFFD);
      ++i;
      continue;
    }
    if (cp == 0x7F || IsInvisibleControl(cp) || (cp < 0x20 && cp != '\n'))
      AppendUnicodeEscape(&out, cp);
    else
      out.append(json.substr(i, n));
    i += n;
  }
  return out;
}

std::string TerminalSafeJson(const Json& value, int indent) {
  return TerminalSafeJsonText(
      value.dump(indent, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace));
}

}  // namespace tollgate::audit
