// The OCSF projection of audit records.
#include "supervisor/audit/ocsf.h"

#include <gtest/gtest.h>

#include "tests/unit/audit_test_log.h"

namespace tollgate::audit {
namespace {

using testing::Parse;
using testing::TestLog;

class AuditOcsfTest : public ::testing::Test {
 protected:
  Json Project(const std::string& kind, Verdict verdict, Json details) {
    return exporter_.Project(Parse(log_.Add(kind, verdict, std::move(details))));
  }
  TestLog log_;
  OcsfExporter exporter_{"0.1.0"};
};

TEST_F(AuditOcsfTest, ExecIsAProcessLaunch) {
  Json event = Project("exec", Verdict::kAllow,
                       {{"path", "/usr/bin/make"}, {"argv", {"make", "-j2"}}, {"cwd", "/src"}});
  EXPECT_EQ(event["class_uid"], 1007);
  EXPECT_EQ(event["category_uid"], 1);
  EXPECT_EQ(event["activity_id"], 1);
  EXPECT_EQ(event["activity_name"], "Launch");
  EXPECT_EQ(event["type_uid"], 100701);
  EXPECT_EQ(event["process"]["file"]["path"], "/usr/bin/make");
  EXPECT_EQ(event["process"]["file"]["name"], "make");
  EXPECT_EQ(event["process"]["cmd_line"], "make -j2");
  EXPECT_EQ(event["process"]["pid"], 101);
  EXPECT_EQ(event["actor"]["process"]["file"]["path"], "/usr/bin/sh") << "the image before exec";
  EXPECT_EQ(event["unmapped"]["details"], Json({{"cwd", "/src"}})) << "only what was not mapped";
}

TEST_F(AuditOcsfTest, VerdictsBecomeActionAndDisposition) {
  Json allowed = Project("exec", Verdict::kAllow, {{"path", "/bin/true"}});
  EXPECT_EQ(allowed["action_id"], 1);
  EXPECT_EQ(allowed["disposition_id"], 1);
  EXPECT_EQ(allowed["severity_id"], 1);
  Json denied = Project("exec", Verdict::kDeny, {{"path", "/tmp/t"}});
  EXPECT_EQ(denied["action_id"], 2);
  EXPECT_EQ(denied["action"], "Denied");
  EXPECT_EQ(denied["disposition_id"], 2);
  EXPECT_EQ(denied["disposition"], "Blocked");
  EXPECT_EQ(denied["status_id"], 2);
  Json info = Project("run.end", Verdict::kInfo, {{"status", "exited"}, {"exit_code", 3}});
  EXPECT_EQ(info["action_id"], 3);
  EXPECT_EQ(info["disposition_id"], 17);
  EXPECT_EQ(info["activity_name"], "Terminate");
  EXPECT_EQ(info["exit_code"], 3);
}

TEST_F(AuditOcsfTest, EachKindHasItsClass) {
  Json file = Project("file.access", Verdict::kDeny, {{"path", "/h/.ssh/id"}, {"op", "read"}});
  EXPECT_EQ(file["class_uid"], 1001);
  EXPECT_EQ(file["activity_name"], "Read");
  EXPECT_EQ(file["file"]["path"], "/h/.ssh/id");
  Json syscall = Project("syscall.denied", Verdict::kDeny,
                         {{"syscall", "ptrace"}, {"nr", 101}, {"errno", "EPERM"}});
  EXPECT_EQ(syscall["class_uid"], 1003);
  EXPECT_EQ(syscall["activity_name"], "Invoke");
  EXPECT_EQ(syscall["kernel"]["name"], "ptrace");
  EXPECT_EQ(syscall["kernel"]["type_id"], 2);
  EXPECT_EQ(syscall["unmapped"]["details"]["nr"], 101);
  Json net = Project("net.connect", Verdict::kDeny, {{"host", "example.com"}, {"port", 443}});
  EXPECT_EQ(net["class_uid"], 4001);
  EXPECT_EQ(net["dst_endpoint"]["hostname"], "example.com");
  EXPECT_EQ(net["dst_endpoint"]["port"], 443);
  EXPECT_EQ(net["activity_name"], "Open");
  Json closed = Project("net.close", Verdict::kInfo,
                        {{"host", "example.com"},
                         {"ip", "93.184.216.34"},
                         {"port", 443},
                         {"bytes_out", 517},
                         {"bytes_in", 4096}});
  EXPECT_EQ(closed["class_uid"], 4001);
  EXPECT_EQ(closed["activity_name"], "Close");
  EXPECT_EQ(closed["dst_endpoint"]["ip"], "93.184.216.34");
  EXPECT_EQ(closed["traffic"]["bytes_out"], 517);
  EXPECT_EQ(closed["traffic"]["bytes_in"], 4096);
  Json tool = Project("tool.call", Verdict::kDeny, {{"tool", "git"}, {"argv", {"push"}}});
  EXPECT_EQ(tool["class_uid"], 6003);
  EXPECT_EQ(tool["api"]["operation"], "git");
  EXPECT_EQ(Project("tool.exit", Verdict::kInfo, {{"tool", "git"}})["class_uid"], 6003);
  EXPECT_EQ(Project("log.recovered", Verdict::kInfo, {})["class_uid"], 6002);
  EXPECT_EQ(Project("task.phase", Verdict::kInfo, {})["class_uid"], 6002);
  EXPECT_EQ(Project("limit.hit", Verdict::kDeny, {{"limit", "memory"}})["class_uid"], 1007);
  Json unknown = Project("something.new", Verdict::kInfo, {});
  EXPECT_EQ(unknown["class_uid"], 0);
  EXPECT_EQ(unknown["activity_id"], 99);
}

TEST_F(AuditOcsfTest, MetadataCarriesTheChainPosition) {
  std::string line = log_.Add("exec", Verdict::kAllow, {{"path", "/bin/true"}});
  ParsedRecord record = Parse(line);
  Json event = exporter_.Project(record);
  EXPECT_EQ(event["metadata"]["version"], "1.5.0");
  EXPECT_EQ(event["metadata"]["product"]["name"], "tollgate");
  EXPECT_EQ(event["metadata"]["product"]["vendor_name"], "tollgate");
  EXPECT_EQ(event["metadata"]["uid"], record.hash);
  EXPECT_EQ(event["metadata"]["sequence"], record.seq);
  EXPECT_EQ(event["metadata"]["correlation_uid"], "run-0001");
  EXPECT_EQ(event["time"], record.time_ns / 1'000'000);
  EXPECT_EQ(event["unmapped"]["prev"], record.prev);
  EXPECT_EQ(event["unmapped"]["profile"], "workspace-write");
}

TEST_F(AuditOcsfTest, TheHostOfARunBecomesTheDeviceOfItsEvents) {
  Project("run.start", Verdict::kInfo, {{"host", "ci-runner-7"}, {"command", {"make"}}});
  Json event = Project("exec", Verdict::kAllow, {{"path", "/bin/true"}});
  EXPECT_EQ(event["device"]["hostname"], "ci-runner-7");
  log_.run = "another-run";
  EXPECT_FALSE(Project("exec", Verdict::kAllow, {})["device"].is_object());
}

TEST_F(AuditOcsfTest, EscapedAndTruncatedNotesAreKept) {
  Json record = log_.Next("exec", Verdict::kAllow, {{"path", "a\\\\b\\xff"}});
  record["escaped"] = {"details.path"};
  record["truncated"] = {{"details.argv", 300}};
  Json event = exporter_.Project(Parse(log_.Append(record)));
  EXPECT_EQ(event["unmapped"]["escaped"], Json::array({"details.path"}));
  EXPECT_EQ(event["unmapped"]["truncated"]["details.argv"], 300);
}

}  // namespace
}  // namespace tollgate::audit
