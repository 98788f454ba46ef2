// Network policy end to end (SECURITY.md 25-26): network mode proxy with real clients — curl,
// git over HTTP, npm, pip — reaching local servers on the host's loopback (netservers.py) only
// through the supervisor's proxies; every bypass class of SECURITY.md 26 as its own test; mode
// none and mode host; host unix sockets passed in by path; the proxy's limits.
//
// The servers listen on the host's 127.0.0.1. A sandbox's loopback is its own, so a direct
// connection from the sandbox never reaches them (each test that needs it shows so); through
// the proxy they are reachable only when a rule names 127.0.0.1 explicitly, because a name that
// resolves to loopback is otherwise refused. The tests use the name "localhost" (in every
// /etc/hosts) for a name that resolves to loopback, and, as root, a private /etc/hosts for names
// that resolve to metadata, private and link-local addresses.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/e2e/e2e_support.h"

namespace tollgate::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;

// Clients in the sandbox find the proxy in the environment; these tests reach the host's servers
// by the name "localhost", which the environment's NO_PROXY (rightly) keeps off the proxy.
constexpr char kThroughProxy[] = "unset NO_PROXY no_proxy npm_config_noproxy; ";

// netservers.py, started for one test: HTTP, TLS, an npm registry, a PyPI index, a git
// repository, each on its own port of the host's 127.0.0.1.
class NetServers {
 public:
  explicit NetServers(const std::string& tls_dir) {
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      const std::string script = escapes::BinDir() + "/netservers.py";
      execl("/usr/bin/python3", "python3", script.c_str(), "--tls-dir", tls_dir.c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    stdin_ = in[1];
    FILE* reader = fdopen(out[0], "r");
    char line[4096] = {};
    if (reader != nullptr && fgets(line, sizeof line, reader) != nullptr) {
      Json info = Json::parse(line, nullptr, false);
      if (info.is_object()) {
        http = info.value("http", 0);
        tls = info.value("tls", 0);
        npm = info.value("npm", 0);
        pypi = info.value("pypi", 0);
        git = info.value("git", 0);
        ca_file = info.value("ca_file", "");
        git_head = info.value("git_head", "");
        fixture_text = info.value("fixture_text", "");
      }
    }
    if (reader != nullptr) fclose(reader);
  }
  ~NetServers() {
    if (stdin_ >= 0) close(stdin_);  // EOF on its stdin stops it
    if (pid_ > 0) waitpid(pid_, nullptr, 0);
  }
  bool ok() const { return http > 0 && tls > 0 && npm > 0 && pypi > 0 && git > 0; }

  int http = 0, tls = 0, npm = 0, pypi = 0, git = 0;
  std::string ca_file, git_head, fixture_text;

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
};

// One test's world: a workspace (holding the servers' CA file) and, beside it, the audit log and
// the profile, whose network section each run gives.
class NetWorld {
 public:
  NetWorld() : servers_(ws_ / "tls") { ws_.Handover(); }

  bool ok() const { return servers_.ok(); }
  const NetServers& servers() const { return servers_; }
  const std::string& ws() const { return ws_.path(); }
  std::string log() const { return side_ / "audit"; }

  std::string WriteProfile(const Json& network) const {
    const std::string bin = escapes::BinDir();
    Json profile = {{"name", "net-e2e"},
                    {"description", "network tests: the profile's network section is the test's"},
                    {"extends", {"base"}},
                    {"filesystem",
                     {{"read", {bin}}, {"write", {"{workspace}"}}, {"exec", {"{workspace}", bin}}}},
                    {"network", network}};
    const std::string path = side_ / "net-e2e.json";
    escapes::WriteFile(path, profile.dump(2));
    return path;
  }

  // Runs `script` with /bin/sh -c in the workspace under the profile with `network`.
  RunOutput Run(const Json& network, const std::string& script,
                const std::vector<std::string>& wrapper = {}) const {
    return TollgateUnder(wrapper,
                         {"run", "--profile", WriteProfile(network), "--workspace", ws(),
                          "--audit-log", log(), "--", "/bin/sh", "-c", script},
                         "", {}, ws());
  }

  std::vector<Json> Records(const std::string& kind) const {
    return OfKind(ReadAuditLog(log()), kind);
  }

