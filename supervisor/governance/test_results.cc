#include "supervisor/governance/test_results.h"

#include <expat.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

namespace tollgate::governance {

namespace {

enum class Outcome { kPassed, kFailed, kError, kSkipped };

// Larger counts in a plan or a "N/M" header are not a real run's: refused rather than summed.
constexpr std::uint64_t kMaxCount = 1'000'000'000;

// Expat takes an int length: the content is fed in pieces of this size.
constexpr std::size_t kXmlChunkBytes = 1 << 20;

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// Short enough not to allocate.
constexpr const char* kOutOfMemory = "out of memory";

TestReportParse Refuse(std::string error) {
  return {std::nullopt, std::move(error)};
}

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

char AsciiLower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool StartsWithIgnoringCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (AsciiLower(text[i]) != AsciiLower(prefix[i])) return false;
  }
  return true;
}

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

bool IsBlank(char c) {
  return c == ' ' || c == '\t';
}

std::string_view TrimBlanks(std::string_view text) {
  while (!text.empty() && IsBlank(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsBlank(text.back())) text.remove_suffix(1);
  return text;
}

// Reads the digits at the front of `text` (at least one) into `value`, removing them. False
// when there are none or the number is over kMaxCount.
bool TakeCount(std::string_view& text, std::uint64_t* value) {
  std::size_t digits = 0;
  std::uint64_t number = 0;
  while (digits < text.size() && IsDigit(text[digits])) {
    number = number * 10 + static_cast<std::uint64_t>(text[digits] - '0');
    if (number > kMaxCount) return false;
    ++digits;
  }
  if (digits == 0) return false;
  text.remove_prefix(digits);
  *value = number;
  return true;
}

// The length of the valid UTF-8 sequence at the front of `text`, 0 when there is none.
std::size_t Utf8SequenceLength(std::string_view text) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  auto continuation = [&](std::size_t i, unsigned char low = 0x80, unsigned char high = 0xBF) {
    return i < text.size() && byte(i) >= low && byte(i) <= high;
  };
  unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return continuation(1) ? 2 : 0;
  if (lead >= 0xE0 && lead <= 0xEF) {
    unsigned char low = lead == 0xE0 ? 0xA0 : 0x80;
    unsigned char high = lead == 0xED ? 0x9F : 0xBF;
    return continuation(1, low, high) && continuation(2) ? 3 : 0;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    unsigned char low = lead == 0xF0 ? 0x90 : 0x80;
    unsigned char high = lead == 0xF4 ? 0x8F : 0xBF;
    return continuation(1, low, high) && continuation(2) && continuation(3) ? 4 : 0;
  }
  return 0;
}

// A name from the report, made safe for a message or an audit record: valid UTF-8, control
// characters and invalid bytes as \xNN, at most `limit` bytes (cut with "..."). `ascii` escapes
// every byte over 0x7e too, for error messages, which are printable ASCII.
std::string SafeText(std::string_view raw, std::size_t limit = kMaxTestNameBytes,
                     bool ascii = false) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  std::size_t cut_at = 0;  // the longest prefix of `out` that leaves room for "..."
  while (!raw.empty()) {
    std::size_t length = Utf8SequenceLength(raw);
    unsigned char byte = static_cast<unsigned char>(raw[0]);
    if (length == 0 || (length == 1 && (byte < 0x20 || byte == 0x7f)) || (ascii && byte > 0x7e)) {
      out += {'\\', 'x', kHex[byte >> 4], kHex[byte & 0xf]};
      length = 1;
    } else {
      out += raw.substr(0, length);
    }
    raw.remove_prefix(length);
    if (out.size() + 3 <= limit) cut_at = out.size();
    if (out.size() > limit) {
      out.resize(cut_at);
      return out + "...";
    }
  }
  return out;
}

void Count(TestReport& report, Outcome outcome, std::string_view name, std::uint64_t how_many = 1) {
  report.total += how_many;
  switch (outcome) {
    case Outcome::kPassed:
      report.passed += how_many;
      return;
    case Outcome::kSkipped:
      report.skipped += how_many;
      return;
    case Outcome::kFailed:
      report.failed += how_many;
      break;
    case Outcome::kError:
      report.errors += how_many;
      break;
  }
  if (report.failing.size() < kMaxFailingNames) {
    report.failing.push_back(name.empty() ? std::string("(unnamed)") : SafeText(name));
  }
}

