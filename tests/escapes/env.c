// Class 23: read a secret from the environment. Allowed when any of the named variables, or any
// variable whose name contains TOKEN, SECRET, KEY or PASSWORD, is present.
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char** environ;

int main(int argc, char** argv) {
  char found[4096] = "";
  size_t used = 0;
  for (int i = 1; i < argc; ++i) {
    if (getenv(argv[i]) != NULL && used < sizeof found) {
      used += snprintf(found + used, sizeof found - used, " %s", argv[i]);
    }
  }
  static const char* const kPatterns[] = {"TOKEN", "SECRET", "KEY", "PASSWORD"};
  for (char** e = environ; *e != NULL; ++e) {
    const char* eq = strchr(*e, '=');
    size_t len = eq ? (size_t)(eq - *e) : strlen(*e);
    char name[256];
    snprintf(name, sizeof name, "%.*s", (int)(len < 255 ? len : 255), *e);
    for (size_t p = 0; p < sizeof kPatterns / sizeof kPatterns[0]; ++p) {
      if (strstr(name, kPatterns[p]) != NULL && strstr(found, name) == NULL &&
          used < sizeof found) {
        used += snprintf(found + used, sizeof found - used, " %s", name);
        break;
      }
    }
  }
  if (used > 0) {
    printf("RESULT env-secret allowed errno=NONE present:%s\n", found);
    return 0;
  }
  printf("RESULT env-secret blocked errno=NONE none present\n");
  return 1;
}