 private:
  Scratch ws_;
  Scratch side_;
  NetServers servers_;
};

std::string Port(int port) {
  return std::to_string(port);
}

std::string NetClient(const std::string& args) {
  return escapes::BinDir() + "/probe-netclient " + args;
}

// The records of kind net.connect with this verdict.
std::vector<Json> Connects(const NetWorld& w, const std::string& verdict) {
  std::vector<Json> out;
  for (const Json& r : w.Records("net.connect")) {
    if (r["verdict"] == verdict) out.push_back(r);
  }
  return out;
}

// Loopback is reachable through the proxy only when a rule names it.
Json LocalhostAllowed() {
  return {{"mode", "proxy"}, {"allow", {"localhost", "127.0.0.1"}}};
}

// ---- allowed names work with real clients -----------------------------------------------------

TEST(Network, CurlReachesAnAllowedNameOverHttpAndThroughAConnectTunnel) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  NetWorld w;
  ASSERT_TRUE(w.ok());
  const std::string http = "http://localhost:" + Port(w.servers().http) + "/echo";
  const std::string https = "https://localhost:" + Port(w.servers().tls) + "/echo";
  RunOutput run = w.Run(LocalhostAllowed(), std::string(kThroughProxy) + "curl -sS " + http +
                                                " && echo && curl -sS --cacert " + w.ws() +
                                                "/tls/ca.pem " + https +
                                                " && echo && echo DIRECT: && "
                                                "curl -sS --noproxy '*' " +
                                                http + "; echo rc=$?");
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  // The plain request reached the server in origin-form with its Host header; the https one
  // went through a CONNECT tunnel, TLS end to end.
  EXPECT_THAT(run.out, HasSubstr("\"path\": \"/echo\""));
  EXPECT_THAT(run.out, HasSubstr("\"host\": \"localhost:" + Port(w.servers().http) + "\""));
  EXPECT_THAT(run.out, HasSubstr("\"tls\": true"));
  // Control: without the proxy the host's server is out of reach (the sandbox's loopback is
  // its own).
  EXPECT_THAT(run.out, HasSubstr("rc=7"));

  std::vector<Json> allowed = Connects(w, "allow");
  ASSERT_EQ(allowed.size(), 2u);
  EXPECT_EQ(allowed[0]["details"]["protocol"], "http");
  EXPECT_EQ(allowed[0]["details"]["host"], "localhost");
  EXPECT_EQ(allowed[0]["details"]["port"], w.servers().http);
  EXPECT_EQ(allowed[0]["details"]["ip"], "127.0.0.1");
  EXPECT_EQ(allowed[1]["details"]["protocol"], "connect");
  std::vector<Json> closed = w.Records("net.close");
  ASSERT_EQ(closed.size(), 2u);
  for (const Json& c : closed) {
    EXPECT_GT(c["details"]["bytes_in"].get<std::uint64_t>(), 100u) << c.dump();
    EXPECT_GT(c["details"]["bytes_out"].get<std::uint64_t>(), 50u) << c.dump();
    EXPECT_GT(c["details"]["duration_ns"].get<std::int64_t>(), 0) << c.dump();
  }
}

TEST(Network, GitClonesOverHttpThroughTheProxy) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  NetWorld w;
  ASSERT_TRUE(w.ok());
  RunOutput run =
      w.Run(LocalhostAllowed(), std::string(kThroughProxy) +
                                    "git clone -q http://localhost:" + Port(w.servers().git) +
                                    "/repo.git clone && git -C clone rev-parse HEAD");
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_THAT(run.out, HasSubstr(w.servers().git_head));
  EXPECT_FALSE(Connects(w, "allow").empty());
}

TEST(Network, NpmInstallsFromARegistryThroughTheProxy) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  if (access("/usr/bin/npm", X_OK) != 0) GTEST_SKIP() << "npm is not installed";
  NetWorld w;
  ASSERT_TRUE(w.ok());
  RunOutput run =
      w.Run(LocalhostAllowed(),
            std::string(kThroughProxy) +
                "mkdir app && cd app && npm_config_update_notifier=false npm install --no-audit "
                "--no-fund --registry http://localhost:" +
                Port(w.servers().npm) +
                "/ tollgate-fixture >/dev/null && node -e "
                "'console.log(require(\"tollgate-fixture\"))'");
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_THAT(run.out, HasSubstr(w.servers().fixture_text));
}

