// The record parser and the streaming reader of audit logs.
#include "supervisor/audit/reader.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/unit/audit_test_log.h"

namespace tollgate::audit {
namespace {

using testing::TestLog;

std::string SealedLine(Json record) {
  std::string line = SealRecord(&record);
  line.pop_back();
  return line;
}

Json ValidRecord() {
  return {{"seq", 7},
          {"time", "2026-11-27T05:29:30.089043123Z"},
          {"run", "run-1"},
          {"task", "fix the flaky test"},
          {"profile", "workspace-write"},
          {"kind", "syscall.denied"},
          {"verdict", "deny"},
          {"rule", "syscalls.deny.ptrace"},
          {"reason", "ptrace is in the @debug group"},
          {"process", {{"pid", 42}, {"ppid", 1}, {"comm", "gdb"}, {"exe", "/usr/bin/gdb"}}},
          {"details", {{"syscall", "ptrace"}, {"nr", 101}, {"errno", "EPERM"}}},
          {"prev", std::string(64, 'a')}};
}

TEST(AuditParse, ReadsEveryFieldTyped) {
  Json record = ValidRecord();
  record["escaped"] = {"details.argv.1"};
  record["truncated"] = {{"details.path", 9000}};
  record["future_field"] = {{"x", 1}};
  std::string line = SealedLine(record);
  ParseResult result = ParseRecordLine(line);
  ASSERT_TRUE(result.record) << result.error;
  const ParsedRecord& parsed = *result.record;
  EXPECT_EQ(parsed.seq, 7u);
  EXPECT_EQ(parsed.time_ns, *ParseTime("2026-11-27T05:29:30.089043123Z"));
  EXPECT_EQ(parsed.run, "run-1");
  EXPECT_EQ(parsed.task, "fix the flaky test");
  EXPECT_EQ(parsed.kind, "syscall.denied");
  EXPECT_EQ(parsed.verdict, Verdict::kDeny);
  EXPECT_EQ(parsed.rule, "syscalls.deny.ptrace");
  ASSERT_TRUE(parsed.process);
  EXPECT_EQ(parsed.process->pid, 42);
  EXPECT_EQ(parsed.process->exe, "/usr/bin/gdb");
  EXPECT_EQ(parsed.details["nr"], 101);
  EXPECT_EQ(parsed.escaped, Json::array({"details.argv.1"}));
  EXPECT_EQ(parsed.truncated["details.path"], 9000);
  EXPECT_EQ(parsed.prev, std::string(64, 'a'));
  EXPECT_EQ(parsed.hash.size(), 64u);
  EXPECT_EQ(parsed.extra, Json({{"future_field", {{"x", 1}}}})) << "unknown fields are kept";
}

TEST(AuditParse, OptionalFieldsMayBeAbsent) {
  Json record = ValidRecord();
  record.erase("task");
  record.erase("process");
  record.erase("rule");
  ParseResult result = ParseRecordLine(SealedLine(record));
  ASSERT_TRUE(result.record) << result.error;
  EXPECT_FALSE(result.record->task);
  EXPECT_FALSE(result.record->process);
  EXPECT_EQ(result.record->rule, "");
}

TEST(AuditParse, RefusesWhatIsNotARecord) {
  struct Case {
    const char* name;
    std::function<void(Json*)> change;
    const char* error;
  };
  const Case cases[] = {
      {"no seq", [](Json* r) { r->erase("seq"); }, "\"seq\" is missing"},
      {"seq 0", [](Json* r) { (*r)["seq"] = 0; }, "\"seq\" is not a positive integer"},
      {"negative seq", [](Json* r) { (*r)["seq"] = -3; }, "\"seq\" is not a positive integer"},
      {"seq as text", [](Json* r) { (*r)["seq"] = "7"; }, "\"seq\" is not a positive integer"},
      {"float", [](Json* r) { (*r)["details"]["nr"] = 1.5; }, "not an integer"},
      {"bad time", [](Json* r) { (*r)["time"] = "2026-11-27T05:29:30Z"; }, "\"time\""},
      {"year 9999", [](Json* r) { (*r)["time"] = "9999-11-27T05:29:30.089043123Z"; },
       "out of range"},
      {"no run", [](Json* r) { r->erase("run"); }, "\"run\" is missing"},
      {"empty kind", [](Json* r) { (*r)["kind"] = ""; }, "\"kind\" is empty"},
      {"bad verdict", [](Json* r) { (*r)["verdict"] = "maybe"; }, "\"verdict\""},
      {"rule number", [](Json* r) { (*r)["rule"] = 3; }, "\"rule\" is not a string"},
      {"details array", [](Json* r) { (*r)["details"] = Json::array(); }, "\"details\""},
      {"pid text", [](Json* r) { (*r)["process"]["pid"] = "42"; }, "process.pid"},
      {"no ppid", [](Json* r) { (*r)["process"].erase("ppid"); }, "process.ppid"},
      {"short prev", [](Json* r) { (*r)["prev"] = "abc"; }, "\"prev\""},
      {"upper-case prev", [](Json* r) { (*r)["prev"] = std::string(64, 'A'); }, "\"prev\""},
      {"escaped not list", [](Json* r) { (*r)["escaped"] = "x"; }, "\"escaped\""},
  };
  for (const Case& c : cases) {
    Json record = ValidRecord();
    c.change(&record);
    ParseResult result = ParseRecordLine(SealedLine(record));
    EXPECT_FALSE(result.record) << c.name;
    EXPECT_NE(result.error.find(c.error), std::string::npos) << c.name << ": " << result.error;
  }
  EXPECT_FALSE(ParseRecordLine("").record);
  EXPECT_FALSE(ParseRecordLine("[1,2]").record);
  EXPECT_FALSE(ParseRecordLine("{\"seq\":1").record);
  EXPECT_NE(ParseRecordLine("{\"seq\":1").error.find("not valid JSON"), std::string::npos);
  EXPECT_FALSE(ParseRecordLine("{\"a\":\"\xff\"}").record) << "invalid UTF-8";
  // A number too large even for a double: nlohmann throws out_of_range, not parse_error.
  EXPECT_NE(ParseRecordLine("{\"details\":82e116998}").error.find("not valid JSON"),
            std::string::npos);
}

TEST(AuditParse, RefusesDeepNestingBeforeParsing) {
  std::string deep = "{\"a\":" + std::string(5000, '[') + std::string(5000, ']') + "}";
  ParseResult result = ParseRecordLine(deep);
  EXPECT_FALSE(result.record);
  EXPECT_NE(result.error.find("nested deeper"), std::string::npos);
  // Brackets inside strings do not count.
  Json record = ValidRecord();
  record["details"]["argv"] = {std::string(100, '[')};
  EXPECT_TRUE(ParseRecordLine(SealedLine(record)).record);
}

TEST(AuditParse, RefusesAnOverLongLine) {
  ParseResult result = ParseRecordLine(std::string(kMaxRecordBytes + 1, ' '));
  EXPECT_FALSE(result.record);
  EXPECT_NE(result.error.find("longer than"), std::string::npos);
}

TEST(AuditLineReader, SplitsLinesAndBoundsTheirLength) {
  std::string text = "one\n" + std::string(kMaxRecordBytes + 10, 'x') + "\nthree\nfour";
  LineReader lines{std::string_view(text)};
  std::string line;
  bool too_long = false;
  ASSERT_EQ(lines.Next(&line, &too_long), LineReader::Status::kLine);
  EXPECT_EQ(line, "one");
  EXPECT_FALSE(too_long);
  ASSERT_EQ(lines.Next(&line, &too_long), LineReader::Status::kLine);
  EXPECT_TRUE(too_long);
  EXPECT_LT(line.size(), 1024u) << "an over-long line is not kept whole";
  ASSERT_EQ(lines.Next(&line, &too_long), LineReader::Status::kLine);
  EXPECT_EQ(line, "three");
  EXPECT_FALSE(too_long);
  EXPECT_EQ(lines.Next(&line, &too_long), LineReader::Status::kEnd);
  ASSERT_TRUE(lines.TakePending(&line, &too_long));
  EXPECT_EQ(line, "four");
  EXPECT_FALSE(lines.TakePending(&line, &too_long));
}

TEST(AuditLogReader, ReadsRotatedFilesInChainOrder) {
  TestLog log;
  for (int file = 0; file < 3; ++file) {
    for (int i = 0; i < 3; ++i) log.Add("exec");
    log.Rotate();
  }
  std::ofstream(log.Path("audit.lock"));        // not a log file
  std::ofstream(log.Path("notes.txt")) << "x";  // neither
  std::string error;
  auto reader = LogReader::Open(log.dir(), &error);
  ASSERT_NE(reader, nullptr) << error;
  EXPECT_EQ(reader->files().size(), 3u);
  LogLine line;
  std::uint64_t expected_seq = 1;
  while (reader->Next(&line)) {
    ParseResult parsed = ParseRecordLine(line.text);
    ASSERT_TRUE(parsed.record) << parsed.error;
    EXPECT_EQ(parsed.record->seq, expected_seq);
    EXPECT_EQ(line.line_number, (expected_seq - 1) % 3 + 1);
    EXPECT_EQ(line.file, log.Files().at((expected_seq - 1) / 3));
    ++expected_seq;
  }
  EXPECT_EQ(expected_seq, 10u);
  EXPECT_TRUE(reader->error().empty());
}

TEST(AuditLogReader, ATornLastLineIsReturnedAsIncomplete) {
  TestLog log;
  log.Add("exec");
  std::string name = log.Files().at(0);
  std::ofstream(log.Path(name), std::ios::app) << "{\"seq\":2,\"ti";
  std::string error;
  auto reader = LogReader::Open(log.dir(), &error);
  LogLine line;
  ASSERT_TRUE(reader->Next(&line));
  EXPECT_TRUE(line.complete);
  ASSERT_TRUE(reader->Next(&line));
  EXPECT_FALSE(line.complete);
  EXPECT_EQ(line.text, "{\"seq\":2,\"ti");
  EXPECT_FALSE(reader->Next(&line));
}

TEST(AuditLogReader, OpensASingleFileAndRefusesWhatIsMissing) {
  TestLog log;
  log.Add("exec");
  std::string error;
  auto reader = LogReader::Open(log.Path(log.Files().at(0)), &error);
  ASSERT_NE(reader, nullptr) << error;
  EXPECT_TRUE(reader->single_file());
  LogLine line;
  EXPECT_TRUE(reader->Next(&line));
  EXPECT_EQ(line.file, log.Path(log.Files().at(0)));
  EXPECT_EQ(LogReader::Open("/nonexistent/audit", &error), nullptr);
  EXPECT_NE(error.find("/nonexistent/audit"), std::string::npos);
}

std::atomic<bool> g_keep_following{true};

TEST(AuditLogReader, FollowSeesNewRecordsAndRotation) {
  TestLog log;
  log.Add("exec");
  std::string error;
  auto reader = LogReader::Open(log.dir(), &error);
  ASSERT_NE(reader, nullptr);
  g_keep_following = true;
  reader->set_follow(true, [] { return g_keep_following.load(); });
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    log.Add("exec");
    log.Rotate();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    log.Add("exec");
    log.Add("run.end");
  });
  std::vector<std::uint64_t> seqs;
  LogLine line;
  while (seqs.size() < 4 && reader->Next(&line)) {
    ParseResult parsed = ParseRecordLine(line.text);
    ASSERT_TRUE(parsed.record) << line.text;
    seqs.push_back(parsed.record->seq);
  }
  g_keep_following = false;
  writer.join();
  EXPECT_EQ(seqs, (std::vector<std::uint64_t>{1, 2, 3, 4}));
  EXPECT_FALSE(reader->Next(&line)) << "stops when told to";
}

TEST(AuditLogReader, ReadsManyRecordsOneLineAtATime) {
  // 20,000 records through the reader; the reader holds one line, whatever the log's size.
  TestLog log;
  std::string content;
  for (int i = 0; i < 20000; ++i) log.Add("exec", Verdict::kAllow, {{"path", "/bin/true"}});
  std::string error;
  auto reader = LogReader::Open(log.dir(), &error);
  LogLine line;
  std::uint64_t count = 0;
  while (reader->Next(&line)) count += ParseRecordLine(line.text).record ? 1 : 0;
  EXPECT_EQ(count, 20000u);
}

}  // namespace
}  // namespace tollgate::audit
