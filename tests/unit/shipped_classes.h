// The shipped profiles/classes.json, parsed once, for the tests of the classifier and the ledger.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "policy/classifier.h"

namespace tollgate::policy {

inline const Classes& Shipped() {
  static const Classes classes = [] {
    std::ifstream in(std::string(TOLLGATE_SOURCE_DIR) + "/profiles/classes.json");
    std::ostringstream text;
    text << in.rdbuf();
    ClassesResult result = ParseClasses(text.str());
    EXPECT_TRUE(result.errors.empty())
        << result.errors[0].json_path << ": " << result.errors[0].message;
    return result.classes.value_or(Classes{});
  }();
  return classes;
}

}  // namespace tollgate::policy