TEST(Network, PipDownloadsFromAnIndexThroughTheProxy) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  NetWorld w;
  ASSERT_TRUE(w.ok());
  RunOutput run =
      w.Run(LocalhostAllowed(),
            std::string(kThroughProxy) +
                "/usr/bin/python3 -m pip --isolated download --no-cache-dir -q --index-url "
                "http://localhost:" +
                Port(w.servers().pypi) + "/simple/ tollgate-fixture -d wheels && ls wheels");
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_THAT(run.out, HasSubstr("tollgate_fixture-1.0.0-py3-none-any.whl"));
}

TEST(Network, SocksCarriesAnAllowedNameAndRefusesAnother) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  NetWorld w;
  ASSERT_TRUE(w.ok());
  RunOutput run =
      w.Run(LocalhostAllowed(),
            std::string(kThroughProxy) +
                "curl -sS -x socks5h://127.0.0.1:1080 http://localhost:" + Port(w.servers().http) +
                "/echo && echo; curl -sS -x socks5h://127.0.0.1:1080 "
                "http://denied.test/; echo rc=$?");
  EXPECT_THAT(run.out, HasSubstr("\"path\": \"/echo\"")) << run.err;
  EXPECT_THAT(run.out, HasSubstr("rc=97"));  // curl: the SOCKS server refused
  std::vector<Json> denied = Connects(w, "deny");
  ASSERT_EQ(denied.size(), 1u);
  EXPECT_EQ(denied[0]["details"]["protocol"], "socks5");
  EXPECT_EQ(denied[0]["details"]["host"], "denied.test");
  EXPECT_EQ(denied[0]["rule"], "default");
}

// ---- refusals explain themselves --------------------------------------------------------------

TEST(Network, ADeniedNameGets403NamingTheHostProfileAndRuleAndADenyRecord) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  NetWorld w;
  ASSERT_TRUE(w.ok());
  Json network = LocalhostAllowed();
  network["deny"] = {"blocked.test"};
  network["allow"].push_back("*.test");
  RunOutput run =
      w.Run(network, "curl -sS -i http://blocked.test/x; curl -sS -i http://other.example/");
  EXPECT_THAT(run.out, HasSubstr("HTTP/1.1 403"));
  EXPECT_THAT(run.out, HasSubstr("blocked.test:80 refused by profile net-e2e"));
  EXPECT_THAT(run.out, HasSubstr("(rule blocked.test)"));
  EXPECT_THAT(run.out, HasSubstr("other.example:80 refused by profile net-e2e"));
  EXPECT_THAT(run.out, HasSubstr("(rule default)"));
  std::vector<Json> denied = Connects(w, "deny");
  ASSERT_EQ(denied.size(), 2u);
  EXPECT_EQ(denied[0]["rule"], "blocked.test");  // deny wins over the allow of *.test
  EXPECT_EQ(denied[0]["details"]["host"], "blocked.test");
  EXPECT_EQ(denied[0]["details"]["port"], 80);
  EXPECT_EQ(denied[1]["rule"], "default");
  EXPECT_TRUE(w.Records("net.close").empty()) << "nothing was connected";
}

// ---- SECURITY.md 26: every bypass class -------------------------------------------------------

TEST(NetworkBypass, ANameThatResolvesToLoopbackIsRefusedUnlessTheAddressIsNamed) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  NetWorld w;
  ASSERT_TRUE(w.ok());
  const std::string url = "http://localhost:" + Port(w.servers().http) + "/echo";
  RunOutput refused = w.Run({{"mode", "proxy"}, {"allow", {"localhost"}}},
                            std::string(kThroughProxy) + "curl -sS -i " + url);
  EXPECT_THAT(refused.out, HasSubstr("HTTP/1.1 403"));
  EXPECT_THAT(refused.out, HasSubstr("loopback"));
  std::vector<Json> denied = Connects(w, "deny");
  ASSERT_EQ(denied.size(), 1u);
  EXPECT_EQ(denied[0]["details"]["addresses"][0]["class"], "loopback");
  // Control: the same request with the address named.
  RunOutput allowed = w.Run(LocalhostAllowed(), std::string(kThroughProxy) + "curl -sS " + url);
  EXPECT_THAT(allowed.out, HasSubstr("\"path\": \"/echo\""));
}

