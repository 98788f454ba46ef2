// DecideFileAccess: what the `files` audit level records as the profile's verdict.
#include "policy/file_decision.h"

#include <gtest/gtest.h>

namespace tollgate::policy {
namespace {

SandboxPlan Plan() {
  SandboxPlan plan;
  auto& ops = plan.mounts.ops;
  ops.push_back(
      {.kind = MountOpKind::kBind, .source = "/usr", .target = "/usr", .why = "read /usr"});
  ops.push_back(
      {.kind = MountOpKind::kTmpfs, .target = "/home/u", .writable = true, .why = "home"});
  ops.push_back({.kind = MountOpKind::kBind,
                 .source = "/work/p",
                 .target = "/work/p",
                 .writable = true,
                 .why = "write {workspace}"});
  ops.push_back({.kind = MountOpKind::kProc, .target = "/proc", .why = "proc"});
  ops.push_back({.kind = MountOpKind::kReadOnly, .target = "/proc/sys", .why = "tunables"});
  ops.push_back({.kind = MountOpKind::kProtect,
                 .source = "/work/p/.git/hooks",
                 .target = "/work/p/.git/hooks",
                 .why = "protect hooks"});
  ops.push_back({.kind = MountOpKind::kHide, .target = "/work/p/.env", .why = "hide .env"});
  ops.push_back({.kind = MountOpKind::kRootReadOnly, .target = "/", .why = "root"});
  return plan;
}

TEST(FileDecision, ReadsOfWhatIsShownAreAllowed) {
  FileDecision d = DecideFileAccess(Plan(), "/usr/bin/cc", FileAccess::kRead);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.rule, "read /usr");
}

TEST(FileDecision, WritesFollowTheInnermostTree) {
  EXPECT_FALSE(DecideFileAccess(Plan(), "/usr/bin/cc", FileAccess::kWrite).allowed);
  FileDecision ws = DecideFileAccess(Plan(), "/work/p/src/main.c", FileAccess::kCreate);
  EXPECT_TRUE(ws.allowed);
  EXPECT_EQ(ws.rule, "write {workspace}");
  EXPECT_TRUE(DecideFileAccess(Plan(), "/home/u/.cache/x", FileAccess::kWrite).allowed);
}

TEST(FileDecision, HiddenPathsAreDeniedEvenToRead) {
  FileDecision d = DecideFileAccess(Plan(), "/work/p/.env", FileAccess::kRead);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.rule, "hide .env");
  EXPECT_FALSE(DecideFileAccess(Plan(), "/work/p/src/../.env", FileAccess::kRead).allowed)
      << "'..' is resolved before deciding";
}

TEST(FileDecision, ProtectedPathsAreReadableNotWritable) {
  EXPECT_TRUE(DecideFileAccess(Plan(), "/work/p/.git/hooks/pre-commit", FileAccess::kRead).allowed);
  FileDecision d = DecideFileAccess(Plan(), "/work/p/.git/hooks/pre-commit", FileAccess::kCreate);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.rule, "protect hooks");
  EXPECT_FALSE(DecideFileAccess(Plan(), "/work/p/.git/hooks", FileAccess::kRemove).allowed);
  EXPECT_TRUE(DecideFileAccess(Plan(), "/work/p/.git/hooksy", FileAccess::kCreate).allowed)
      << "a sibling that shares a prefix is not inside";
}

TEST(FileDecision, WhatNoEntryShowsIsNotInTheView) {
  FileDecision d = DecideFileAccess(Plan(), "/root/.ssh/id_rsa", FileAccess::kRead);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.rule, "filesystem: not in the view");
}

TEST(FileDecision, ProcIsWritableButItsReadOnlyParts) {
  EXPECT_TRUE(DecideFileAccess(Plan(), "/proc/self/oom_score_adj", FileAccess::kWrite).allowed);
  EXPECT_FALSE(DecideFileAccess(Plan(), "/proc/sys/kernel/hostname", FileAccess::kWrite).allowed);
}

TEST(FileDecision, NormalizePath) {
  EXPECT_EQ(NormalizePath("/a/./b//c/../d"), "/a/b/d");
  EXPECT_EQ(NormalizePath("/../.."), "/");
  EXPECT_EQ(NormalizePath("/"), "/");
  EXPECT_EQ(NormalizePath("/a/b/"), "/a/b");
}

}  // namespace
}  // namespace tollgate::policy
