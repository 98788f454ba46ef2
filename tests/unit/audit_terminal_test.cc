// Nothing from the audit log reaches a terminal as a control character or an escape sequence.
#include "supervisor/audit/terminal.h"

#include <gtest/gtest.h>

#include "supervisor/audit/reader.h"

namespace tollgate::audit {
namespace {

// True when `text` holds a byte or character a terminal would act on.
bool HasTerminalControl(const std::string& text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7F) return true;
    if (c == 0xC2 && i + 1 < text.size()) {  // U+0080..U+009F
      unsigned char next = static_cast<unsigned char>(text[i + 1]);
      if (next >= 0x80 && next <= 0x9F) return true;
    }
    if (text.compare(i, 3, "\xe2\x80\xae") == 0 || text.compare(i, 3, "\xe2\x81\xa6") == 0)
      return true;  // U+202E, U+2066
  }
  return false;
}

const std::string kHostile =
    "a\nb\r\t\x1b[2J\x1b]0;pwned\x07 \x7f \xc2\x9b"
    "31m \xe2\x80\xae"
    "txt.exe \xe2\x81\xa6 end";

TEST(TerminalSafe, ShowsControlsAsVisibleEscapes) {
  std::string safe = TerminalSafe(kHostile);
  EXPECT_FALSE(HasTerminalControl(safe)) << safe;
  EXPECT_EQ(safe,
            "a\\nb\\r\\t\\x1b[2J\\x1b]0;pwned\\x07 \\x7f \\u009b31m \\u202etxt.exe \\u2066 end");
}

TEST(TerminalSafe, KeepsOrdinaryTextIncludingNonAscii) {
  std::string text = "caf\xc3\xa9 \xe2\x82\xac /home/ann/src \xf0\x9f\x98\x80 \"quoted\" {json}";
  EXPECT_EQ(TerminalSafe(text), text);
}

TEST(TerminalSafe, ShowsInvalidUtf8AsHexBytes) {
  EXPECT_EQ(TerminalSafe("a\xff"
                         "b\xc3"),
            "a\\xffb\\xc3");
  EXPECT_EQ(TerminalSafe("\xc0\xaf"), "\\xc0\\xaf");           // overlong '/'
  EXPECT_EQ(TerminalSafe("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate
}

TEST(TerminalSafe, TextEscapedBySafeStringsStaysReadable) {
  // SafeStrings writes invalid bytes as \xNN text: printable, shown as it is.
  SafeStrings strings;
  Json value = strings.String("run\xff\x1b[0m", "details.path");
  std::string shown = TerminalSafe(value.get<std::string>());
  EXPECT_EQ(shown, "run\\xff\\x1b[0m");
  EXPECT_FALSE(HasTerminalControl(shown));
}

TEST(TerminalSafeJson, EscapesC1DelAndBidiAndStaysTheSameJson) {
  Json value = {{"path", kHostile}, {"argv", {"x\xc2\x85y", "\"}{\"kind\":\"fake\""}}};
  std::string json = TerminalSafeJson(value);
  EXPECT_FALSE(HasTerminalControl(json)) << json;
  EXPECT_NE(json.find("\\u007f"), std::string::npos);
  EXPECT_NE(json.find("\\u009b"), std::string::npos);
  EXPECT_NE(json.find("\\u0085"), std::string::npos);
  EXPECT_NE(json.find("\\u202e"), std::string::npos);
  EXPECT_NE(json.find("\\u001b"), std::string::npos);
  EXPECT_EQ(Json::parse(json), value) << "the same value, only escaped differently";
  EXPECT_EQ(json.find('\n'), std::string::npos);
}

TEST(TerminalSafeJson, ALogLineKeepsItsMeaning) {
  Json record = {{"seq", 1}, {"details", {{"path", "/tmp/\x1b[31m\xc2\x9b\x7f"}}}};
  std::string line = Canonical(record);
  ASSERT_TRUE(HasTerminalControl(line)) << "the canonical line carries DEL and C1 raw";
  std::string safe = TerminalSafeJsonText(line);
  EXPECT_FALSE(HasTerminalControl(safe)) << safe;
  EXPECT_EQ(Json::parse(safe), record);
}

TEST(TerminalSafeJson, IndentedOutputKeepsItsNewlinesOnly) {
  Json value = {{"a", "x\ny"}};
  std::string json = TerminalSafeJson(value, 2);
  EXPECT_EQ(json, "{\n  \"a\": \"x\\ny\"\n}");
}

}  // namespace
}  // namespace tollgate::audit