TEST(NetworkBypass, NamesResolvingToMetadataPrivateAndLinkLocalAddressesAreRefused) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  if (geteuid() != 0)
    GTEST_SKIP() << "needs a private /etc/hosts (a mount namespace of root's); the root run "
                    "covers it, and the address classes are unit-tested (net_rules_test)";
  NetWorld w;
  ASSERT_TRUE(w.ok());
  const std::string hosts = w.ws() + "/hosts";
  escapes::WriteFile(hosts,
                     "127.0.0.1 localhost\n169.254.169.254 meta.test\nfd00:ec2::254 meta6.test\n"
                     "10.20.30.40 private.test\n169.254.7.7 linklocal.test\n"
                     "::ffff:127.0.0.1 mapped.test\n127.0.0.1 rebind.test\n");
  const std::vector<std::string> private_hosts = {
      "/usr/bin/unshare",
      "-m",
      "/bin/sh",
      "-c",
      "mount --bind \"$1\" /etc/hosts && shift && exec \"$@\"",
      "sh",
      hosts};
  std::string script;
  for (const char* name :
       {"meta.test", "meta6.test", "private.test", "linklocal.test", "mapped.test", "rebind.test"})
    script += std::string(kThroughProxy) + "curl -sS http://" + name + ":" +
              Port(w.servers().http) + "/; echo;";
  RunOutput run = w.Run({{"mode", "proxy"}, {"allow", {"*.test"}}}, script, private_hosts);
  std::vector<Json> denied = Connects(w, "deny");
  ASSERT_EQ(denied.size(), 6u) << run.out << run.err;
  std::map<std::string, std::string> class_of;
  for (const Json& r : denied)
    class_of[r["details"]["host"]] = r["details"]["addresses"][0]["class"];
  EXPECT_EQ(class_of["meta.test"], "cloud metadata");
  EXPECT_EQ(class_of["meta6.test"], "cloud metadata");
  EXPECT_EQ(class_of["private.test"], "private");
  EXPECT_EQ(class_of["linklocal.test"], "link-local");
  EXPECT_EQ(class_of["mapped.test"], "loopback");
  EXPECT_EQ(class_of["rebind.test"], "loopback");
  EXPECT_TRUE(Connects(w, "allow").empty());
  // Control: rebind.test with its address named reaches the server.
  RunOutput control = w.Run({{"mode", "proxy"}, {"allow", {"*.test", "127.0.0.1"}}},
                            std::string(kThroughProxy) +
                                "curl -sS http://rebind.test:" + Port(w.servers().http) + "/echo",
                            private_hosts);
  EXPECT_THAT(control.out, HasSubstr("\"path\": \"/echo\"")) << control.err;
}

TEST(NetworkBypass, AnIpLiteralIsJudgedByAddressRulesOnly) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  NetWorld w;
  ASSERT_TRUE(w.ok());
  const std::string url = "http://127.0.0.1:" + Port(w.servers().http) + "/echo";
  // Name rules never admit an address, even one that a name resolves to; the decimal form of
  // 127.0.0.1 is refused as ambiguous.
  RunOutput refused = w.Run({{"mode", "proxy"}, {"allow", {"localhost", "*.test"}}},
                            std::string(kThroughProxy) + "curl -sS -i " + url + "; " +
                                NetClient("'GET http://2130706433:" + Port(w.servers().http) +
                                          "/ HTTP/1.0\\r\\n\\r\\n'"));
  EXPECT_THAT(refused.out, HasSubstr("HTTP/1.1 403"));
  std::vector<Json> denied = Connects(w, "deny");
  ASSERT_EQ(denied.size(), 2u) << refused.out;
  EXPECT_EQ(denied[0]["details"]["host"], "127.0.0.1");
  EXPECT_EQ(denied[1]["rule"], "host-name");
  RunOutput allowed = w.Run({{"mode", "proxy"}, {"allow", {"127.0.0.1"}}},
                            std::string(kThroughProxy) + "curl -sS " + url);
  EXPECT_THAT(allowed.out, HasSubstr("\"path\": \"/echo\""));
}