// Calls `line_fn(line)` for each line of `content`, without its "\n" or "\r\n"; stops early
// when it returns false.
template <typename LineFn>
void ForEachLine(std::string_view content, LineFn&& line_fn) {
  while (!content.empty()) {
    std::size_t end = content.find('\n');
    std::string_view line = content.substr(0, end);
    content.remove_prefix(end == std::string_view::npos ? content.size() : end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line_fn(line)) return;
  }
}

// ---------------------------------------------------------------------------------------------
// JUnit XML

struct JUnitState {
  XML_Parser parser = nullptr;
  std::string error;  // set once, by the first refusal
  int depth = 0;
  bool claims_tests = false;  // some testsuite(s) element has a `tests` attribute other than 0
  int testcase_depth = 0;     // depth of the open <testcase>, 0 when none is open
  bool has_failure = false, has_error = false, has_skipped = false, status_skipped = false;
  std::string testcase_name;
  std::uint64_t testcases = 0;
  TestReport report;
};

// Keeps the first refusal and stops the parser. Called from expat's callbacks: throws nothing.
void StopXml(JUnitState& state, std::string_view error) noexcept {
  if (state.error.empty()) {
    try {
      state.error = error;
    } catch (...) {
      state.error = kOutOfMemory;
    }
  }
  XML_StopParser(state.parser, XML_FALSE);
}

const char* Attribute(const XML_Char** attributes, std::string_view name) {
  for (const XML_Char** a = attributes; a[0] != nullptr; a += 2) {
    if (name == a[0]) return a[1];
  }
  return nullptr;
}

void StartElement(JUnitState& state, const XML_Char* name, const XML_Char** attributes) {
  if (!state.error.empty()) return;
  ++state.depth;
  if (state.depth > kMaxXmlDepth) {
    StopXml(state, "elements nested deeper than " + std::to_string(kMaxXmlDepth));
    return;
  }
  for (const XML_Char** a = attributes; a[0] != nullptr; a += 2) {
    if (std::strlen(a[1]) > kMaxXmlAttributeBytes) {
      StopXml(state, "attribute " + SafeText(a[0], 64, /*ascii=*/true) + " longer than " +
                         std::to_string(kMaxXmlAttributeBytes) + " bytes");
      return;
    }
  }
  std::string_view element = name;
  if (state.depth == 1 && element != "testsuites" && element != "testsuite") {
    StopXml(state, "not a JUnit report: the root element is <" +
                       SafeText(element, 64, /*ascii=*/true) +
                       ">, not <testsuites> or <testsuite>");
    return;
  }
  if (element == "testsuites" || element == "testsuite") {
    const char* tests = Attribute(attributes, "tests");
    if (tests != nullptr && TrimBlanks(tests) != "0") state.claims_tests = true;
  }
  if (element == "testcase") {
    if (state.testcase_depth != 0) {
      StopXml(state, "a <testcase> inside a <testcase>");
      return;
    }
    state.testcase_depth = state.depth;
    state.has_failure = state.has_error = state.has_skipped = false;
    const char* status = Attribute(attributes, "status");
    std::string_view status_text = status == nullptr ? "" : status;
    state.status_skipped =
        status_text == "notrun" || status_text == "disabled" || status_text == "skipped";
    const char* test_name = Attribute(attributes, "name");
    const char* class_name = Attribute(attributes, "classname");
    std::string_view test = test_name == nullptr ? "" : test_name;
    std::string_view suite = class_name == nullptr ? "" : class_name;
    // Only as much as a failing name can hold is kept.
    test = test.substr(0, kMaxTestNameBytes * 4);
    suite = suite.substr(0, kMaxTestNameBytes * 4);
    if (suite.empty() || suite == test) {
      state.testcase_name = std::string(test);
    } else {
      state.testcase_name = std::string(suite) + "." + std::string(test);
    }
    return;
  }
  if (state.testcase_depth != 0 && state.depth == state.testcase_depth + 1) {
    if (element == "failure") state.has_failure = true;
    if (element == "error") state.has_error = true;
    if (element == "skipped") state.has_skipped = true;
  }
}

