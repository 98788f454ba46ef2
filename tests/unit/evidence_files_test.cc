// Evidence files found and read beneath a workspace: patterns and `**`, symlinks (to a file or a
// directory outside) skipped and never read, a FIFO that does not block, stale files set apart,
// every bound reported, bad patterns refused. Runs in a temporary directory; no namespaces.
#include "supervisor/governance/evidence_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace tollgate::governance {
namespace {

namespace fs = std::filesystem;

using Paths = std::vector<std::string>;

// sha256("hello\n")
constexpr const char* kHelloSha256 =
    "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";

class EvidenceFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char name[] = "/tmp/tollgate-evidence-test-XXXXXX";
    ASSERT_NE(mkdtemp(name), nullptr);
    root_ = name;
    workspace_ = root_ + "/ws";
    outside_ = root_ + "/outside";
    fs::create_directories(workspace_);
    fs::create_directories(outside_);
    Write(outside_ + "/secret.xml", "SECRET OUTSIDE THE WORKSPACE\n");
  }
  void TearDown() override { fs::remove_all(root_); }

  static void Write(const std::string& path, const std::string& bytes) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << bytes;
  }
  void Put(const std::string& relative, const std::string& bytes = "hello\n") {
    Write(workspace_ + "/" + relative, bytes);
  }

  EvidenceScan Scan(const std::vector<std::string>& patterns, const EvidenceOptions& options = {}) {
    EvidenceResult result = FindEvidence(workspace_, patterns, options);
    EXPECT_TRUE(result.scan.has_value()) << result.error;
    if (!result.scan) return {};
    for (const EvidenceFile& file : result.scan->files) {
      EXPECT_TRUE(!file.content || file.content->find("SECRET") == std::string::npos)
          << file.path << " was read from outside the workspace";
    }
    return *result.scan;
  }
  static Paths PathsOf(const std::vector<EvidenceFile>& files) {
    Paths paths;
    for (const EvidenceFile& file : files) paths.push_back(file.path);
    return paths;
  }
  static std::vector<std::string> Skipped(const EvidenceScan& scan) {
    std::vector<std::string> out;
    for (const SkippedEvidence& skip : scan.skipped) out.push_back(skip.path + ": " + skip.reason);
    return out;
  }

  std::string root_, workspace_, outside_;
};

TEST_F(EvidenceFilesTest, GlobSegments) {
  Put("reports/a.xml");
  Put("reports/b.xml");
  Put("reports/c.txt");
  Put("reports/.hidden.xml");
  Put("reports/sub/d.xml");
  Put("other/e.xml");
  EXPECT_EQ(PathsOf(Scan({"reports/*.xml"}).files), (Paths{"reports/a.xml", "reports/b.xml"}));
  EXPECT_EQ(PathsOf(Scan({"reports/.*.xml"}).files), (Paths{"reports/.hidden.xml"}));
  EXPECT_EQ(PathsOf(Scan({"reports/[ab].xml", "reports/?.txt"}).files),
            (Paths{"reports/a.xml", "reports/b.xml", "reports/c.txt"}));
  EXPECT_EQ(PathsOf(Scan({"*/*.xml"}).files),
            (Paths{"other/e.xml", "reports/a.xml", "reports/b.xml"}));
  EXPECT_EQ(PathsOf(Scan({"reports/sub/d.xml", "missing/x.xml", "reports/none.xml"}).files),
            (Paths{"reports/sub/d.xml"}));
  // Two patterns naming one file: listed once.
  EXPECT_EQ(PathsOf(Scan({"reports/a.xml", "reports/*.xml", "**/a.xml"}).files),
            (Paths{"reports/a.xml", "reports/b.xml"}));
}