TEST(NetworkBypass, CaseTrailingDotAndIdnFormsAreNormalisedOnce) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  NetWorld w;
  ASSERT_TRUE(w.ok());
  const std::string port = Port(w.servers().http);
  // "LocalHost." is localhost. An HTTP request target is ASCII (RFC 3986): a raw non-ASCII name
  // there is malformed. SOCKS carries raw bytes: full-width "ｌｏｃａｌｈｏｓｔ" maps to
  // localhost under IDNA, and "bücher.test" becomes its punycode form before any rule sees it.
  RunOutput run =
      w.Run(LocalhostAllowed(),
            NetClient("-p 3128 'GET http://LocalHost.:" + port +
                      "/echo HTTP/1.1\\r\\nHost: localhost:" + port + "\\r\\n\\r\\n'") +
                "; " +
                NetClient("-p 3128 'GET http://b\xc3\xbc"
                          "cher.test/ HTTP/1.0\\r\\n\\r\\n'") +
                "; " +
                NetClient("-p 1080 '\\x05\\x01\\x00' '\\x05\\x01\\x00\\x03\\x1b"
                          "\xef\xbd\x8c\xef\xbd\x8f\xef\xbd\x83\xef\xbd\x81\xef\xbd\x8c"
                          "\xef\xbd\x88\xef\xbd\x8f\xef\xbd\x93\xef\xbd\x94\\x00\\x09'") +
                "; " +
                NetClient("-p 1080 '\\x05\\x01\\x00' '\\x05\\x01\\x00\\x03\\x0cb\xc3\xbc"
                          "cher.test\\x00\\x50'"));
  EXPECT_THAT(run.out, HasSubstr("HTTP/1.1 400"));
  std::vector<Json> allowed = Connects(w, "allow");
  ASSERT_EQ(allowed.size(), 2u) << run.out << run.err;
  EXPECT_EQ(allowed[0]["details"]["host"], "localhost");
  EXPECT_EQ(allowed[0]["details"]["requested"], "LocalHost.");
  EXPECT_EQ(allowed[1]["details"]["host"], "localhost");
  EXPECT_EQ(allowed[1]["details"]["protocol"], "socks5");
  std::vector<Json> denied = Connects(w, "deny");
  ASSERT_EQ(denied.size(), 2u);
  EXPECT_EQ(denied[0]["rule"], "request");
  EXPECT_EQ(denied[1]["details"]["host"], "xn--bcher-kva.test");  // punycode, then no rule
  EXPECT_EQ(denied[1]["rule"], "default");
}

TEST(NetworkBypass, NulAndControlCharactersInHostNamesAreRefused) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  NetWorld w;
  ASSERT_TRUE(w.ok());
  const std::string port = Port(w.servers().http);
  // SOCKS carries the name as counted bytes: "localhost\0.evil.test" is one name, and a checker
  // that stops at the NUL would see "localhost".
  RunOutput run = w.Run(
      LocalhostAllowed(),
      NetClient("-p 1080 '\\x05\\x01\\x00' '\\x05\\x01\\x00\\x03\\x14localhost\\0.evil.test" +
                std::string("\\x00\\x50'")) +
          "; " +
          NetClient(
              "-p 1080 '\\x05\\x01\\x00' '\\x05\\x01\\x00\\x03\\x0alocal\\x01host\\x00\\x50'") +
          "; " + NetClient("-p 3128 'CONNECT localhost\\0.evil.test:443 HTTP/1.1\\r\\n\\r\\n'"));
  // SOCKS reply: version 5, code 2 (not allowed by the ruleset).
  EXPECT_THAT(run.out, HasSubstr("\\x05\\x00\\x05\\x02"));
  EXPECT_THAT(run.out, HasSubstr("HTTP/1.1 400"));
  std::vector<Json> denied = Connects(w, "deny");
  ASSERT_EQ(denied.size(), 3u) << run.out;
  EXPECT_EQ(denied[0]["rule"], "host-name");
  EXPECT_EQ(denied[0]["details"]["requested"], std::string("localhost\0.evil.test", 20));
  EXPECT_EQ(denied[1]["rule"], "host-name");
  EXPECT_EQ(denied[2]["rule"], "request");
  EXPECT_TRUE(Connects(w, "allow").empty());
}