void EndElement(JUnitState& state) {
  if (!state.error.empty()) return;
  if (state.depth == state.testcase_depth) {
    Outcome outcome = Outcome::kPassed;
    if (state.has_error) {
      outcome = Outcome::kError;
    } else if (state.has_failure) {
      outcome = Outcome::kFailed;
    } else if (state.has_skipped || state.status_skipped) {
      outcome = Outcome::kSkipped;
    }
    Count(state.report, outcome, state.testcase_name);
    ++state.testcases;
    state.testcase_depth = 0;
  }
  --state.depth;
}

// Expat is C: nothing may be thrown through it. The only exception possible is std::bad_alloc.
void XMLCALL OnStartElement(void* data, const XML_Char* name, const XML_Char** attributes) {
  JUnitState& state = *static_cast<JUnitState*>(data);
  try {
    StartElement(state, name, attributes);
  } catch (...) {
    StopXml(state, kOutOfMemory);
  }
}

void XMLCALL OnEndElement(void* data, const XML_Char*) {
  JUnitState& state = *static_cast<JUnitState*>(data);
  try {
    EndElement(state);
  } catch (...) {
    StopXml(state, kOutOfMemory);
  }
}

void XMLCALL OnDoctype(void* data, const XML_Char*, const XML_Char*, const XML_Char*, int) {
  StopXml(*static_cast<JUnitState*>(data), "a DOCTYPE: DTDs and entity declarations are refused");
}

void XMLCALL OnEntityDeclaration(void* data, const XML_Char*, int, const XML_Char*, int,
                                 const XML_Char*, const XML_Char*, const XML_Char*,
                                 const XML_Char*) {
  StopXml(*static_cast<JUnitState*>(data), "an entity declaration: entities are refused");
}

int XMLCALL OnExternalEntity(XML_Parser parser, const XML_Char*, const XML_Char*, const XML_Char*,
                             const XML_Char*) {
  JUnitState& state = *static_cast<JUnitState*>(XML_GetUserData(parser));
  StopXml(state, "an external entity: external resources are refused");
  return XML_STATUS_ERROR;
}

struct ParserDeleter {
  void operator()(XML_ParserStruct* parser) const { XML_ParserFree(parser); }
};

// ---------------------------------------------------------------------------------------------
// TAP

struct TapLine {
  bool ok = false;
  std::uint64_t number = 0;  // 0: none given
  std::string_view description;
  bool skip = false, todo = false;
};

// "ok" or "not ok" followed by the end of the line or a blank.
std::optional<TapLine> ParseTapTestLine(std::string_view line) {
  TapLine test;
  if (StartsWith(line, "ok")) {
    test.ok = true;
    line.remove_prefix(2);
  } else if (StartsWith(line, "not ok")) {
    line.remove_prefix(6);
  } else {
    return std::nullopt;
  }
  if (!line.empty() && !IsBlank(line.front())) return std::nullopt;
  line = TrimBlanks(line);
  std::uint64_t number = 0;
  std::string_view rest = line;
  if (TakeCount(rest, &number) && (rest.empty() || IsBlank(rest.front()))) {
    test.number = number;
    line = TrimBlanks(rest);
  }
  if (StartsWith(line, "- ") || line == "-") line = TrimBlanks(line.substr(1));
  // The directive starts at the first '#' not escaped by a backslash.
  std::size_t hash = std::string_view::npos;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\\') {
      ++i;
    } else if (line[i] == '#') {
      hash = i;
      break;
    }
  }
  test.description = TrimBlanks(line.substr(0, hash));
  if (hash != std::string_view::npos) {
    std::string_view directive = TrimBlanks(line.substr(hash + 1));
    test.skip = StartsWithIgnoringCase(directive, "skip");
    test.todo = StartsWithIgnoringCase(directive, "todo");
  }
  return test;
}

