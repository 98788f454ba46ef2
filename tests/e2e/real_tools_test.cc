// The shipped profiles work for real tools: a C build with cmake and make, git, python3, node and
// npm — and still refuse what each profile refuses.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "tests/e2e/e2e_support.h"

namespace tollgate::e2e {
namespace {

using ::testing::HasSubstr;

bool Installed(const char* path) {
  return access(path, X_OK) == 0;
}

void WriteCProject(const Scratch& scratch) {
  escapes::WriteFile(scratch / "CMakeLists.txt",
                     "cmake_minimum_required(VERSION 3.16)\nproject(hello C)\nenable_testing()\n"
                     "add_executable(hello hello.c)\nadd_test(NAME says-hello COMMAND hello)\n");
  escapes::WriteFile(scratch / "hello.c",
                     "#include <stdio.h>\nint main(void) { puts(\"hello from the sandbox\"); "
                     "return 0; }\n");
  escapes::WriteFile(scratch / "Makefile", "hello2: hello.c\n\tcc -o hello2 hello.c\n");
}

TEST(RealTools, WorkspaceWriteBuildsWithCmakeAndMakeAndRunsTheResult) {
  if (!Installed("/usr/bin/cmake") || !Installed("/usr/bin/cc")) GTEST_SKIP() << "no cmake or cc";
  Scratch scratch;
  WriteCProject(scratch);
  scratch.Handover();
  RunOutput run = Tollgate({"run", "--profile", "workspace-write", "--workspace", scratch.path(),
                            "--", "/bin/sh", "-c",
                            "cmake -S . -B build >/dev/null && cmake --build build >/dev/null && "
                            "./build/hello && make -s hello2 && ./hello2"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_THAT(run.out, HasSubstr("hello from the sandbox\nhello from the sandbox"));
  EXPECT_EQ(access((scratch / "build/hello").c_str(), X_OK), 0);
}

TEST(RealTools, TestRunnerBuildsAndTestsInBuildButCannotTouchTheSources) {
  if (!Installed("/usr/bin/cmake") || !Installed("/usr/bin/cc")) GTEST_SKIP() << "no cmake or cc";
  Scratch scratch;
  WriteCProject(scratch);
  Host("mkdir " + scratch / "build");
  scratch.Handover();
  RunOutput run = Tollgate({"run", "--profile", "test-runner", "--workspace", scratch.path(), "--",
                            "/bin/sh", "-c",
                            "cmake -S . -B build >/dev/null && cmake --build build >/dev/null && "
                            "ctest --test-dir build 2>&1 | tail -n 3"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_THAT(run.out, HasSubstr("100% tests passed"));

  RunOutput write = Tollgate({"run", "--profile", "test-runner", "--workspace", scratch.path(),
                              "--", "/bin/sh", "-c", "echo x >> hello.c"});
  EXPECT_NE(write.exit_code, 0);
  EXPECT_THAT(write.err, HasSubstr("Read-only file system"));
  EXPECT_EQ(escapes::ReadFile(scratch / "hello.c").find('x' + std::string("\n")),
            std::string::npos);
}

TEST(RealTools, ReadOnlyCanInspectWithGitButNotChangeAnything) {
  Scratch scratch;
  ASSERT_EQ(Host("cd " + scratch.path() +
                 " && git init -q && echo a > a && git add a && "
                 "git -c user.name=t -c user.email=t@t commit -qm inspected-commit && echo b >> a"),
            0);
  scratch.Handover();
  RunOutput run = Tollgate({"run", "--profile", "read-only", "--workspace", scratch.path(), "--",
                            "/bin/sh", "-c", "git log --oneline && git diff --stat"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("inspected-commit"));
  EXPECT_THAT(run.out, HasSubstr("1 file changed"));
  RunOutput change = Tollgate({"run", "--profile", "read-only", "--workspace", scratch.path(), "--",
                               "/bin/sh", "-c", "echo c > new-file"});
  EXPECT_NE(change.exit_code, 0);
  EXPECT_NE(access((scratch / "new-file").c_str(), F_OK), 0);
}

TEST(RealTools, Python3Runs) {
  if (!Installed("/usr/bin/python3")) GTEST_SKIP() << "no /usr/bin/python3";
  Scratch scratch;
  scratch.Handover();
  RunOutput run =
      Tollgate({"run", "--profile", "workspace-write", "--workspace", scratch.path(), "--",
                "/usr/bin/python3", "-c",
                "import json, sqlite3, ssl; print(json.dumps({'sum': sum(range(10))}))"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("{\"sum\": 45}"));
}

TEST(RealTools, NodeAndNpmTestRun) {
  if (!Installed("/usr/bin/node") || !Installed("/usr/bin/npm")) GTEST_SKIP() << "no node/npm";
  Scratch scratch;
  escapes::WriteFile(scratch / "package.json",
                     "{\"name\": \"demo\", \"version\": \"1.0.0\", \"private\": true,"
                     " \"scripts\": {\"test\": \"node test.js\"}}\n");
  escapes::WriteFile(scratch / "test.js",
                     "const assert = require('assert');\nassert.strictEqual(1 + 1, 2);\n"
                     "console.log('node test passed');\n");
  scratch.Handover();
  RunOutput run = Tollgate(
      {"run", "--profile", "workspace-write", "--workspace", scratch.path(), "--", "npm", "test"},
      "", {}, "", 180);
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_THAT(run.out, HasSubstr("node test passed"));
}

TEST(RealTools, ALocalServerWorksInsideANetworkNoneSandbox) {
  if (!Installed("/usr/bin/python3")) GTEST_SKIP() << "no /usr/bin/python3";
  Scratch scratch;
  scratch.Handover();
  // Test suites start servers on loopback; the sandbox's own loopback must serve them.
  RunOutput run = Tollgate({"run", "--profile", "workspace-write", "--workspace", scratch.path(),
                            "--", "/usr/bin/python3", "-c",
                            "import socket\n"
                            "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
                            "c = socket.create_connection(s.getsockname()); a, _ = s.accept()\n"
                            "c.sendall(b'ping'); print('served', a.recv(4).decode())\n"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("served ping"));
}

}  // namespace
}  // namespace tollgate::e2e