TEST(NetworkBypass, SuffixConfusionIsRefused) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  NetWorld w;
  ASSERT_TRUE(w.ok());
  RunOutput run =
      w.Run({{"mode", "proxy"}, {"allow", {"*.allowed.test", "allowed.test"}}},
            "curl -sS http://evilallowed.test/; curl -sS http://allowed.test.evil.test/;"
            " curl -sS http://sub.allowed.test/");
  std::vector<Json> denied = Connects(w, "deny");
  ASSERT_EQ(denied.size(), 2u);
  EXPECT_EQ(denied[0]["details"]["host"], "evilallowed.test");
  EXPECT_EQ(denied[1]["details"]["host"], "allowed.test.evil.test");
  // sub.allowed.test is allowed by name (it then fails to resolve: allowed, and closed with the
  // resolver's error).
  std::vector<Json> allowed = Connects(w, "allow");
  ASSERT_EQ(allowed.size(), 1u);
  EXPECT_EQ(allowed[0]["details"]["host"], "sub.allowed.test");
  EXPECT_EQ(allowed[0]["rule"], "*.allowed.test");
}

TEST(NetworkBypass, UserinfoFormsAreRefused) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  NetWorld w;
  ASSERT_TRUE(w.ok());
  const std::string port = Port(w.servers().http);
  RunOutput run = w.Run(
      LocalhostAllowed(),
      NetClient("'GET http://evil.test@localhost:" + port + "/ HTTP/1.0\\r\\n\\r\\n'") + "; " +
          NetClient(
              "'CONNECT localhost@evil.test:443 HTTP/1.1\\r\\nHost: evil.test:443\\r\\n\\r\\n'"));
  EXPECT_THAT(run.out, HasSubstr("HTTP/1.1 400"));
  EXPECT_EQ(Connects(w, "deny").size(), 2u);
  EXPECT_TRUE(Connects(w, "allow").empty());
}

TEST(NetworkBypass, AHostHeaderThatDiffersFromTheTargetIsRefused) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  NetWorld w;
  ASSERT_TRUE(w.ok());
  const std::string port = Port(w.servers().http);
  RunOutput run =
      w.Run(LocalhostAllowed(), NetClient("'GET http://localhost:" + port +
                                          "/echo HTTP/1.1\\r\\nHost: evil.test\\r\\n\\r\\n'"));
  EXPECT_THAT(run.out, HasSubstr("HTTP/1.1 400"));
  EXPECT_THAT(run.out, HasSubstr("they must agree"));
  std::vector<Json> denied = Connects(w, "deny");
  ASSERT_EQ(denied.size(), 1u);
  EXPECT_EQ(denied[0]["rule"], "host-header");
}

TEST(NetworkBypass, RequestsInsideAnAllowedConnectionReachOnlyThatHost) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  NetWorld w;
  ASSERT_TRUE(w.ok());
  const std::string port = Port(w.servers().http);
  // A CONNECT to an allowed host, then inside the tunnel a CONNECT to another; and a plain
  // request followed by a second one for another host in the same connection. Both second
  // requests can only reach the allowed server, which answers them itself.
  RunOutput run = w.Run(
      LocalhostAllowed(),
      NetClient(
          "'CONNECT localhost:" + port + " HTTP/1.1\\r\\nHost: localhost:" + port +
          "\\r\\n\\r\\n' 'CONNECT evil.test:443 HTTP/1.1\\r\\nHost: evil.test:443\\r\\n\\r\\n'") +
          "; echo; " +
          NetClient(
              "'GET http://localhost:" + port + "/echo HTTP/1.1\\r\\nHost: localhost:" + port +
              "\\r\\n\\r\\nGET http://evil.test/echo HTTP/1.1\\r\\nHost: evil.test\\r\\n\\r\\n'"));
  EXPECT_THAT(run.out, HasSubstr("HTTP/1.1 200 Connection established"));
  EXPECT_THAT(run.out, HasSubstr("\"path\": \"/echo\""));
  std::vector<Json> records = w.Records("net.connect");
  ASSERT_EQ(records.size(), 2u) << run.out;
  for (const Json& r : records) {
    EXPECT_EQ(r["verdict"], "allow");
    EXPECT_EQ(r["details"]["host"], "localhost");
  }
  EXPECT_THAT(run.out, Not(HasSubstr("evil.test:443 refused")));  // never decided: not a request
}

// ---- modes none and host ----------------------------------------------------------------------

