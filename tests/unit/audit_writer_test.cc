// AuditWriter: the chain, rotation, concurrent writers, torn-tail recovery and write failures.
#include "supervisor/audit/writer.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "supervisor/audit/log_files.h"

namespace tollgate::audit {
namespace {

namespace fs = std::filesystem;

class AuditWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char name[] = "/tmp/tollgate-audit-test-XXXXXX";
    ASSERT_NE(mkdtemp(name), nullptr);
    root_ = name;
    dir_ = root_ + "/log";
  }
  void TearDown() override { fs::remove_all(root_); }

  WriterOptions Options() {
    WriterOptions options;
    options.directory = dir_;
    options.sync = SyncMode::kNone;
    options.run = "run-1";
    options.profile = "test";
    return options;
  }
  std::unique_ptr<AuditWriter> OpenWriter(const WriterOptions& options) {
    std::string error;
    auto writer = AuditWriter::Open(options, &error);
    EXPECT_NE(writer, nullptr) << error;
    return writer;
  }
  static Event Exec(const std::string& path) {
    Event event;
    event.kind = "exec";
    event.verdict = Verdict::kAllow;
    event.details["path"] = event.strings.String(path, "details.path");
    return event;
  }
  // Every record of the log in chain order, each checked against its hash and its predecessor.
  std::vector<Json> ReadChain() {
    std::vector<Json> records;
    std::string error;
    std::string prev(kGenesisHash);
    for (const LogFile& file : ListLogFiles(dir_, &error)) {
      std::ifstream in(dir_ + "/" + file.name);
      std::string line;
      bool first = true;
      while (std::getline(in, line)) {
        Json record = Json::parse(line);
        Json copy = record;
        EXPECT_EQ(Canonical(copy) + "\n", SealRecord(&copy)) << "not canonical: " << line;
        EXPECT_EQ(record["prev"], prev) << file.name << ": chain broken at " << line;
        if (first) {
          EXPECT_EQ(record["seq"].get<std::uint64_t>(), file.first_seq) << file.name;
        }
        first = false;
        prev = record["hash"];
        records.push_back(record);
      }
    }
    EXPECT_TRUE(error.empty()) << error;
    for (std::size_t i = 0; i < records.size(); ++i)
      EXPECT_EQ(records[i]["seq"].get<std::uint64_t>(), i + 1);
    return records;
  }

  std::string root_, dir_;
};

TEST_F(AuditWriterTest, WritesAChainOfCanonicalRecordsWithTheRunsFields) {
  auto writer = OpenWriter(Options());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(writer->Append(Exec("/bin/true")));
  ASSERT_TRUE(writer->Close());
  std::vector<Json> records = ReadChain();
  ASSERT_EQ(records.size(), 5u);
  EXPECT_EQ(records[0]["prev"], std::string(kGenesisHash));
  EXPECT_EQ(records[0]["run"], "run-1");
  EXPECT_EQ(records[0]["profile"], "test");
  EXPECT_EQ(records[0]["kind"], "exec");
  EXPECT_EQ(records[0]["verdict"], "allow");
  EXPECT_EQ(records[0]["details"]["path"], "/bin/true");
  EXPECT_TRUE(ParseTime(records[0]["time"].get<std::string>()).has_value());
  EXPECT_FALSE(records[0].contains("task"));
}

