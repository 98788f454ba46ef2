// Evidence collection does not cross a mount inside the workspace (RESOLVE_NO_XDEV): a directory
// or a file mounted over, as a bind mount could bring another tree into it, is skipped with the
// reason. Needs a mount namespace, so it runs in a child in its own user and mount namespaces.
#include "supervisor/governance/evidence_files.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace tollgate::governance {
namespace {

namespace fs = std::filesystem;

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  return static_cast<bool>(out);
}

// In the child: what the walk found, one line per file or skip, or "SKIP: why" when the
// namespaces cannot be had.
std::string ScanBehindMounts(const std::string& root) {
  uid_t uid = getuid();
  gid_t gid = getgid();
  if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
    return std::string("SKIP: unshare: ") + strerror(errno);
  }
  if (!WriteFile("/proc/self/setgroups", "deny") ||
      !WriteFile("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1") ||
      !WriteFile("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1")) {
    return "SKIP: cannot write the id maps";
  }
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return std::string("SKIP: making / private: ") + strerror(errno);
  }
  std::string ws = root + "/ws";
  if (mount("tmpfs", (ws + "/mnt").c_str(), "tmpfs", 0, "size=1m") != 0) {
    return std::string("SKIP: tmpfs: ") + strerror(errno);
  }
  if (!WriteFile(ws + "/mnt/inside.xml", "in the mount\n")) return "cannot write into the tmpfs";
  if (mount((root + "/outside/secret.xml").c_str(), (ws + "/bound.xml").c_str(), nullptr, MS_BIND,
            nullptr) != 0) {
    return std::string("SKIP: bind mount: ") + strerror(errno);
  }
  EvidenceOptions options;
  options.read_content = true;
  EvidenceResult result = FindEvidence(ws, {"mnt/*.xml", "**/*.xml", "bound.xml"}, options);
  if (!result.scan) return "error: " + result.error;
  std::string out;
  for (const EvidenceFile& file : result.scan->files) out += "file " + file.path + "\n";
  for (const SkippedEvidence& skip : result.scan->skipped) {
    out += "skipped " + skip.path + ": " + skip.reason + "\n";
  }
  return out;
}

TEST(EvidenceFilesKernel, MountsInsideTheWorkspaceAreNotCrossed) {
  char name[] = "/tmp/tollgate-evidence-mount-XXXXXX";
  ASSERT_NE(mkdtemp(name), nullptr);
  std::string root = name;
  fs::create_directories(root + "/ws/mnt");
  fs::create_directories(root + "/outside");
  ASSERT_TRUE(WriteFile(root + "/outside/secret.xml", "SECRET\n"));
  ASSERT_TRUE(WriteFile(root + "/ws/plain.xml", "plain\n"));
  ASSERT_TRUE(WriteFile(root + "/ws/bound.xml", "covered by the bind mount\n"));

  int pipe_fds[2];
  ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(pipe_fds[0]);
    std::string answer = ScanBehindMounts(root);
    ssize_t written = write(pipe_fds[1], answer.data(), answer.size());
    _exit(written == static_cast<ssize_t>(answer.size()) ? 0 : 1);
  }
  close(pipe_fds[1]);
  std::string answer;
  char buffer[4096];
  ssize_t got = 0;
  while ((got = read(pipe_fds[0], buffer, sizeof buffer)) > 0) answer.append(buffer, got);
  close(pipe_fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  fs::remove_all(root);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  if (answer.rfind("SKIP: ", 0) == 0) GTEST_SKIP() << answer.substr(6);
  EXPECT_EQ(answer,
            "file plain.xml\n"
            "skipped bound.xml: a mount point (another file system), not read\n"
            "skipped mnt: a mount point (another file system), not entered\n");
}

}  // namespace
}  // namespace tollgate::governance
