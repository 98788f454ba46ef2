// Network examples: connections a profile states the verdict of, checked when it loads.
//
//   "examples": [{"connect": "registry.npmjs.org:443", "expect": "allow"},
//                {"connect": "registry.npmjs.org:80", "expect": "deny", "rule": "default"},
//                {"connect": "mirror.internal:443", "resolves_to": ["10.1.2.3"],
//                 "expect": "deny", "rule": "special-address"}]
//
// Each is decided as the proxy decides it (policy::DecideHost, then policy::DecideAddresses for
// the addresses given in resolves_to, taken as the resolver's answer): a profile whose allowlist
// does not do what its author wrote down does not load.
#pragma once

#include <string>
#include <vector>

#include "policy/net_rules.h"
#include "policy/profile_types.h"

namespace tollgate::policy {

struct NetworkExample {
  std::string target;                  // "host:port" as written ("[v6]:port" for IPv6)
  std::vector<IpAddress> resolves_to;  // the resolver's answer to take; empty: judge the name
  bool expect_allow = false;
  std::string rule;  // the deciding rule it must get, if given
  std::string json_path;
  SourceRef where;
};

struct NetworkExampleFailure {
  const NetworkExample* example;
  std::string message;
};

// "host:port" split; false when there is no port (1-65535) or the brackets are unbalanced.
bool SplitExampleTarget(const std::string& target, std::string* host, std::uint16_t* port);

// Decides each example under `mode` and `rules`; one message per example that comes out
// otherwise than expected. Mode none refuses everything (rule "mode none"), mode host allows
// everything (rule "mode host").
std::vector<NetworkExampleFailure> CheckNetworkExamples(
    NetworkMode mode, const NetworkRules& rules, const std::vector<NetworkExample>& examples);

}  // namespace tollgate::policy