// "1..N", optionally followed by blanks and a "# comment".
std::optional<std::uint64_t> ParseTapPlan(std::string_view line, bool* too_large) {
  if (!StartsWith(line, "1..")) return std::nullopt;
  line.remove_prefix(3);
  if (line.empty() || !IsDigit(line.front())) return std::nullopt;
  std::uint64_t count = 0;
  if (!TakeCount(line, &count)) {
    *too_large = true;
    return std::nullopt;
  }
  line = TrimBlanks(line);
  if (!line.empty() && line.front() != '#') return std::nullopt;
  return count;
}

bool IsTapTestLine(std::string_view line) {
  return ParseTapTestLine(line).has_value();
}

// ---------------------------------------------------------------------------------------------
// CTest

// "N/M " at the front of `line`: removes it and gives M.
bool TakeProgress(std::string_view& line, std::uint64_t* of) {
  std::string_view rest = TrimBlanks(line);
  std::uint64_t number = 0;
  if (!TakeCount(rest, &number) || rest.empty() || rest.front() != '/') return false;
  rest.remove_prefix(1);
  if (!TakeCount(rest, of) || rest.empty() || rest.front() != ' ') return false;
  line = rest.substr(1);
  return true;
}

// A console result line, "N/M Test #K: name ....   Passed    0.00 sec": its name and outcome.
struct CTestConsoleLine {
  std::uint64_t of = 0;
  std::string_view name;
  Outcome outcome = Outcome::kPassed;
};

std::optional<CTestConsoleLine> ParseCTestConsoleLine(std::string_view line) {
  CTestConsoleLine result;
  if (!TakeProgress(line, &result.of)) return std::nullopt;
  if (!StartsWith(line, "Test")) return std::nullopt;
  line = TrimBlanks(line.substr(4));
  std::uint64_t index = 0;
  if (line.empty() || line.front() != '#') return std::nullopt;
  line.remove_prefix(1);
  if (!TakeCount(line, &index) || !StartsWith(line, ": ")) return std::nullopt;
  line.remove_prefix(2);
  std::size_t marker = line.find("***");
  std::string_view status;
  if (marker != std::string_view::npos) {
    status = line.substr(marker + 3);
    if (StartsWith(status, "Skipped") || StartsWith(status, "Not Run (Disabled)")) {
      result.outcome = Outcome::kSkipped;
    } else {
      result.outcome = Outcome::kFailed;
    }
  } else {
    marker = line.find(" Passed");
    if (marker == std::string_view::npos) return std::nullopt;
    result.outcome = Outcome::kPassed;
  }
  std::string_view name = line.substr(0, marker);
  while (!name.empty() && (name.back() == '.' || IsBlank(name.back()))) name.remove_suffix(1);
  result.name = name;
  return result;
}

// "P% tests passed, F tests failed out of N" (F may be "1 test").
bool ParseCTestSummary(std::string_view line, std::uint64_t* failed, std::uint64_t* total) {
  std::uint64_t percent = 0;
  if (!TakeCount(line, &percent) || !StartsWith(line, "% tests passed, ")) return false;
  line.remove_prefix(16);
  if (!TakeCount(line, failed)) return false;
  if (StartsWith(line, " tests failed out of ")) {
    line.remove_prefix(21);
  } else if (StartsWith(line, " test failed out of ")) {
    line.remove_prefix(20);
  } else {
    return false;
  }
  return TakeCount(line, total) && TrimBlanks(line).empty();
}

// "N/M Test: name" of LastTest.log.
bool ParseLastTestHeader(std::string_view line, std::uint64_t* of, std::string_view* name) {
  if (!TakeProgress(line, of) || !StartsWith(line, "Test: ")) return false;
  *name = line.substr(6);
  return true;
}

bool LooksLikeCTest(std::string_view content) {
  bool found = false;
  ForEachLine(content, [&](std::string_view line) {
    std::uint64_t a = 0, b = 0;
    std::string_view name;
    found = StartsWith(line, "Start testing: ") || ParseCTestConsoleLine(line).has_value() ||
            ParseLastTestHeader(line, &a, &name) || ParseCTestSummary(line, &a, &b);
    return !found;
  });
  return found;
}

