// The bytes the supervisor sends the sandbox init: everything it applies arrives intact, and a
// short or corrupt message is refused rather than half-read.
#include "supervisor/kernel/sandbox_setup.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <string>

namespace tollgate::kernel {
namespace {

using policy::MountOp;
using policy::MountOpKind;

SandboxSetup Example() {
  SandboxSetup setup;
  MountOp bind;
  bind.kind = MountOpKind::kBind;
  bind.source = "/usr";
  bind.target = "/usr";
  bind.exec = true;
  bind.optional = true;
  MountOp tmp;
  tmp.kind = MountOpKind::kTmpfs;
  tmp.target = "/tmp";
  tmp.writable = true;
  tmp.size = 1ull << 30;
  tmp.mode = 01777;
  MountOp inside;  // a source inside the workspace: opened beneath it, no symlink followed
  inside.kind = MountOpKind::kBind;
  inside.source = "/home/ann/app/build";
  inside.target = "/home/ann/app/build";
  inside.beneath = "/home/ann/app";
  inside.writable = true;
  MountOp dev;
  dev.kind = MountOpKind::kBind;
  dev.source = "/dev/null";
  dev.target = "/dev/null";
  dev.writable = true;
  dev.device = true;
  MountOp config;  // a protected configuration file: an empty file where it is absent
  config.kind = MountOpKind::kProtect;
  config.source = config.target = "/home/ann/.codex/config.toml";
  config.file = true;
  MountOp root;
  root.kind = MountOpKind::kRootReadOnly;
  root.target = "/";
  setup.mounts.ops = {bind, tmp, inside, dev, config, root};
  setup.cwd = "/work space";
  setup.hostname = "tollgate";
  setup.new_network_namespace = true;
  setup.deferred_command = true;
  setup.landlock.mode = policy::LandlockMode::kRequire;
  setup.landlock.rules = {{"/tmp", policy::kLandlockRead | policy::kLandlockWrite, ""},
                          {"/usr", policy::kLandlockRead | policy::kLandlockExecute, ""}};
  setup.landlock.deny_tcp = true;
  setup.landlock.scope_signals = false;
  setup.landlock_abi = 7;
  setup.exec = BuildExecSpec({"make", "-C", std::string("a\0b", 3)},
                             policy::EnvPlan{{{"PATH", "/usr/bin:/bin"}, {"EMPTY", ""}}, {}});
  setup.rlimits.Add(RLIMIT_CORE, 0, 0);
  setup.rlimits.Add(RLIMIT_NPROC, 4097, 4097);
  setup.rlimits.Add(RLIMIT_FSIZE, RLIM_INFINITY, RLIM_INFINITY);
  setup.sampling.processes = 4096;
  setup.sampling.memory_bytes = 8ull << 30;
  setup.sampling.file_size = true;
  setup.sampling.tmpfs_paths = {"/tmp", "/dev/shm"};
  return setup;
}

TEST(SandboxSetup, EverythingTheInitAppliesArrivesIntact) {
  const SandboxSetup sent = Example();
  SandboxSetup got;
  ASSERT_TRUE(DecodeSandboxSetup(EncodeSandboxSetup(sent), &got));

  ASSERT_EQ(got.mounts.ops.size(), sent.mounts.ops.size());
  for (std::size_t i = 0; i < sent.mounts.ops.size(); ++i) {
    const MountOp& a = sent.mounts.ops[i];
    const MountOp& b = got.mounts.ops[i];
    EXPECT_EQ(a.kind, b.kind) << i;
    EXPECT_EQ(a.source, b.source) << i;
    EXPECT_EQ(a.target, b.target) << i;
    EXPECT_EQ(a.beneath, b.beneath) << i;
    EXPECT_EQ(a.writable, b.writable) << i;
    EXPECT_EQ(a.exec, b.exec) << i;
    EXPECT_EQ(a.device, b.device) << i;
    EXPECT_EQ(a.optional, b.optional) << i;
    EXPECT_EQ(a.file, b.file) << i;
    EXPECT_EQ(a.size, b.size) << i;
    EXPECT_EQ(a.mode, b.mode) << i;
  }
  EXPECT_EQ(got.cwd, sent.cwd);
  EXPECT_EQ(got.hostname, sent.hostname);
  EXPECT_TRUE(got.new_network_namespace);
  EXPECT_TRUE(got.deferred_command);

  EXPECT_EQ(got.landlock.mode, policy::LandlockMode::kRequire);
  ASSERT_EQ(got.landlock.rules.size(), 2u);
  EXPECT_EQ(got.landlock.rules[1].path, "/usr");
  EXPECT_EQ(got.landlock.rules[1].access, policy::kLandlockRead | policy::kLandlockExecute);
  EXPECT_TRUE(got.landlock.deny_tcp);
  EXPECT_TRUE(got.landlock.scope_abstract_unix);
  EXPECT_FALSE(got.landlock.scope_signals);
  EXPECT_EQ(got.landlock_abi, 7);

  EXPECT_EQ(got.exec.argv_storage, sent.exec.argv_storage);
  EXPECT_EQ(got.exec.env_storage, sent.exec.env_storage);
  EXPECT_EQ(got.exec.candidates, sent.exec.candidates);
  // The pointer arrays point into the decoded object's own storage, null-terminated.
  ASSERT_EQ(got.exec.argv.size(), got.exec.argv_storage.size() + 1);
  EXPECT_EQ(got.exec.argv[0], got.exec.argv_storage[0].data());
  EXPECT_EQ(got.exec.argv.back(), nullptr);
  ASSERT_EQ(got.exec.envp.size(), got.exec.env_storage.size() + 1);
  EXPECT_EQ(got.exec.envp.back(), nullptr);

  ASSERT_EQ(got.rlimits.count, 3u);
  EXPECT_EQ(got.rlimits.items[1].resource, RLIMIT_NPROC);
  EXPECT_EQ(got.rlimits.items[1].soft, 4097u);
  EXPECT_EQ(got.rlimits.items[2].hard, RLIM_INFINITY);

  EXPECT_EQ(got.sampling.processes, 4096u);
  EXPECT_EQ(got.sampling.memory_bytes, 8ull << 30);
  EXPECT_EQ(got.sampling.cpu_seconds, 0u);
  EXPECT_TRUE(got.sampling.file_size);
  EXPECT_EQ(got.sampling.tmpfs_paths, sent.sampling.tmpfs_paths);
}

TEST(SandboxSetup, EveryTruncationAndTrailingGarbageIsRefused) {
  const std::string bytes = EncodeSandboxSetup(Example());
  for (std::size_t size = 0; size < bytes.size(); ++size) {
    SandboxSetup got;
    EXPECT_FALSE(DecodeSandboxSetup(std::string_view(bytes).substr(0, size), &got)) << size;
  }
  SandboxSetup got;
  EXPECT_FALSE(DecodeSandboxSetup(bytes + '\0', &got));
}

TEST(SandboxSetup, ACorruptCountOrKindIsRefused) {
  std::string bytes = EncodeSandboxSetup(Example());
  SandboxSetup got;
  std::string huge_count = bytes;
  huge_count[3] = '\x7f';  // the mount op count: far more ops than there are bytes
  EXPECT_FALSE(DecodeSandboxSetup(huge_count, &got));
  std::string bad_kind = bytes;
  bad_kind[4] = '\x63';  // the first op's kind
  EXPECT_FALSE(DecodeSandboxSetup(bad_kind, &got));
}

}  // namespace
}  // namespace tollgate::kernel
