// The message for a failed clone3 names the cause and the fix, from the kernel's facts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>

#include "supervisor/kernel/kernel_features.h"

namespace tollgate::kernel {
namespace {

using ::testing::HasSubstr;

KernelFeatures Ordinary() {
  KernelFeatures f;
  f.kernel_release = "6.8.0";
  f.max_user_namespaces = 15000;
  return f;
}

TEST(NamespaceFailure, AppArmorRestrictionOnUbuntuSaysWhatToInstall) {
  KernelFeatures f = Ordinary();
  f.apparmor_restrict_unprivileged_userns = 1;
  std::string message = ExplainNamespaceFailure(EPERM, f);
  EXPECT_THAT(message, HasSubstr("kernel.apparmor_restrict_unprivileged_userns = 1"));
  EXPECT_THAT(message, HasSubstr("AppArmor profile"));
  // Root is not restricted by it: the message must not blame AppArmor then.
  f.running_as_root = true;
  EXPECT_THAT(ExplainNamespaceFailure(EPERM, f), ::testing::Not(HasSubstr("AppArmor")));
}

TEST(NamespaceFailure, DisabledUserNamespacesNameTheSysctl) {
  KernelFeatures f = Ordinary();
  f.max_user_namespaces = 0;
  EXPECT_THAT(ExplainNamespaceFailure(ENOSPC, f), HasSubstr("user.max_user_namespaces=15000"));
  f = Ordinary();
  f.unprivileged_userns_clone = 0;
  EXPECT_THAT(ExplainNamespaceFailure(EPERM, f), HasSubstr("kernel.unprivileged_userns_clone=1"));
}

TEST(NamespaceFailure, ALimitReachedAndAContainerAreToldApart) {
  EXPECT_THAT(ExplainNamespaceFailure(ENOSPC, Ordinary()), HasSubstr("limit is reached"));
  EXPECT_THAT(ExplainNamespaceFailure(EPERM, Ordinary()), HasSubstr("container"));
  EXPECT_THAT(ExplainNamespaceFailure(ENOSYS, Ordinary()), HasSubstr("Linux 5.12"));
}

}  // namespace
}  // namespace tollgate::kernel