TEST_F(EvidenceFilesTest, GlobStar) {
  Put("top.xml");
  Put("reports/a.xml");
  Put("reports/sub/deeper/b.xml");
  Put(".cache/c.xml");
  Put(".git/reports/d.xml");
  Put("reports/.e.xml");
  EXPECT_EQ(PathsOf(Scan({"**/*.xml"}).files),
            (Paths{".cache/c.xml", "reports/a.xml", "reports/sub/deeper/b.xml", "top.xml"}));
  EXPECT_EQ(PathsOf(Scan({"**/top.xml"}).files), (Paths{"top.xml"}));
  EXPECT_EQ(PathsOf(Scan({"reports/**/*.xml"}).files),
            (Paths{"reports/a.xml", "reports/sub/deeper/b.xml"}));
  EXPECT_EQ(PathsOf(Scan({"reports/**"}).files),
            (Paths{"reports/a.xml", "reports/sub/deeper/b.xml"}));
  EXPECT_EQ(PathsOf(Scan({"**/**/**/b.xml"}).files), (Paths{"reports/sub/deeper/b.xml"}));
  // .git is entered only when the pattern names it.
  EXPECT_EQ(PathsOf(Scan({".git/**/*.xml"}).files), (Paths{".git/reports/d.xml"}));
}

