#include <stdio.h>
#include <string.h>

/* Writes "hello, NAME" into out; returns the length written. */
int greet(const char* name, char* out, size_t size) { return snprintf(out, size, "hello, %s", name); }

#ifndef GREET_NO_MAIN
int main(int argc, char** argv) {
  char line[128];
  greet(argc > 1 ? argv[1] : "world", line, sizeof line);
  puts(line);
  return 0;
}
#endif