TEST(Network, ModeNoneHasNoProxyAndNoWayOut) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  NetWorld w;
  ASSERT_TRUE(w.ok());
  RunOutput run = w.Run({{"mode", "none"}},
                        "curl -sS -x http://127.0.0.1:3128 http://localhost/; echo rc=$?; "
                        "curl -sS http://127.0.0.1:" +
                            Port(w.servers().http) + "/; echo rc=$?; env | grep -ci _proxy");
  EXPECT_THAT(run.out, HasSubstr("rc=7\nrc=7\n0"));  // nothing listens; no proxy variables
  EXPECT_TRUE(w.Records("net.connect").empty());
}

TEST(Network, ModeHostRecordsEveryConnection) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  NetWorld w;
  ASSERT_TRUE(w.ok());
  const std::string port = Port(w.servers().http);
  // A plain connect (curl); an IPv6 connect() with the 24-byte sockaddr_in6 of RFC 2133, which
  // the kernel accepts; and a TCP Fast Open send, which connects without connect().
  escapes::WriteFile(w.ws() + "/clients.py", R"(import ctypes, socket, struct, sys
port = int(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
addr = struct.pack("<H", socket.AF_INET6) + struct.pack(">H", port) + bytes(4) + \
    socket.inet_pton(socket.AF_INET6, "::ffff:127.0.0.1")
print("short connect", libc.connect(s.fileno(), ctypes.create_string_buffer(addr, 28), 24))
s.close()
t = socket.socket()
t.sendto(b"GET /echo HTTP/1.0\r\n\r\n", socket.MSG_FASTOPEN, ("127.0.0.1", port))
t.close()
)");
  RunOutput run = w.Run({{"mode", "host"}}, "curl -sS http://127.0.0.1:" + port +
                                                "/echo && python3 clients.py " + port);
  EXPECT_THAT(run.out, HasSubstr("\"path\": \"/echo\"")) << run.err;
  EXPECT_THAT(run.out, HasSubstr("short connect 0"));
  std::map<std::string, int> seen;  // syscall/family of each record to the server's port
  for (const Json& r : Connects(w, "allow")) {
    if (r["details"]["port"] != w.servers().http) continue;
    EXPECT_EQ(r["rule"], "network host");
    seen[r["details"].value("syscall", "connect") + "/" + r["details"].value("family", "")]++;
    if (r["details"]["family"] == "ipv4" && r["details"].value("syscall", "") == "connect") {
      EXPECT_EQ(r["process"]["comm"], "curl");
    }
  }
  EXPECT_EQ(seen["connect/ipv4"], 1) << run.out << run.err;
  EXPECT_EQ(seen["connect/ipv6"], 1);
  EXPECT_EQ(seen["sendto/ipv4"], 1);
}

// ---- host unix sockets --------------------------------------------------------------------

// A unix socket server on the host answering "pong NAME" to each connection.
class UnixServer {
 public:
  UnixServer(const std::string& name, bool abstract) : name_(name) {
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un address {};
    address.sun_family = AF_UNIX;
    socklen_t size = sizeof address;
    if (abstract) {
      std::memcpy(address.sun_path + 1, name.data(), name.size());
      size = static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + 1 + name.size());
    } else {
      std::snprintf(address.sun_path, sizeof address.sun_path, "%s", name.c_str());
    }
    if (bind(fd_, reinterpret_cast<struct sockaddr*>(&address), size) != 0 || listen(fd_, 8) != 0)
      return;
    if (!abstract) chmod(name.c_str(), 0777);  // the sandbox runs as another uid under root
    ok_ = true;
    thread_ = std::thread([this] {
      for (;;) {
        int c = accept(fd_, nullptr, nullptr);
        if (c < 0 || stop_) break;
        std::string reply = "pong " + name_ + "\n";
        (void)!write(c, reply.data(), reply.size());
        close(c);
      }
    });
  }
  ~UnixServer() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    close(fd_);
  }
  bool ok() const { return ok_; }

 private:
  std::string name_;
  int fd_ = -1;
  bool ok_ = false;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(Network, OnlyListedHostUnixSocketsAreReachable) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  Scratch sockets;
  Host("chmod 0755 '" + sockets.path() + "'");
  const std::string listed = sockets / "agent.sock";
  const std::string unlisted = sockets / "docker.sock";
  const std::string abstract = "tollgate-e2e-" + std::to_string(getpid());
  UnixServer a(listed, false), b(unlisted, false), c(abstract, true);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  const std::string probe = escapes::BinDir() + "/probe-unixclient ";
  const std::string script =
      probe + listed + "; " + probe + unlisted + "; " + probe + "@" + abstract;
  // Control: from the host every one answers.
  Host("(" + script + ") > '" + (sockets / "host.txt") + "'");
  const std::string host = escapes::ReadFile(sockets / "host.txt");
  ASSERT_THAT(host, HasSubstr("RESULT connected pong " + abstract)) << host;
  ASSERT_THAT(host, HasSubstr("RESULT connected pong " + unlisted));

  NetWorld w;
  ASSERT_TRUE(w.ok());
  for (const char* mode : {"none", "host"}) {
    RunOutput run = w.Run({{"mode", mode}, {"sockets", {listed}}}, script);
    EXPECT_THAT(run.out, HasSubstr("RESULT connected pong " + listed)) << mode << run.err;
    EXPECT_THAT(run.out, Not(HasSubstr("pong " + unlisted))) << mode;
    EXPECT_THAT(run.out, Not(HasSubstr("pong " + abstract))) << mode;
    EXPECT_THAT(run.out, HasSubstr("RESULT error ENOENT")) << mode;  // not in the view
  }
}

