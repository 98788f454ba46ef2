// The audit log end to end: what a real run records, that nothing is lost, that the log is out of
// the sandbox's reach, and what happens when it cannot be written.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>

#include "supervisor/audit/log_files.h"
#include "supervisor/audit/record.h"
#include "tests/e2e/e2e_support.h"

namespace tollgate::e2e {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

bool IsRoot() {
  return geteuid() == 0;
}

TEST(Audit, ARunIsRecordedFromStartToEndAndVerifies) {
  Scratch scratch;
  scratch.Handover();
  const std::string log = scratch.path() + "-audit";
  RunOutput run = Tollgate({"run", "--workspace", scratch.path(), "--audit-log", log, "--",
                            "/bin/sh", "-c", "/bin/true; exit 3"});
  ASSERT_EQ(run.exit_code, 3) << run.err;
  std::vector<Json> records = ReadAuditLog(log);
  ASSERT_GE(records.size(), 4u);
  const Json& start = records.front();
  EXPECT_EQ(start["kind"], "run.start");
  EXPECT_EQ(start["profile"], "workspace-write");
  EXPECT_EQ(start["details"]["command"], Json::array({"/bin/sh", "-c", "/bin/true; exit 3"}));
  EXPECT_EQ(start["details"]["profile_digest"].get<std::string>().size(), 64u);
  EXPECT_EQ(start["details"]["workspace"], scratch.path());
  std::vector<Json> execs = OfKind(records, "exec");
  ASSERT_EQ(execs.size(), 2u);
  EXPECT_EQ(execs[0]["details"]["path"], "/bin/sh");
  EXPECT_EQ(execs[1]["details"]["argv"], Json::array({"/bin/true"}));
  EXPECT_EQ(execs[1]["process"]["comm"], "sh");
  EXPECT_GT(execs[1]["process"]["pid"].get<int>(), 1) << "the pid as the sandbox numbers it";
  const Json& end = records.back();
  EXPECT_EQ(end["kind"], "run.end");
  EXPECT_EQ(end["details"]["status"], "exited");
  EXPECT_EQ(end["details"]["exit_code"], 3);
  for (const Json& r : records) EXPECT_EQ(r["run"], start["run"]);

  RunOutput verify = Tollgate({"audit", "verify", "--audit-log", log});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  escapes::RemoveTree(log);
}

TEST(Audit, TenThousandExecsGiveTenThousandRecords) {
  Scratch scratch;
  scratch.Handover();
  const std::string log = scratch.path() + "-audit";
  RunOutput run =
      Tollgate({"run", "--workspace", scratch.path(), "--audit-log", log, "--", "/bin/sh", "-c",
                "i=0; while [ $i -lt 10000 ]; do /bin/true; i=$((i+1)); done"},
               "", {}, "", 600);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::vector<Json> execs = OfKind(ReadAuditLog(log), "exec");
  std::size_t trues = std::count_if(execs.begin(), execs.end(), [](const Json& r) {
    return r["details"]["path"] == "/bin/true" && r["details"]["found"] == true;
  });
  EXPECT_EQ(trues, 10000u);
  escapes::RemoveTree(log);
}

TEST(Audit, TheLogIsHiddenFromASandboxWhoseViewWouldShowIt) {
  Scratch scratch;
  scratch.Handover();
  const std::string log = scratch / ".audit";
  // A first run creates the log inside the workspace; the second looks for it from inside.
  RunOutput first =
      Tollgate({"run", "--workspace", scratch.path(), "--audit-log", log, "--", "/bin/true"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  RunOutput look = Tollgate(
      {"run", "--workspace", scratch.path(), "--audit-log", log, "--", "/bin/sh", "-c",
       "ls -A " + log + "; cat " + log + "/audit-* ; touch " + log + "/forged && echo WROTE"});
  EXPECT_THAT(look.out, ::testing::Not(HasSubstr("audit-0")));
  EXPECT_THAT(look.out, ::testing::Not(HasSubstr("run.start")));
  EXPECT_THAT(look.out, ::testing::Not(HasSubstr("WROTE")));
  struct stat st;
  EXPECT_NE(stat((log + "/forged").c_str(), &st), 0);
  // Not only unreadable (as root the log's mode alone keeps the sandbox user out): covered.
  ASSERT_EQ(stat(log.c_str(), &st), 0);
  RunOutput inode = Tollgate({"run", "--workspace", scratch.path(), "--audit-log", log, "--",
                              "/usr/bin/stat", "-c", "%i", log});
  ASSERT_EQ(inode.exit_code, 0) << inode.err;
  EXPECT_NE(std::stoull(inode.out), static_cast<unsigned long long>(st.st_ino))
      << "the sandbox sees the log directory itself, not a cover";
  EXPECT_GE(OfKind(ReadAuditLog(log), "run.start").size(), 2u) << "both runs are in the log";
}

TEST(Audit, ALogDirectoryThatCannotBeCreatedRefusesTheLaunch) {
  Scratch scratch;
  scratch.Handover();
  RunOutput run = Tollgate({"run", "--workspace", scratch.path(), "--audit-log",
                            "/proc/tollgate-none/audit", "--", "/bin/sh", "-c", "echo RAN"});
  EXPECT_EQ(run.exit_code, 125);
  EXPECT_THAT(run.err, HasSubstr("cannot create the audit log directory /proc/tollgate-none"));
  EXPECT_THAT(run.out, ::testing::Not(HasSubstr("RAN")));
}

TEST(Audit, AReadOnlyLogDirectoryRefusesTheLaunch) {
  Scratch scratch;
  scratch.Handover();
  const std::string log = scratch.path() + "-ro";
  ASSERT_EQ(mkdir(log.c_str(), 0700), 0);
  std::string script;
  if (IsRoot()) {
    // Root writes through any mode: make it a read-only mount, in a mount namespace of its own.
    script = "unshare -m sh -c 'mount --bind " + log + " " + log + " && mount -o remount,ro,bind " +
             log + " " + log + " && " + escapes::BinDir() + "/tollgate run --workspace " +
             scratch.path() + " --audit-log " + log + " -- /bin/sh -c \"echo RAN\"'";
  } else {
    chmod(log.c_str(), 0500);
    script = escapes::BinDir() + "/tollgate run --workspace " + scratch.path() + " --audit-log " +
             log + " -- /bin/sh -c 'echo RAN'";
  }
  std::string out_file = scratch.path() + "-ro.out";
  int status = Host(script + " >" + out_file + " 2>&1");
  std::string out = escapes::ReadFile(out_file);
  EXPECT_EQ(status, 125) << out;
  EXPECT_THAT(out, HasSubstr("audit log directory " + log));
  EXPECT_THAT(out, ::testing::Not(HasSubstr("RAN")));
  chmod(log.c_str(), 0700);
  escapes::RemoveTree(log);
  unlink(out_file.c_str());
}

TEST(Audit, AFullLogDeniesTheNextActionAndEndsTheRunWithNothingHalfWritten) {
  if (!IsRoot()) {
    GTEST_SKIP() << "needs root to mount a tiny tmpfs for the log (the suite's run as root "
                    "covers it)";
  }
  Scratch scratch;
  scratch.Handover();
  const std::string mnt = scratch.path() + "-tiny";
  ASSERT_EQ(mkdir(mnt.c_str(), 0700), 0);
  const std::string bin = escapes::BinDir();
  // Everything happens in one mount namespace: the tmpfs exists only there.
  std::string script = "unshare -m sh -c 'mount -t tmpfs -o size=24k,mode=0700 none " + mnt +
                       " && " + bin + "/tollgate run --workspace " + scratch.path() +
                       " --audit-log " + mnt +
                       "/log -- /bin/sh -c \"while :; do /bin/true; done\"; echo run=$?; " + bin +
                       "/tollgate audit verify --audit-log " + mnt +
                       "/log; echo verify=$?; tail -c 1 " + mnt + "/log/audit-*.jsonl | od -An -c'";
  std::string out_file = scratch.path() + "-tiny.out";
  Host("timeout 120 " + script + " >" + out_file + " 2>&1");
  std::string out = escapes::ReadFile(out_file);
  EXPECT_THAT(out, HasSubstr("run=122")) << out;
  EXPECT_THAT(out, HasSubstr("could not be written")) << out;
  EXPECT_THAT(out, HasSubstr("verify=0")) << out;
  EXPECT_THAT(out, HasSubstr("\\n")) << "the file ends with a whole record\n" << out;
  rmdir(mnt.c_str());
  unlink(out_file.c_str());
}

}  // namespace
}  // namespace tollgate::e2e

namespace tollgate::e2e {
namespace {

TEST(Audit, FilesLevelRecordsADeniedReadOfAHiddenPathAndADeniedWriteOfAProtectedOne) {
  Scratch scratch;
  ASSERT_EQ(Host("mkdir -p " + (scratch / ".git/hooks")), 0);
  escapes::WriteFile(scratch / ".env", "TOKEN=decoy\n");
  scratch.Handover();
  const std::string log = scratch.path() + "-audit";
  RunOutput run = Tollgate({"run", "--workspace", scratch.path(), "--audit-log", log,
                            "--audit-level", "files", "--", "/bin/sh", "-c",
                            "cat .env; echo x > .git/hooks/pre-commit; echo ok > notes.txt"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::vector<Json> files = OfKind(ReadAuditLog(log), "file.access");
  auto find = [&](const std::string& path, const std::string& access) -> const Json* {
    for (const Json& r : files) {
      if (r["details"]["path"] == path && r["details"]["access"] == access) return &r;
    }
    return nullptr;
  };
  const Json* env = find(scratch / ".env", "read");
  ASSERT_NE(env, nullptr) << Json(files).dump();
  EXPECT_EQ((*env)["verdict"], "deny");
  EXPECT_THAT((*env)["rule"].get<std::string>(), HasSubstr("filesystem.hide"));
  const Json* hook = find(scratch / ".git/hooks/pre-commit", "create");
  ASSERT_NE(hook, nullptr) << Json(files).dump();
  EXPECT_EQ((*hook)["verdict"], "deny");
  EXPECT_THAT((*hook)["rule"].get<std::string>(), HasSubstr("filesystem.protect"));
  const Json* notes = find(scratch / "notes.txt", "create");
  ASSERT_NE(notes, nullptr);
  EXPECT_EQ((*notes)["verdict"], "allow");
  // The kernel agreed with each verdict.
  EXPECT_THAT(escapes::ReadFile(scratch / "notes.txt"), HasSubstr("ok"));
  struct stat st;
  EXPECT_NE(stat((scratch / ".git/hooks/pre-commit").c_str(), &st), 0);
  escapes::RemoveTree(log);
}

TEST(Audit, ActionsLevelRecordsNoFileAccess) {
  Scratch scratch;
  scratch.Handover();
  const std::string log = scratch.path() + "-audit";
  ASSERT_EQ(Tollgate({"run", "--workspace", scratch.path(), "--audit-log", log, "--", "/bin/sh",
                      "-c", "cat /etc/hostname > out.txt"})
                .exit_code,
            0);
  std::vector<Json> records = ReadAuditLog(log);
  EXPECT_TRUE(OfKind(records, "file.access").empty());
  EXPECT_EQ(OfKind(records, "exec").size(), 2u);
  escapes::RemoveTree(log);
}

}  // namespace
}  // namespace tollgate::e2e

namespace tollgate::e2e {
namespace {

TEST(Audit, RunLevelRecordsOnlyTheRunsStartAndEnd) {
  Scratch scratch;
  scratch.Handover();
  const std::string log = scratch.path() + "-audit";
  // Several launches: the batch-sync thread must be paused around every clone (a fork-like child
  // of a threaded process can inherit a held lock and hang).
  for (int i = 0; i < 20; ++i) {
    RunOutput run = Tollgate({"run", "--workspace", scratch.path(), "--audit-log", log,
                              "--audit-level", "run", "--", "/bin/sh", "-c", "/bin/true"},
                             "", {}, "", 30);
    ASSERT_FALSE(run.timed_out) << "launch " << i << " hung";
    ASSERT_EQ(run.exit_code, 0) << run.err;
  }
  std::vector<Json> records = ReadAuditLog(log);
  EXPECT_EQ(records.size(), 40u);
  EXPECT_EQ(OfKind(records, "run.start").size(), 20u);
  EXPECT_EQ(OfKind(records, "run.end").size(), 20u);
  escapes::RemoveTree(log);
}

}  // namespace
}  // namespace tollgate::e2e

namespace tollgate::e2e {
namespace {

TEST(Audit, ALimitReachedIsALimitHitRecordBeforeTheRunsEnd) {
  Scratch scratch;
  scratch.Handover();
  const std::string log = scratch.path() + "-audit";
  const std::string profile = scratch.path() + "-tiny.json";
  escapes::WriteFile(profile, R"({"name": "tiny-files", "description": "at most 1 MiB per file",
    "extends": ["workspace-write"], "limits": {"file_size": "1M"}})");
  RunOutput run =
      Tollgate({"run", "--profile", profile, "--workspace", scratch.path(), "--audit-log", log,
                "--", "/bin/sh", "-c", "exec head -c 2000000 /dev/zero > big"});
  EXPECT_EQ(run.exit_code, 128 + 25) << run.err;  // SIGXFSZ
  std::vector<Json> records = ReadAuditLog(log);
  std::vector<Json> hits = OfKind(records, "limit.hit");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]["details"]["limit"], "file_size");
  EXPECT_EQ(hits[0]["details"]["value"], 1u << 20);
  EXPECT_EQ(hits[0]["verdict"], "deny");
  EXPECT_EQ(records.back()["kind"], "run.end");
  EXPECT_EQ(records.back()["details"]["limits_hit"], Json::array({"file_size"}));
  escapes::RemoveTree(log);
  unlink(profile.c_str());
}

}  // namespace
}  // namespace tollgate::e2e