TEST_F(AuditWriterTest, DirectoryAndFilesAreTheSupervisorsAlone) {
  auto writer = OpenWriter(Options());
  ASSERT_TRUE(writer->Append(Exec("/bin/true")));
  struct stat st {};
  ASSERT_EQ(stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(stat(writer->current_file().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(AuditWriterTest, RefusesADirectoryOthersCanWrite) {
  fs::create_directories(dir_);
  chmod(dir_.c_str(), 0777);
  std::string error;
  EXPECT_EQ(AuditWriter::Open(Options(), &error), nullptr);
  EXPECT_NE(error.find("writable by other users"), std::string::npos) << error;
}

TEST_F(AuditWriterTest, RefusesARelativeOrUncreatableDirectory) {
  std::string error;
  WriterOptions options = Options();
  options.directory = "relative/log";
  EXPECT_EQ(AuditWriter::Open(options, &error), nullptr);
  EXPECT_NE(error.find("absolute"), std::string::npos) << error;
  options.directory = "/proc/tollgate-no-such/log";
  EXPECT_EQ(AuditWriter::Open(options, &error), nullptr);
  EXPECT_NE(error.find("cannot create the audit log directory /proc/tollgate-no-such"),
            std::string::npos)
      << error;
}

TEST_F(AuditWriterTest, RotatesBySizeAndTheChainContinuesAcrossFiles) {
  WriterOptions options = Options();
  options.rotate_bytes = 1500;  // a few records per file
  auto writer = OpenWriter(options);
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(writer->Append(Exec("/usr/bin/make")));
  ASSERT_TRUE(writer->Close());
  std::string error;
  std::vector<LogFile> files = ListLogFiles(dir_, &error);
  ASSERT_GT(files.size(), 3u);
  for (std::size_t i = 0; i < files.size(); ++i) {
    struct stat st {};
    ASSERT_EQ(stat((dir_ + "/" + files[i].name).c_str(), &st), 0);
    EXPECT_LE(st.st_size, 1500) << files[i].name;
    EXPECT_EQ(st.st_mode & 0777, i + 1 == files.size() ? 0600u : 0400u) << files[i].name;
  }
  EXPECT_EQ(ReadChain().size(), 30u);  // checks prev across every file boundary
}

TEST_F(AuditWriterTest, RotatesWhenTheUtcDayChanges) {
  std::int64_t now = 1'795'737'599'000'000'000;  // 2026-11-26T23:59:59Z
  WriterOptions options = Options();
  options.clock = [&] { return now; };
  auto writer = OpenWriter(options);
  ASSERT_TRUE(writer->Append(Exec("/bin/a")));
  ASSERT_TRUE(writer->Append(Exec("/bin/b")));
  now += 2'000'000'000;  // 2026-11-27T00:00:01Z
  ASSERT_TRUE(writer->Append(Exec("/bin/c")));
  ASSERT_TRUE(writer->Close());
  std::string error;
  std::vector<LogFile> files = ListLogFiles(dir_, &error);
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].name, "audit-000000000001-20261126.jsonl");
  EXPECT_EQ(files[1].name, "audit-000000000003-20261127.jsonl");
  EXPECT_EQ(ReadChain().size(), 3u);
}

TEST_F(AuditWriterTest, AWriterOpenedLaterContinuesTheChain) {
  {
    auto first = OpenWriter(Options());
    ASSERT_TRUE(first->Append(Exec("/bin/a")));
    ASSERT_TRUE(first->Append(Exec("/bin/b")));
  }
  auto second = OpenWriter(Options());
  EXPECT_EQ(second->last_seq(), 2u);
  ASSERT_TRUE(second->Append(Exec("/bin/c")));
  EXPECT_EQ(ReadChain().size(), 3u);
}

TEST_F(AuditWriterTest, ConcurrentWritersShareOneChain) {
  WriterOptions options = Options();
  options.rotate_bytes = 20'000;
  constexpr int kWriters = 4, kRecords = 300;
  std::vector<pid_t> children;
  fs::create_directories(dir_);
  chmod(dir_.c_str(), 0700);
  for (int w = 0; w < kWriters; ++w) {
    pid_t child = fork();
    if (child == 0) {
      options.run = "run-" + std::to_string(w);
      std::string error;
      auto writer = AuditWriter::Open(options, &error);
      if (!writer) _exit(2);
      for (int i = 0; i < kRecords; ++i)
        if (!writer->Append(Exec("/bin/w" + std::to_string(w)))) {
          fprintf(stderr, "writer %d: %s\n", w, writer->failure().c_str());
          _exit(3);
        }
      _exit(writer->Close() ? 0 : 4);
    }
    children.push_back(child);
  }
  for (pid_t child : children) {
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }
  std::vector<Json> records = ReadChain();  // one unbroken chain, seq 1..N
  EXPECT_EQ(records.size(), static_cast<std::size_t>(kWriters * kRecords));
}

TEST_F(AuditWriterTest, ATornLastLineIsKeptAsideAndRecorded) {
  std::string file;
  {
    auto writer = OpenWriter(Options());
    ASSERT_TRUE(writer->Append(Exec("/bin/a")));
    ASSERT_TRUE(writer->Append(Exec("/bin/b")));
    file = writer->current_file();
  }
  const std::string torn = R"({"details":{"path":"/bin/c"},"kind":"ex)";
  {
    std::ofstream out(file, std::ios::app);
    out << torn;
  }
  auto writer = OpenWriter(Options());
  ASSERT_TRUE(writer->Append(Exec("/bin/d")));
  ASSERT_TRUE(writer->Close());
  std::vector<Json> records = ReadChain();
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[2]["kind"], "log.recovered");
  EXPECT_EQ(records[2]["details"]["bytes"], torn.size());
  EXPECT_EQ(records[2]["details"]["sha256"], Sha256Hex(torn));
  std::string kept = dir_ + "/" + records[2]["details"]["kept_as"].get<std::string>();
  std::ifstream in(kept);
  std::stringstream content;
  content << in.rdbuf();
  EXPECT_EQ(content.str(), torn);
  EXPECT_EQ(records[3]["details"]["path"], "/bin/d");
}

