// tollgate audit verify: one test per kind of tampering, each on a log that verifies before it
// is tampered with, and the limits of what can be seen.
#include "supervisor/audit/verify.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "supervisor/commands.h"
#include "tests/unit/audit_test_log.h"

namespace tollgate::audit {
namespace {

using testing::TestLog;

// Ten exec records in one file.
void AddExecs(TestLog* log, int count) {
  for (int i = 0; i < count; ++i)
    log->Add("exec", Verdict::kAllow,
             {{"path", "/bin/true"}, {"argv", {"true", std::to_string(i)}}});
}

std::string Describe(const VerifyReport& report) {
  if (report.ok()) return "ok";
  const VerifyFinding& bad = *report.first_bad;
  return std::string(TamperingName(bad.kind)) + " at " + bad.file + ":" + std::to_string(bad.line) +
         ": " + bad.why;
}

class AuditVerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AddExecs(&log_, 10);
    file_ = log_.Files().at(0);
    lines_ = log_.Lines(file_);
    ASSERT_EQ(lines_.size(), 10u);
    VerifyReport before = VerifyLog(log_.dir());
    ASSERT_TRUE(before.ok()) << Describe(before);  // every test starts from an intact log
    ASSERT_EQ(before.records, 10u);
  }
  TestLog log_;
  std::string file_;
  std::vector<std::string> lines_;
};

TEST_F(AuditVerifyTest, AnIntactLogPasses) {
  VerifyReport report = VerifyLog(log_.dir());
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.first_seq, 1u);
  EXPECT_EQ(report.last_seq, 10u);
  EXPECT_EQ(report.last_hash, log_.last_hash());
  EXPECT_TRUE(report.warnings.empty()) << report.warnings.at(0);
}

TEST_F(AuditVerifyTest, AModifiedFieldIsModified) {
  lines_[3].replace(lines_[3].find("/bin/true"), 9, "/bin/evil");
  log_.WriteLines(file_, lines_);
  VerifyReport report = VerifyLog(log_.dir());
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.first_bad->kind, Tampering::kModified) << Describe(report);
  EXPECT_EQ(report.first_bad->line, 4u);
  EXPECT_EQ(report.first_bad->seq, 4u);
  EXPECT_NE(report.first_bad->why.find("hash does not match"), std::string::npos);
  EXPECT_EQ(report.records, 3u);
}

TEST_F(AuditVerifyTest, WhiteSpaceAddedToARecordIsModified) {
  lines_[5].insert(1, " ");
  log_.WriteLines(file_, lines_);
  VerifyReport report = VerifyLog(log_.dir());
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.first_bad->kind, Tampering::kModified) << Describe(report);
  EXPECT_EQ(report.first_bad->line, 6u);
  EXPECT_NE(report.first_bad->why.find("canonical"), std::string::npos);
}

TEST_F(AuditVerifyTest, ARecordEditedAndSealedAgainIsModifiedAtTheNextLink) {
  Json record = Json::parse(lines_[3]);
  record["verdict"] = "deny";
  std::string resealed = SealRecord(&record);
  lines_[3] = resealed.substr(0, resealed.size() - 1);
  log_.WriteLines(file_, lines_);
  VerifyReport report = VerifyLog(log_.dir());
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.first_bad->kind, Tampering::kModified) << Describe(report);
  EXPECT_EQ(report.first_bad->seq, 5u);  // record 4 seals fine; record 5 no longer chains to it
  EXPECT_NE(report.first_bad->why.find("sealed again"), std::string::npos);
}

TEST_F(AuditVerifyTest, ADeletedRecordIsDeleted) {
  lines_.erase(lines_.begin() + 4);  // seq 5
  log_.WriteLines(file_, lines_);
  VerifyReport report = VerifyLog(log_.dir());
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.first_bad->kind, Tampering::kDeleted) << Describe(report);
  EXPECT_EQ(report.first_bad->seq, 6u);
  EXPECT_EQ(report.first_bad->line, 5u);
  EXPECT_NE(report.first_bad->why.find("record seq 5 is missing"), std::string::npos);
}

TEST_F(AuditVerifyTest, TheFirstRecordDeletedIsDeleted) {
  lines_.erase(lines_.begin());
  log_.WriteLines(file_, lines_);
  VerifyReport report = VerifyLog(log_.dir());
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.first_bad->kind, Tampering::kDeleted) << Describe(report);
  EXPECT_EQ(report.first_bad->line, 1u);
}

TEST_F(AuditVerifyTest, TwoSwappedRecordsAreReordered) {
  std::swap(lines_[6], lines_[7]);
  log_.WriteLines(file_, lines_);
  VerifyReport report = VerifyLog(log_.dir());
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.first_bad->kind, Tampering::kReordered) << Describe(report);
  EXPECT_EQ(report.first_bad->line, 7u);
  EXPECT_EQ(report.first_bad->seq, 8u);
}

