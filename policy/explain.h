// `tollgate explain`: the compiled plans in words a person can check, or as JSON for machines.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "policy/plans.h"
#include "policy/profile.h"

namespace tollgate::policy {

std::string ExplainPlan(const Profile& profile, const SandboxPlan& plan);
nlohmann::json PlanToJson(const SandboxPlan& plan);

// "1.0 GiB", "512 MiB", "300 B".
std::string FormatBytes(std::uint64_t bytes);
// "none", "proxy", "host": as profiles write it.
const char* NetworkModeName(NetworkMode mode);
// "1h", "30m", "1h30m", "45s".
std::string FormatSeconds(std::uint64_t seconds);

}  // namespace tollgate::policy
