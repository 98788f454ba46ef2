#include "policy/net_examples.h"

#include <charconv>

namespace tollgate::policy {

bool SplitExampleTarget(const std::string& target, std::string* host, std::uint16_t* port) {
  std::size_t colon;
  if (!target.empty() && target[0] == '[') {
    std::size_t close = target.find(']');
    if (close == std::string::npos || close + 1 >= target.size() || target[close + 1] != ':')
      return false;
    *host = target.substr(1, close - 1);
    colon = close + 1;
  } else {
    colon = target.rfind(':');
    if (colon == std::string::npos || colon == 0) return false;
    *host = target.substr(0, colon);
  }
  const std::string digits = target.substr(colon + 1);
  unsigned value = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() ||
      value == 0 || value > 65535)
    return false;
  *port = static_cast<std::uint16_t>(value);
  return true;
}

namespace {

struct Outcome {
  bool allowed = false;
  std::string rule;
  std::string why;
};

Outcome Decide(NetworkMode mode, const NetworkRules& rules, const NetworkExample& example) {
  if (mode == NetworkMode::kNone) return {false, "mode none", "network mode none reaches nothing"};
  if (mode == NetworkMode::kHost) return {true, "mode host", "network mode host filters nothing"};
  std::string raw;
  std::uint16_t port = 0;
  if (!SplitExampleTarget(example.target, &raw, &port)) return {false, "request", "no port"};
  HostNameResult host = NormaliseHostName(raw);
  if (!host.host) return {false, "host-name", host.error};
  NameDecision name = DecideHost(rules, *host.host, port);
  if (!name.allowed || example.resolves_to.empty()) return {name.allowed, name.rule, name.why};
  const std::vector<AddressVerdict> verdicts =
      DecideAddresses(rules, *host.host, port, example.resolves_to);
  for (const AddressVerdict& v : verdicts) {
    if (v.allowed) return {true, name.rule, v.why};
  }
  return {false, verdicts.front().rule, verdicts.front().why};
}

}  // namespace

std::vector<NetworkExampleFailure> CheckNetworkExamples(
    NetworkMode mode, const NetworkRules& rules, const std::vector<NetworkExample>& examples) {
  std::vector<NetworkExampleFailure> failures;
  for (const NetworkExample& example : examples) {
    Outcome outcome = Decide(mode, rules, example);
    if (outcome.allowed == example.expect_allow &&
        (example.rule.empty() || outcome.rule == example.rule))
      continue;
    std::string resolved;
    for (const IpAddress& address : example.resolves_to)
      resolved += (resolved.empty() ? " resolving to " : ", ") + address.ToString();
    failures.push_back(
        {&example, "connecting to " + example.target + resolved + " is expected to be " +
                       (example.expect_allow ? "allowed" : "denied") +
                       (example.rule.empty() ? "" : " by rule " + example.rule) + ", but rule " +
                       outcome.rule + " " + (outcome.allowed ? "allows" : "denies") +
                       " it: " + outcome.why});
  }
  return failures;
}

}  // namespace tollgate::policy