bool LooksLikeTap(std::string_view content) {
  bool found = false;
  ForEachLine(content, [&](std::string_view line) {
    bool too_large = false;
    found = StartsWith(line, "TAP version ") || IsTapTestLine(line) ||
            ParseTapPlan(line, &too_large).has_value() || too_large;
    return !found;
  });
  return found;
}

TestReportParse ParseLastTestLog(std::string_view content) {
  TestReport report;
  report.format = "ctest";
  std::uint64_t planned = 0;
  std::uint64_t blocks = 0;
  bool in_block = false, in_output = false, command_empty = false, pass_reason = false;
  bool unable_before_block = false, unable_since_last_block = false;
  std::string name;
  auto finish = [&](Outcome outcome) {
    Count(report, outcome, name);
    ++blocks;
    in_block = in_output = command_empty = pass_reason = false;
    unable_since_last_block = false;
  };
  ForEachLine(content, [&](std::string_view line) {
    if (in_output) {
      // The test's own output: anything may be in it, nothing of it is read.
      if (EndsWith(line, "<end of output>")) in_output = false;
      return true;
    }
    if (pass_reason) {
      finish(StartsWith(line, "Skip regular expression found") ? Outcome::kSkipped
                                                               : Outcome::kPassed);
      return true;
    }
    std::uint64_t of = 0;
    std::string_view header_name;
    if (ParseLastTestHeader(line, &of, &header_name)) {
      if (in_block) {
        Count(report, Outcome::kError, name + " (its log entry is cut short)");
        ++blocks;
      }
      planned = std::max(planned, of);
      in_block = true;
      command_empty = false;
      unable_before_block = unable_since_last_block;
      name = std::string(header_name.substr(0, kMaxTestNameBytes * 4));
      return true;
    }
    if (StartsWith(line, "Unable to find executable:")) {
      unable_since_last_block = true;
      return true;
    }
    if (!in_block) return true;
    if (line == "Command: \"\"") {
      command_empty = true;
    } else if (line == "Output:") {
      in_output = true;
    } else if (line == "Test Passed.") {
      if (!command_empty) {
        finish(Outcome::kPassed);
      } else {
        finish(unable_before_block ? Outcome::kFailed : Outcome::kSkipped);
      }
    } else if (line == "Test Failed.") {
      finish(Outcome::kFailed);
    } else if (line == "Test Pass Reason:") {
      pass_reason = true;
    } else if (line == "Test Fail Reason:") {
      finish(Outcome::kFailed);
    }
    return true;
  });
  if (in_block || pass_reason) {
    Count(report, Outcome::kError, name + " (the log ends inside its entry)");
    ++blocks;
  }
  if (blocks == 0) return Refuse("no test entry (\"N/M Test: name\") in the ctest log");
  if (blocks < planned) {
    Count(report, Outcome::kError,
          std::to_string(planned - blocks) + " of " + std::to_string(planned) +
              " tests missing from the ctest log",
          planned - blocks);
  }
  return {std::move(report), ""};
}

