// Class 22: a setuid binary must not gain privilege. The driver makes a setuid-root copy of this
// probe and runs it as an unprivileged user: allowed when the effective uid differs from the real
// one (the setuid bit took effect), blocked when it does not.
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>

int main(void) {
  uid_t ruid = getuid();
  uid_t euid = geteuid();
  if (euid != ruid) {
    printf("RESULT setuid allowed errno=NONE ruid=%d euid=%d\n", (int)ruid, (int)euid);
    return 0;
  }
  printf("RESULT setuid blocked errno=NONE ruid=%d euid=%d\n", (int)ruid, (int)euid);
  return 1;
}
