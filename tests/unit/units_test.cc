// ParseSize and ParseDuration: the units profiles use for limits and tmpfs sizes.
#include <cstdint>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "policy/profile_loader.h"

namespace tollgate::policy {
namespace {

constexpr std::uint64_t kKiB = 1024;
constexpr std::uint64_t kMiB = kKiB * 1024;
constexpr std::uint64_t kGiB = kMiB * 1024;
constexpr std::uint64_t kTiB = kGiB * 1024;

struct Accepted {
  const char* text;
  std::uint64_t value;
};

TEST(ParseSizeTest, AcceptsBytesAndBinaryMultiples) {
  const Accepted cases[] = {
      {"0", 0},
      {"100", 100},
      {"100B", 100},
      {"64K", 64 * kKiB},
      {"64k", 64 * kKiB},
      {"64Ki", 64 * kKiB},
      {"64KiB", 64 * kKiB},
      {"64KB", 64 * kKiB},
      {"512M", 512 * kMiB},
      {"512MiB", 512 * kMiB},
      {"1.5G", 3 * kGiB / 2},
      {"0.5K", 512},
      {"1.0001K", 1024},  // 1024.1024 bytes: the fraction of a byte is dropped
      {"2T", 2 * kTiB},
      {"8G", 8 * kGiB},
      {"007M", 7 * kMiB},
      {"18446744073709551615", UINT64_MAX},
      {"16777215T", 16777215 * kTiB},
  };
  for (const Accepted& c : cases) {
    EXPECT_EQ(ParseSize(c.text), std::optional<std::uint64_t>(c.value)) << c.text;
  }
}

TEST(ParseSizeTest, RejectsMalformedNegativeAndOverflowing) {
  const char* rejected[] = {
      "",
      "-1",
      "+1",
      " 1",
      "1 ",
      "1.5",
      "1.",
      ".5",
      "1..5K",
      "12X",
      "1KK",
      "1Kib",
      "1iB",
      "K",
      "0x10",
      "1e3",
      "1.5B",
      "1,5G",
      "1 G",
      "G1",
      "1.5.5G",
      "1.0000000000000000001G",  // more fraction digits than anyone means
      "18446744073709551616",    // 2^64
      "16777216T",               // 2^64 bytes
      "17179869184G",            // 2^64 bytes
  };
  for (const char* text : rejected) EXPECT_EQ(ParseSize(text), std::nullopt) << text;
}

TEST(ParseDurationTest, AcceptsSecondsAndUnits) {
  const Accepted cases[] = {
      {"0", 0},     {"90", 90},      {"90s", 90},    {"30m", 1800},
      {"2h", 7200}, {"1h30m", 5400}, {"1d", 86400},  {"1d2h3m4s", 93784},
      {"0s", 0},    {"120m", 7200},  {"1h5s", 3605}, {"18446744073709551615", UINT64_MAX},
  };
  for (const Accepted& c : cases) {
    EXPECT_EQ(ParseDuration(c.text), std::optional<std::uint64_t>(c.value)) << c.text;
  }
}

TEST(ParseDurationTest, RejectsMalformedAndOverflowing) {
  const char* rejected[] = {
      "",
      "-5",
      "1h1h",
      "30m1h",
      "1h30",
      "1.5h",
      "1H",
      "1 h",
      "h",
      "1w",
      "1ms",
      "1h 30m",
      "+5",
      "5s ",
      "s5",
      "1d1d",
      "18446744073709551616",  // 2^64 seconds
      "300000000000000d",      // overflows when multiplied
      "213503982334601d1d",
  };
  for (const char* text : rejected) EXPECT_EQ(ParseDuration(text), std::nullopt) << text;
}

}  // namespace
}  // namespace tollgate::policy