TestReportParse ParseCTestConsole(std::string_view content) {
  TestReport report;
  report.format = "ctest";
  std::uint64_t planned = 0, lines = 0;
  std::optional<std::pair<std::uint64_t, std::uint64_t>> summary;  // failed, total
  std::vector<std::string> failed_list;
  bool in_failed_list = false;
  ForEachLine(content, [&](std::string_view line) {
    if (auto result = ParseCTestConsoleLine(line)) {
      Count(report, result->outcome, result->name);
      planned = std::max(planned, result->of);
      ++lines;
      return true;
    }
    std::uint64_t failed = 0, total = 0;
    if (ParseCTestSummary(line, &failed, &total)) {
      summary = {failed, total};
      return true;
    }
    if (line == "The following tests FAILED:") {
      in_failed_list = true;
      return true;
    }
    if (in_failed_list) {
      // "\t  2 - fail_one (Failed)"
      std::string_view entry = TrimBlanks(line);
      std::uint64_t index = 0;
      if (!TakeCount(entry, &index) || !StartsWith(entry, " - ")) {
        in_failed_list = false;
        return true;
      }
      entry.remove_prefix(3);
      std::size_t paren = entry.rfind(" (");
      if (failed_list.size() < kMaxFailingNames) {
        failed_list.push_back(SafeText(entry.substr(0, paren)));
      }
    }
    return true;
  });
  if (lines == 0) {
    if (!summary) return Refuse("no ctest result line (\"N/M Test #K: name ... Passed\")");
    auto [failed, total] = *summary;
    if (failed > total) return Refuse("the ctest summary has more failed tests than tests");
    report.total = total;
    report.failed = failed;
    report.passed = total - failed;
    if (failed > 0) report.failing = std::move(failed_list);
    if (failed > 0 && report.failing.empty()) {
      report.failing.push_back(std::to_string(failed) + " failed tests, not named in the output");
    }
    return {std::move(report), ""};
  }
  if (lines < planned) {
    Count(report, Outcome::kError,
          std::to_string(planned - lines) + " of " + std::to_string(planned) +
              " tests without a result line",
          planned - lines);
  }
  return {std::move(report), ""};
}