TEST_F(EvidenceFilesTest, HashSizeContentAndTime) {
  Put("r/a.xml", "hello\n");
  Put("r/empty.xml", "");
  EvidenceScan scan = Scan({"r/*.xml"});
  ASSERT_EQ(scan.files.size(), 2u);
  EXPECT_EQ(scan.files[0].path, "r/a.xml");
  EXPECT_EQ(scan.files[0].size, 6u);
  EXPECT_EQ(scan.files[0].sha256, kHelloSha256);
  EXPECT_FALSE(scan.files[0].content.has_value());
  EXPECT_EQ(scan.files[1].sha256,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  struct stat st;
  ASSERT_EQ(stat((workspace_ + "/r/a.xml").c_str(), &st), 0);
  EXPECT_EQ(scan.files[0].mtime_ns, st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec);

  EvidenceOptions options;
  options.read_content = true;
  scan = Scan({"r/a.xml"}, options);
  ASSERT_EQ(scan.files.size(), 1u);
  EXPECT_EQ(scan.files[0].content, "hello\n");
  EXPECT_FALSE(scan.bounds.Any());
}

TEST_F(EvidenceFilesTest, SymlinkToFileOutsideSkipped) {
  Put("reports/real.xml");
  fs::create_symlink(outside_ + "/secret.xml", workspace_ + "/reports/evil.xml");
  fs::create_symlink("../../outside/secret.xml", workspace_ + "/reports/relative.xml");
  fs::create_symlink(outside_ + "/secret.xml", workspace_ + "/top.xml");
  EvidenceOptions options;
  options.read_content = true;
  EvidenceScan scan = Scan({"reports/*.xml", "top.xml", "**/*.xml"}, options);
  EXPECT_EQ(PathsOf(scan.files), (Paths{"reports/real.xml"}));
  EXPECT_EQ(Skipped(scan), (std::vector<std::string>{
                               "reports/evil.xml: symbolic link, not followed",
                               "reports/relative.xml: symbolic link, not followed",
                               "top.xml: symbolic link, not followed",
                           }));
}

TEST_F(EvidenceFilesTest, SymlinkToDirectoryOutsideSkipped) {
  Put("reports/real.xml");
  fs::create_directory_symlink(outside_, workspace_ + "/linked");
  fs::create_directory_symlink(outside_, workspace_ + "/reports/nested");
  EvidenceOptions options;
  options.read_content = true;
  // Named by a pattern segment (literal or glob): reported. Met while `**` descends: not
  // followed, not reported.
  EvidenceScan scan = Scan({"linked/secret.xml", "l*/*.xml", "**/secret.xml", "**/*.xml"}, options);
  EXPECT_EQ(PathsOf(scan.files), (Paths{"reports/real.xml"}));
  EXPECT_EQ(Skipped(scan), (std::vector<std::string>{"linked: symbolic link, not followed"}));
}

TEST_F(EvidenceFilesTest, WorkspaceItselfMayBeASymlink) {
  Put("a.xml");
  fs::create_directory_symlink(workspace_, root_ + "/ws-link");
  EvidenceResult result = FindEvidence(root_ + "/ws-link", {"*.xml"});
  ASSERT_TRUE(result.scan) << result.error;
  EXPECT_EQ(PathsOf(result.scan->files), (Paths{"a.xml"}));
}

TEST_F(EvidenceFilesTest, FifoDoesNotBlock) {
  fs::create_directories(workspace_ + "/reports");
  ASSERT_EQ(mkfifo((workspace_ + "/reports/junit.xml").c_str(), 0600), 0);
  ASSERT_EQ(mkfifo((workspace_ + "/fifo.xml").c_str(), 0600), 0);
  fs::create_directories(workspace_ + "/reports/dir.xml");
  Put("reports/real.xml");
  alarm(20);  // a walk that blocks on the FIFO ends the test binary instead of hanging it
  EvidenceScan scan = Scan({"reports/*.xml", "fifo.xml"});
  alarm(0);
  EXPECT_EQ(PathsOf(scan.files), (Paths{"reports/real.xml"}));
  EXPECT_EQ(Skipped(scan), (std::vector<std::string>{
                               "fifo.xml: a FIFO, not a regular file",
                               "reports/dir.xml: a directory, not a regular file",
                               "reports/junit.xml: a FIFO, not a regular file",
                           }));
}

TEST_F(EvidenceFilesTest, StaleFilesSetApart) {
  Put("reports/old.xml", "from an earlier run\n");
  Put("reports/new.xml");
  struct timespec times[2] = {{1'000'000'000, 0}, {1'000'000'000, 5}};  // 2001
  ASSERT_EQ(utimensat(AT_FDCWD, (workspace_ + "/reports/old.xml").c_str(), times, 0), 0);
  EvidenceOptions options;
  options.read_content = true;
  options.modified_since_ns = 1'000'000'000LL * 1'000'000'000LL + 6;
  EvidenceScan scan = Scan({"reports/*.xml"}, options);
  EXPECT_EQ(PathsOf(scan.files), (Paths{"reports/new.xml"}));
  ASSERT_EQ(scan.stale.size(), 1u);
  EXPECT_EQ(scan.stale[0].path, "reports/old.xml");
  EXPECT_EQ(scan.stale[0].mtime_ns, 1'000'000'000LL * 1'000'000'000LL + 5);
  EXPECT_EQ(scan.stale[0].size, 20u);
  EXPECT_EQ(scan.stale[0].sha256, "");
  EXPECT_FALSE(scan.stale[0].content.has_value());

  // At the boundary the file counts.
  options.modified_since_ns = 1'000'000'000LL * 1'000'000'000LL + 5;
  scan = Scan({"reports/*.xml"}, options);
  EXPECT_EQ(PathsOf(scan.files), (Paths{"reports/new.xml", "reports/old.xml"}));
  EXPECT_TRUE(scan.stale.empty());
}

TEST_F(EvidenceFilesTest, MatchBound) {
  for (int i = 0; i < 5; ++i) Put("r/" + std::to_string(i) + ".xml");
  EvidenceOptions options;
  options.limits.max_matches = 3;
  EvidenceScan scan = Scan({"r/*.xml"}, options);
  EXPECT_EQ(PathsOf(scan.files), (Paths{"r/0.xml", "r/1.xml", "r/2.xml"}));
  EXPECT_TRUE(scan.bounds.matches);
  EXPECT_EQ(scan.bounds.Describe(options.limits), "3 matches");
}

TEST_F(EvidenceFilesTest, EntryBound) {
  for (int i = 0; i < 10; ++i) Put("r/" + std::to_string(i) + ".txt");
  Put("r/z.xml");
  EvidenceOptions options;
  options.limits.max_entries = 5;
  EvidenceScan scan = Scan({"**/*.xml"}, options);
  EXPECT_TRUE(scan.files.empty());
  EXPECT_TRUE(scan.bounds.entries);
  EXPECT_FALSE(scan.bounds.matches);
  EXPECT_EQ(scan.bounds.Describe(options.limits), "5 directory entries");
}

TEST_F(EvidenceFilesTest, DepthBound) {
  Put("1/2/3/shallow.xml");
  Put("1/2/3/4/deep.xml");
  EvidenceOptions options;
  options.limits.max_depth = 3;
  EvidenceScan scan = Scan({"**/*.xml"}, options);
  EXPECT_EQ(PathsOf(scan.files), (Paths{"1/2/3/shallow.xml"}));
  EXPECT_TRUE(scan.bounds.depth);
  scan = Scan({"1/2/3/4/deep.xml"}, options);
  EXPECT_TRUE(scan.files.empty());
  EXPECT_TRUE(scan.bounds.depth);
  options.limits.max_depth = 4;
  EXPECT_EQ(PathsOf(Scan({"**/*.xml"}, options).files),
            (Paths{"1/2/3/4/deep.xml", "1/2/3/shallow.xml"}));
}

TEST_F(EvidenceFilesTest, ByteBounds) {
  Put("r/a.xml", std::string(10, 'a'));
  Put("r/b.xml", std::string(11, 'b'));
  Put("r/c.xml", std::string(10, 'c'));
  EvidenceOptions options;
  options.limits.max_file_bytes = 10;
  EvidenceScan scan = Scan({"r/*.xml"}, options);
  EXPECT_EQ(PathsOf(scan.files), (Paths{"r/a.xml", "r/c.xml"}));
  EXPECT_EQ(Skipped(scan), (std::vector<std::string>{"r/b.xml: larger than 10 bytes, not read"}));
  EXPECT_TRUE(scan.bounds.file_bytes);
  EXPECT_FALSE(scan.bounds.total_bytes);

  options.limits.max_file_bytes = 100;
  options.limits.max_total_bytes = 15;
  scan = Scan({"r/*.xml"}, options);
  EXPECT_EQ(PathsOf(scan.files), (Paths{"r/a.xml"}));
  EXPECT_EQ(Skipped(scan),
            (std::vector<std::string>{"r/b.xml: not read: 15 bytes were read in all"}));
  EXPECT_TRUE(scan.bounds.total_bytes);
  EXPECT_EQ(scan.bounds.Describe(options.limits), "15 bytes read in all");
}

TEST_F(EvidenceFilesTest, BadPatternsRefused) {
  EXPECT_EQ(CheckEvidencePattern("reports/**/*.xml"), "");
  EXPECT_EQ(CheckEvidencePattern(""), "empty pattern");
  EXPECT_EQ(CheckEvidencePattern("/etc/passwd"),
            "absolute: patterns are relative to the workspace");
  EXPECT_EQ(CheckEvidencePattern("../x.xml"),
            "a \"..\" segment: patterns stay inside the workspace");
  EXPECT_EQ(CheckEvidencePattern("a/../../b"),
            "a \"..\" segment: patterns stay inside the workspace");
  EXPECT_EQ(CheckEvidencePattern("a//b"), "an empty segment (\"//\" or a trailing '/')");
  EXPECT_EQ(CheckEvidencePattern("a/"), "an empty segment (\"//\" or a trailing '/')");
  EXPECT_EQ(CheckEvidencePattern("./a"), "a \".\" segment");
  EXPECT_EQ(CheckEvidencePattern(std::string("a\0b", 3)), "a NUL byte");

  // Every bad pattern is named, and nothing is read.
  EvidenceResult result = FindEvidence(workspace_, {"ok/*.xml", "/abs", "x/../y"});
  EXPECT_FALSE(result.scan.has_value());
  EXPECT_EQ(result.error,
            "pattern \"/abs\": absolute: patterns are relative to the workspace; pattern "
            "\"x/../y\": a \"..\" segment: patterns stay inside the workspace");
}

TEST_F(EvidenceFilesTest, WorkspaceByDescriptor) {
  Put("a.xml");
  int fd = open(workspace_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EvidenceResult result = FindEvidence(fd, {"*.xml"});
  ASSERT_TRUE(result.scan) << result.error;
  EXPECT_EQ(PathsOf(result.scan->files), (Paths{"a.xml"}));
  EXPECT_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);  // still open: not the walk's to close
  close(fd);

  result = FindEvidence(root_ + "/missing", {"*.xml"});
  EXPECT_FALSE(result.scan.has_value());
  EXPECT_EQ(result.error,
            "cannot open the workspace " + root_ + "/missing: No such file or directory");
}

}  // namespace
}  // namespace tollgate::governance
