// tollgate check PROFILE…: validate, print every error, exit non-zero on any.
#include <iostream>

#include "supervisor/commands.h"
#include "supervisor/profile_search.h"

namespace tollgate {

int CheckCommand(const std::vector<std::string>& profiles) {
  policy::ProfileLoader loader = MakeProfileLoader();
  int status = 0;
  for (const std::string& name : profiles) {
    policy::LoadResult result = loader.Load(name);
    if (result.ok()) {
      std::cout << "ok: " << result.profile->name << " (" << result.profile->source_file << ")\n";
      continue;
    }
    status = kExitInvalid;
    std::cerr << name << ": " << result.errors.size()
              << (result.errors.size() == 1 ? " error\n" : " errors\n");
    for (const policy::ProfileError& error : result.errors)
      std::cerr << "  " << error.ToString() << "\n";
  }
  return status;
}

}  // namespace tollgate