TEST_F(AuditVerifyTest, ARecordMovedBackIsReordered) {
  std::string moved = lines_[8];
  lines_.erase(lines_.begin() + 8);
  lines_.insert(lines_.begin() + 2, moved);
  log_.WriteLines(file_, lines_);
  VerifyReport report = VerifyLog(log_.dir());
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.first_bad->kind, Tampering::kReordered) << Describe(report);
}

TEST_F(AuditVerifyTest, AForgedLineBetweenTwoRecordsIsInserted) {
  // A made-up line that looks like a record but was never sealed into the chain.
  lines_.insert(lines_.begin() + 5,
                R"({"kind":"exec","note":"nothing to see","seq":6,"verdict":"allow"})");
  log_.WriteLines(file_, lines_);
  VerifyReport report = VerifyLog(log_.dir());
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.first_bad->kind, Tampering::kInserted) << Describe(report);
  EXPECT_EQ(report.first_bad->line, 6u);
}

TEST_F(AuditVerifyTest, ACopyOfAnEarlierRecordIsInserted) {
  lines_.insert(lines_.begin() + 6, lines_[2]);
  log_.WriteLines(file_, lines_);
  VerifyReport report = VerifyLog(log_.dir());
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.first_bad->kind, Tampering::kInserted) << Describe(report);
  EXPECT_EQ(report.first_bad->line, 7u);
  EXPECT_EQ(report.first_bad->seq, 3u);
}

TEST_F(AuditVerifyTest, ARecordForgedWithAValidSealIsInserted) {
  // Sealed as the writer would, chained to seq 4: the record after it still chains to seq 4.
  Json forged = Json::parse(lines_[4]);
  forged["details"]["path"] = "/bin/forged";
  std::string line = SealRecord(&forged);
  lines_.insert(lines_.begin() + 4, line.substr(0, line.size() - 1));
  log_.WriteLines(file_, lines_);
  VerifyReport report = VerifyLog(log_.dir());
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.first_bad->kind, Tampering::kInserted) << Describe(report);
  EXPECT_EQ(report.first_bad->line, 5u) << "the forged record, not the original after it";
}

TEST_F(AuditVerifyTest, ACutLastLineIsTruncated) {
  std::string content = log_.ReadFile(file_);
  log_.WriteFile(file_, content.substr(0, content.size() - 40));
  VerifyReport report = VerifyLog(log_.dir());
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.first_bad->kind, Tampering::kTruncated) << Describe(report);
  EXPECT_EQ(report.first_bad->line, 10u);
  EXPECT_EQ(report.records, 9u);
}

TEST_F(AuditVerifyTest, RecordsCutCleanlyAtTheEndCannotBeSeen) {
  // The documented limit: without a copy of the last hash, a log that simply ends earlier is
  // a valid log. Verify reports the last hash so that it can be compared with such a copy.
  lines_.resize(7);
  log_.WriteLines(file_, lines_);
  VerifyReport report = VerifyLog(log_.dir());
  EXPECT_TRUE(report.ok()) << Describe(report);
  EXPECT_EQ(report.last_seq, 7u);
  EXPECT_NE(report.last_hash, log_.last_hash());
}

TEST_F(AuditVerifyTest, GarbageInPlaceOfARecordIsModified) {
  lines_[2] = "this is not a record";
  log_.WriteLines(file_, lines_);
  VerifyReport report = VerifyLog(log_.dir());
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.first_bad->kind, Tampering::kModified) << Describe(report);
  EXPECT_EQ(report.first_bad->line, 3u);
  EXPECT_NE(report.first_bad->why.find("not a valid record"), std::string::npos);
}

class AuditVerifyRotatedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int file = 0; file < 3; ++file) {
      AddExecs(&log_, 4);
      log_.Rotate();
    }
    AddExecs(&log_, 2);  // the active file
    ASSERT_EQ(log_.Files().size(), 4u);
  }
  TestLog log_;
};

TEST_F(AuditVerifyRotatedTest, ARotatedChainPasses) {
  VerifyReport report = VerifyLog(log_.dir());
  EXPECT_TRUE(report.ok()) << Describe(report);
  EXPECT_EQ(report.records, 14u);
  EXPECT_EQ(report.files, 4u);
  EXPECT_TRUE(report.warnings.empty()) << report.warnings.at(0);
}

TEST_F(AuditVerifyRotatedTest, AMissingMiddleFileIsDeleted) {
  std::filesystem::remove(log_.Path(log_.Files().at(1)));  // seq 5..8
  VerifyReport report = VerifyLog(log_.dir());
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.first_bad->kind, Tampering::kDeleted) << Describe(report);
  EXPECT_EQ(report.first_bad->seq, 9u);
  EXPECT_EQ(report.first_bad->line, 1u);
  EXPECT_NE(report.first_bad->why.find("seq 5 to 8"), std::string::npos);
  EXPECT_NE(report.first_bad->why.find("whole file"), std::string::npos);
}