// ---- limits -------------------------------------------------------------------------------

TEST(NetworkLimits, ASlowOrOversizedRequestHeadIsCutOffAndOthersAreServedMeanwhile) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  NetWorld w;
  ASSERT_TRUE(w.ok());
  Json network = LocalhostAllowed();
  network["limits"] = {{"header_timeout", 2}, {"header_size", "1K"}};
  const std::string port = Port(w.servers().http);
  std::string big(2000, 'a');
  // A slow-loris client holds a connection open with a partial head while another request is
  // served; then the slow one gets 408, and a head over the size limit gets 431.
  RunOutput run = w.Run(
      network, NetClient("-k -w 30 'GET http://localhost:" + port + "/echo HTTP/1.1\\r\\nX: 1'") +
                   " > slow.txt & sleep 0.5; " + std::string(kThroughProxy) +
                   "curl -sS http://localhost:" + port + "/echo; echo; wait; cat slow.txt; " +
                   NetClient("'GET http://localhost:" + port + "/ HTTP/1.1\\r\\nHost: localhost:" +
                             port + "\\r\\nX-Big: " + big + "\\r\\n\\r\\n'"));
  EXPECT_THAT(run.out, HasSubstr("\"path\": \"/echo\""));
  EXPECT_THAT(run.out, HasSubstr("HTTP/1.1 408"));
  EXPECT_THAT(run.out, HasSubstr("HTTP/1.1 431"));
  // The served request finished before the slow one was cut off.
  EXPECT_LT(run.out.find("\"path\": \"/echo\""), run.out.find("HTTP/1.1 408"));
}

TEST(NetworkLimits, ConnectionsBeyondTheLimitWaitAndIdleOnesAreClosed) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  NetWorld w;
  ASSERT_TRUE(w.ok());
  Json network = LocalhostAllowed();
  network["limits"] = {{"connections", 1}, {"idle_timeout", 2}};
  const std::string port = Port(w.servers().http);
  // An idle tunnel holds the only slot; a second client waits in the backlog until the idle
  // timeout closes the first, then is served.
  RunOutput run =
      w.Run(network, NetClient("-k -w 30 'CONNECT localhost:" + port +
                               " HTTP/1.1\\r\\nHost: localhost:" + port + "\\r\\n\\r\\n'") +
                         " > idle.txt & sleep 0.5; " + std::string(kThroughProxy) +
                         "curl -sS http://localhost:" + port + "/echo; echo; wait; cat idle.txt");
  EXPECT_THAT(run.out, HasSubstr("\"path\": \"/echo\"")) << run.err;
  EXPECT_THAT(run.out, HasSubstr("200 Connection established"));
  std::vector<Json> closed = w.Records("net.close");
  ASSERT_EQ(closed.size(), 2u);
  EXPECT_EQ(closed[0]["details"]["error"], "idle for 2 s");
}

}  // namespace
}  // namespace tollgate::e2e