TEST_F(AuditWriterTest, ALastLineThatIsNoRecordStopsTheWriter) {
  {
    auto writer = OpenWriter(Options());
    ASSERT_TRUE(writer->Append(Exec("/bin/a")));
    std::ofstream out(writer->current_file(), std::ios::app);
    out << "not a record\n";
  }
  std::string error;
  EXPECT_EQ(AuditWriter::Open(Options(), &error), nullptr);
  EXPECT_NE(error.find("not an audit record"), std::string::npos) << error;
  EXPECT_NE(error.find("tollgate audit verify"), std::string::npos) << error;
}

TEST_F(AuditWriterTest, ARemovedLogFailsTheNextAppendAndEveryOneAfter) {
  auto writer = OpenWriter(Options());
  ASSERT_TRUE(writer->Append(Exec("/bin/a")));
  fs::remove_all(dir_);
  EXPECT_FALSE(writer->Append(Exec("/bin/b")));
  EXPECT_NE(writer->failure().find("was removed"), std::string::npos) << writer->failure();
  EXPECT_FALSE(writer->Append(Exec("/bin/c")));
}

TEST_F(AuditWriterTest, AShortWriteIsCutOffAndFailsTheAppend) {
  // RLIMIT_FSIZE makes write(2) stop at the limit: the record is written in part, as on a full
  // disk. The writer must leave the file ending on a whole record. In a child: the limit is
  // process-wide.
  auto writer = OpenWriter(Options());
  ASSERT_TRUE(writer->Append(Exec("/bin/a")));
  std::string file = writer->current_file();
  struct stat st {};
  ASSERT_EQ(stat(file.c_str(), &st), 0);
  pid_t child = fork();
  if (child == 0) {
    signal(SIGXFSZ, SIG_IGN);
    rlimit limit{static_cast<rlim_t>(st.st_size + 40), static_cast<rlim_t>(st.st_size + 40)};
    setrlimit(RLIMIT_FSIZE, &limit);
    bool appended = writer->Append(Exec("/bin/" + std::string(200, 'x')));
    bool still_failed = !writer->Append(Exec("/bin/c"));
    _exit(!appended && still_failed ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_EQ(stat(file.c_str(), &st), 0);
  EXPECT_EQ(ReadChain().size(), 1u) << "a partial record was left behind";
}

TEST_F(AuditWriterTest, HostileStringsStayInOneLineAndAreListed) {
  auto writer = OpenWriter(Options());
  Event event = Exec(std::string("/tmp/a\nb\x1b[2J\xff", 13));
  event.reason = "reason with \"quotes\"\n";
  ASSERT_TRUE(writer->Append(event));
  std::vector<Json> records = ReadChain();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0]["escaped"], Json::array({"details.path"}));
  EXPECT_EQ(records[0]["reason"], "reason with \"quotes\"\n");
}