TEST_F(AuditVerifyRotatedTest, AMissingFirstFileIsTruncated) {
  std::filesystem::remove(log_.Path(log_.Files().at(0)));
  VerifyReport report = VerifyLog(log_.dir());
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.first_bad->kind, Tampering::kTruncated) << Describe(report);
  EXPECT_NE(report.first_bad->why.find("starts at seq 5"), std::string::npos);
}

TEST_F(AuditVerifyRotatedTest, AMissingActiveFileLeavesAWarning) {
  std::filesystem::remove(log_.Path(log_.Files().back()));
  VerifyReport report = VerifyLog(log_.dir());
  EXPECT_TRUE(report.ok()) << Describe(report);  // the writer may have stopped mid-rotation
  ASSERT_EQ(report.warnings.size(), 1u);
  EXPECT_NE(report.warnings[0].find("newest file and is sealed"), std::string::npos);
}

TEST_F(AuditVerifyRotatedTest, TheEndOfARotatedFileCutOffIsDeleted) {
  std::string name = log_.Files().at(1);
  std::vector<std::string> lines = log_.Lines(name);
  lines.pop_back();
  log_.WriteLines(name, lines);
  VerifyReport report = VerifyLog(log_.dir());
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.first_bad->kind, Tampering::kDeleted) << Describe(report);
  EXPECT_EQ(report.first_bad->file, log_.Files().at(2));
}

TEST_F(AuditVerifyRotatedTest, ASealedFileMadeWritableLeavesAWarning) {
  chmod(log_.Path(log_.Files().at(0)).c_str(), 0600);
  VerifyReport report = VerifyLog(log_.dir());
  EXPECT_TRUE(report.ok());
  ASSERT_EQ(report.warnings.size(), 1u);
  EXPECT_NE(report.warnings[0].find("should have been sealed"), std::string::npos);
}

TEST(AuditVerify, ASingleRotatedFileVerifiesAsAPieceOfTheChain) {
  TestLog log;
  AddExecs(&log, 3);
  log.Rotate();
  AddExecs(&log, 3);
  std::string second = log.Path(log.Files().at(1));
  EXPECT_TRUE(VerifyLog(second).ok());
  EXPECT_EQ(VerifyLog(second).first_seq, 4u);
}

TEST(AuditVerify, LogRecoveredIsCheckedAgainstTheBytesKeptAside) {
  TestLog log;
  AddExecs(&log, 2);
  std::string torn = R"({"details":{"path":"/bin/c"},"kind":"ex)";
  std::string kept = log.Files().at(0) + ".torn-1795757370";
  std::ofstream(log.Path(kept)) << torn;
  log.Add("log.recovered", Verdict::kInfo,
          {{"file", log.Files().at(0)},
           {"offset", 100},
           {"bytes", torn.size()},
           {"kept_as", kept},
           {"sha256", Sha256Hex(torn)}});
  VerifyReport report = VerifyLog(log.dir());
  EXPECT_TRUE(report.ok());
  EXPECT_TRUE(report.warnings.empty());
  std::ofstream(log.Path(kept)) << "something else";
  report = VerifyLog(log.dir());
  EXPECT_TRUE(report.ok());
  ASSERT_EQ(report.warnings.size(), 1u);
  EXPECT_NE(report.warnings[0].find("SHA-256 differs"), std::string::npos);
}

TEST(AuditVerify, AMissingDirectoryIsUnreadable) {
  VerifyReport report = VerifyLog("/nonexistent/tollgate-audit");
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.first_bad->kind, Tampering::kUnreadable);
}

TEST(AuditVerify, AnEmptyLogIsIntact) {
  TestLog log;
  VerifyReport report = VerifyLog(log.dir());
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.records, 0u);
}

TEST(AuditVerify, TextInMemoryVerifiesLikeAFile) {
  TestLog log;
  std::string text;
  for (int i = 0; i < 3; ++i) text += log.Add("exec");
  EXPECT_TRUE(VerifyLogText(text).ok());
  EXPECT_EQ(VerifyLogText(text).records, 3u);
  EXPECT_FALSE(VerifyLogText(text.substr(0, text.size() - 2)).ok());
}

TEST_F(AuditVerifyTest, TheCommandExitsOneOnABadRecordOnly) {
  AuditArgs args;
  args.action = "verify";
  args.log_dir = log_.dir();
  ::testing::internal::CaptureStdout();
  int intact = AuditCommand(args);
  std::swap(lines_[1], lines_[2]);
  log_.WriteLines(file_, lines_);
  int swapped = AuditCommand(args);
  std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(intact, 0) << out;
  EXPECT_EQ(swapped, kExitInvalid) << out;
  EXPECT_NE(out.find("BAD: reordered"), std::string::npos) << out;
}

}  // namespace
}  // namespace tollgate::audit