std::string_view BaseName(std::string_view path) {
  std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

TestReportParse ParseJUnitXmlUnguarded(std::string_view content) {
  std::unique_ptr<XML_ParserStruct, ParserDeleter> parser(XML_ParserCreate(nullptr));
  if (!parser) return Refuse("cannot create an XML parser");
  JUnitState state;
  state.parser = parser.get();
  state.report.format = "junit";
  XML_SetUserData(parser.get(), &state);
  XML_SetElementHandler(parser.get(), OnStartElement, OnEndElement);
  XML_SetStartDoctypeDeclHandler(parser.get(), OnDoctype);
  XML_SetEntityDeclHandler(parser.get(), OnEntityDeclaration);
  XML_SetExternalEntityRefHandler(parser.get(), OnExternalEntity);
  XML_SetParamEntityParsing(parser.get(), XML_PARAM_ENTITY_PARSING_NEVER);
  // Expat salts its hash tables from getrandom(2) by itself (since 2.1), so no XML_SetHashSalt:
  // a report full of colliding attribute names cannot make it quadratic.

  std::string_view rest = content;
  bool final_chunk = false;
  while (!final_chunk) {
    std::string_view chunk = rest.substr(0, kXmlChunkBytes);
    rest.remove_prefix(chunk.size());
    final_chunk = rest.empty();
    if (XML_Parse(parser.get(), chunk.data(), static_cast<int>(chunk.size()),
                  final_chunk ? XML_TRUE : XML_FALSE) != XML_STATUS_OK) {
      if (!state.error.empty()) return Refuse(state.error);
      return Refuse("not well-formed XML at line " +
                    std::to_string(XML_GetCurrentLineNumber(parser.get())) + ": " +
                    XML_ErrorString(XML_GetErrorCode(parser.get())));
    }
  }
  if (!state.error.empty()) return Refuse(state.error);
  if (state.testcases == 0 && state.claims_tests) {
    return Refuse(
        "the report's tests attribute claims tests but it holds no <testcase> element: counts "
        "that cannot be checked are not taken");
  }
  return {std::move(state.report), ""};
}

TestReportParse ParseTapUnguarded(std::string_view content) {
  TestReport report;
  report.format = "tap";
  std::optional<std::uint64_t> plan;
  bool second_plan = false, plan_too_large = false, bailed_out = false;
  std::string bail_reason;
  std::uint64_t seen = 0;
  ForEachLine(content, [&](std::string_view line) {
    if (line.empty() || IsBlank(line.front())) return true;  // subtests, YAML, blank lines
    if (StartsWithIgnoringCase(line, "Bail out!")) {
      bailed_out = true;
      bail_reason = TrimBlanks(line.substr(9).substr(0, kMaxTestNameBytes * 4));
      return false;
    }
    if (auto test = ParseTapTestLine(line)) {
      ++seen;
      Outcome outcome = Outcome::kPassed;
      if (test->ok) {
        outcome = test->skip ? Outcome::kSkipped : Outcome::kPassed;
      } else {
        outcome = test->todo ? Outcome::kSkipped : Outcome::kFailed;
      }
      std::string name(test->description.substr(0, kMaxTestNameBytes * 4));
      if (name.empty()) name = "test " + std::to_string(test->number ? test->number : seen);
      Count(report, outcome, name);
      return true;
    }
    if (auto count = ParseTapPlan(line, &plan_too_large)) {
      if (plan) {
        second_plan = true;
      } else {
        plan = *count;
      }
      return true;
    }
    return !plan_too_large;
  });
  if (plan_too_large) {
    return Refuse("a TAP plan of more than " + std::to_string(kMaxCount) + " tests");
  }
  if (!plan && seen == 0 && !bailed_out) return Refuse("no TAP plan and no test line");
  if (bailed_out) {
    std::string name = "Bail out!";
    if (!bail_reason.empty()) name += " " + bail_reason;
    std::uint64_t missing = plan && *plan > seen ? *plan - seen : 1;
    Count(report, Outcome::kError, name, missing);
  } else if (!plan) {
    Count(report, Outcome::kError, "no TAP plan: the run may have stopped early");
  } else if (seen < *plan) {
    Count(report, Outcome::kFailed,
          std::to_string(*plan - seen) + " planned tests did not run (plan 1.." +
              std::to_string(*plan) + ", " + std::to_string(seen) + " ran)",
          *plan - seen);
  } else if (seen > *plan) {
    Count(report, Outcome::kError,
          std::to_string(seen) + " tests ran but the plan is 1.." + std::to_string(*plan));
  }
  if (second_plan) Count(report, Outcome::kError, "a second TAP plan");
  return {std::move(report), ""};
}

TestReportParse ParseCTestOutputUnguarded(std::string_view content) {
  bool is_log = false;
  ForEachLine(content, [&](std::string_view line) {
    std::uint64_t of = 0;
    std::string_view name;
    is_log = ParseLastTestHeader(line, &of, &name);
    return !is_log && !ParseCTestConsoleLine(line).has_value();
  });
  return is_log ? ParseLastTestLog(content) : ParseCTestConsole(content);
}

TestReportParse DetectAndParse(std::string_view content, std::string_view file_name) {
  std::string_view name = BaseName(file_name);
  std::string_view body = content;
  if (StartsWith(body, kUtf8Bom)) body.remove_prefix(kUtf8Bom.size());
  std::size_t first = body.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return Refuse("not a test report: the file is empty");
  if (body[first] == '<') return ParseJUnitXmlUnguarded(content);
  if (name == "LastTest.log" || (StartsWith(name, "LastTest_") && EndsWith(name, ".log"))) {
    return ParseCTestOutputUnguarded(content);
  }
  if (EndsWith(name, ".tap")) return ParseTapUnguarded(content);
  if (EndsWith(name, ".xml")) return ParseJUnitXmlUnguarded(content);
  if (LooksLikeCTest(content)) return ParseCTestOutputUnguarded(content);
  if (LooksLikeTap(content)) return ParseTapUnguarded(content);
  return Refuse(
      "not a test report: neither JUnit XML, nor TAP (a plan or an ok / not ok line), nor "
      "ctest output (result lines or LastTest.log entries)");
}

template <typename ParseFn>
TestReportParse Guarded(ParseFn&& parse) {
  try {
    return parse();
  } catch (...) {
    return {std::nullopt, kOutOfMemory};
  }
}

}  // namespace

TestReportParse ParseJUnitXml(std::string_view content) {
  return Guarded([&] { return ParseJUnitXmlUnguarded(content); });
}

TestReportParse ParseTap(std::string_view content) {
  return Guarded([&] { return ParseTapUnguarded(content); });
}

TestReportParse ParseCTestOutput(std::string_view content) {
  return Guarded([&] { return ParseCTestOutputUnguarded(content); });
}

TestReportParse ParseTestReport(std::string_view content, std::string_view file_name) {
  return Guarded([&] { return DetectAndParse(content, file_name); });
}

}  // namespace tollgate::governance