TEST_F(AuditWriterTest, AnOversizedRecordKeepsItsEnvelopeAndDropsItsDetails) {
  auto writer = OpenWriter(Options());
  Event event = Exec("/bin/x");
  std::vector<std::string> argv(200, std::string(kMaxStringBytes, 'a'));
  event.details["argv"] = event.strings.StringArray(argv, "details.argv");
  ASSERT_TRUE(writer->Append(event));
  std::vector<Json> records = ReadChain();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_TRUE(records[0]["details"].empty());
  EXPECT_GT(records[0]["truncated"]["details"].get<std::uint64_t>(), kMaxRecordBytes);
}

TEST_F(AuditWriterTest, BatchAndEveryModesWriteTheSameChain) {
  for (SyncMode mode : {SyncMode::kBatch, SyncMode::kEvery}) {
    WriterOptions options = Options();
    options.sync = mode;
    auto writer = OpenWriter(options);
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(writer->Append(Exec("/bin/true")));
    EXPECT_TRUE(writer->Close()) << writer->failure();
  }
  EXPECT_EQ(ReadChain().size(), 100u);
}

}  // namespace
}  // namespace tollgate::audit

namespace tollgate::audit {
namespace {

TEST_F(AuditWriterTest, TheWritersFastEncodingIsTheCanonicalRecord) {
  auto writer = OpenWriter([&] {
    WriterOptions options = Options();
    options.task = "task-7";
    return options;
  }());
  Event full = Exec(std::string("/bin/\xff", 6));
  full.rule = "rule";
  full.reason = std::string(kMaxStringBytes + 1, 'r');
  full.process = ProcessInfo{3, 1, "sh\n", "/usr/bin/dash"};
  full.details["argv"] = full.strings.StringArray({"sh", "-c", "true"}, "details.argv");
  ASSERT_TRUE(writer->Append(full));
  ASSERT_TRUE(writer->Append(Event{}));
  ASSERT_TRUE(writer->Close());
  std::string error;
  std::ifstream in(dir_ + "/" + ListLogFiles(dir_, &error).at(0).name);
  std::string line;
  while (std::getline(in, line)) {
    Json record = Json::parse(line);
    Json resealed = record;
    EXPECT_EQ(SealRecord(&resealed), line + "\n");
    EXPECT_EQ(resealed["hash"], record["hash"]);
  }
  std::vector<Json> records = ReadChain();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0]["task"], "task-7");
  EXPECT_EQ(records[0]["escaped"], Json::array({"details.path"}));
  EXPECT_EQ(records[0]["truncated"]["reason"], kMaxStringBytes + 1);
  EXPECT_EQ(records[0]["process"]["comm"], "sh\n");
}

}  // namespace
}  // namespace tollgate::audit

namespace tollgate::audit {
namespace {

TEST_F(AuditWriterTest, BackgroundSyncCanBeSuspendedAroundAFork) {
  WriterOptions options = Options();
  options.sync = SyncMode::kBatch;
  auto writer = OpenWriter(options);
  ASSERT_TRUE(writer->Append(Exec("/bin/before")));
  writer->SuspendBackgroundSync();
  pid_t child = fork();
  if (child == 0) {
    // Single-threaded copy: allocating here must not meet a lock held by a vanished thread.
    std::vector<std::string> lots(1000, std::string(100, 'x'));
    _exit(lots.size() == 1000 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  writer->ResumeBackgroundSync();
  ASSERT_TRUE(writer->Append(Exec("/bin/after")));
  EXPECT_TRUE(writer->Close()) << writer->failure();
  EXPECT_EQ(ReadChain().size(), 2u);
}

}  // namespace
}  // namespace tollgate::audit
