// The request of `tollgate run` to `tollgate serve`, and what makes a prepared sandbox stale.
#include "supervisor/serve_protocol.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "supervisor/profile_inputs.h"

namespace tollgate::serve {
namespace {

RunRequest Example() {
  RunRequest request;
  request.executable = "2049:1234:5000:1.5";
  request.options = {"run", "--profile", "test-runner", "--workspace", std::string("a\0b", 3)};
  request.cwd = "/work space";
  request.env = {"PATH=/usr/bin:/bin", "HOME=/home/ann", "EMPTY="};
  request.stderr_is_terminal = true;
  request.command = {"make", "test"};
  return request;
}

TEST(ServeProtocol, ARequestArrivesIntact) {
  const RunRequest sent = Example();
  RunRequest got;
  ASSERT_TRUE(DecodeRequest(EncodeRequest(sent), &got));
  EXPECT_EQ(got.executable, sent.executable);
  EXPECT_EQ(got.options, sent.options);
  EXPECT_EQ(got.cwd, sent.cwd);
  EXPECT_EQ(got.env, sent.env);
  EXPECT_TRUE(got.stderr_is_terminal);
  EXPECT_EQ(got.command, sent.command);
}

TEST(ServeProtocol, ATruncatedOrPaddedRequestIsRefused) {
  const std::string bytes = EncodeRequest(Example());
  RunRequest got;
  for (std::size_t size = 0; size < bytes.size(); ++size)
    EXPECT_FALSE(DecodeRequest(bytes.substr(0, size), &got)) << size;
  EXPECT_FALSE(DecodeRequest(bytes + "x", &got));
}

TEST(ServeProtocol, TheKeyIsEverythingButTheCommand) {
  const RunRequest base = Example();
  RunRequest other_command = base;
  other_command.command = {"true"};
  EXPECT_EQ(RequestKey(base), RequestKey(other_command));

  std::vector<RunRequest> different(5, base);
  different[0].executable += "1";
  different[1].options.push_back("--ci");
  different[2].cwd += "/sub";
  different[3].env.push_back("EXTRA=1");
  different[4].stderr_is_terminal = false;
  for (const RunRequest& changed : different) EXPECT_NE(RequestKey(changed), RequestKey(base));
  // Order counts: the environment is the client's, exactly.
  RunRequest reordered = base;
  std::swap(reordered.env[0], reordered.env[1]);
  EXPECT_NE(RequestKey(reordered), RequestKey(base));
}

TEST(ServeProtocol, AFrameCarriesItsBytesAndFds) {
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  const std::string bytes(100000, 'x');  // more than one read
  const int fds[3] = {0, 1, 2};
  std::thread sender([&] { EXPECT_TRUE(SendFrame(pair[0], bytes, fds, 3).ok); });
  std::string got;
  int received[4] = {-1, -1, -1, -1};
  int count = 0;
  ASSERT_TRUE(ReceiveFrame(pair[1], kMaxRequestBytes, &got, received, 4, &count));
  sender.join();
  EXPECT_EQ(got, bytes);
  ASSERT_EQ(count, 3);
  for (int i = 0; i < count; ++i) ::close(received[i]);
  // Larger than the receiver takes: refused, and its fds closed.
  std::thread big([&] { (void)SendFrame(pair[0], bytes, fds, 3); });
  EXPECT_FALSE(ReceiveFrame(pair[1], 1000, &got, received, 4, &count));
  EXPECT_EQ(count, 0);
  ::close(pair[1]);
  big.join();
  ::close(pair[0]);
}

TEST(ServeProtocol, TheSocketPathFollowsTheVariable) {
  ::setenv("TOLLGATE_SERVE_SOCKET", "/tmp/x/serve.sock", 1);
  EXPECT_EQ(SocketPath(), "/tmp/x/serve.sock");
  ::setenv("TOLLGATE_SERVE_SOCKET", "off", 1);
  EXPECT_EQ(SocketPath(), "");
  ::unsetenv("TOLLGATE_SERVE_SOCKET");
  EXPECT_FALSE(SocketPath().empty());
}

class ProfileInputsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/tollgate-inputs.XXXXXX";
    ASSERT_NE(::mkdtemp(templ), nullptr);
    dir_ = templ;
  }
  void TearDown() override { (void)!std::system(("rm -rf '" + dir_ + "'").c_str()); }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/" + name) << text;
  }
  std::string dir_;
};

TEST_F(ProfileInputsTest, AnEditedFileIsAChange) {
  Write("p.json", "{\"a\": 1}");
  const ProfileInputs inputs = ProfileInputs::Capture({dir_ + "/p.json"});
  EXPECT_TRUE(inputs.Unchanged());
  Write("p.json", "{\"a\": 22}");
  EXPECT_EQ(inputs.FirstChanged(), dir_ + "/p.json");
}

TEST_F(ProfileInputsTest, AProfileAppearingWhereNoneWasIsAChange) {
  // The search directory does not exist yet: only its appearing changes anything.
  const ProfileInputs inputs = ProfileInputs::Capture({dir_ + "/.tollgate/profiles"});
  EXPECT_TRUE(inputs.Unchanged());
  ASSERT_EQ(::mkdir((dir_ + "/.tollgate").c_str(), 0755), 0);
  Write("unrelated.txt", "x");
  EXPECT_TRUE(inputs.Unchanged());
  ASSERT_EQ(::mkdir((dir_ + "/.tollgate/profiles").c_str(), 0755), 0);
  EXPECT_EQ(inputs.FirstChanged(), dir_ + "/.tollgate/profiles");

  const ProfileInputs existing = ProfileInputs::Capture({dir_ + "/.tollgate"});
  EXPECT_TRUE(existing.Unchanged());
  // Directory times are as fine as the file system's clock: make sure it moves on.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  Write(".tollgate/new.json", "{}");
  EXPECT_FALSE(existing.Unchanged());
}

TEST_F(ProfileInputsTest, AReplacedFileIsAChangeEvenWithTheSameText) {
  Write("p.json", "{}");
  const ProfileInputs inputs = ProfileInputs::Capture({dir_ + "/p.json"});
  Write("q.json", "{}");
  ASSERT_EQ(::rename((dir_ + "/q.json").c_str(), (dir_ + "/p.json").c_str()), 0);
  EXPECT_FALSE(inputs.Unchanged());
}

}  // namespace
}  // namespace tollgate::serve
