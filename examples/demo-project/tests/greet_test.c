#include <stdio.h>
#include <string.h>

int greet(const char* name, char* out, size_t size);

int main(void) {
  char line[128];
  printf("1..1\n");
  greet("tollgate", line, sizeof line);
  if (strcmp(line, "hello, tollgate") != 0) {
    printf("not ok 1 - greet says \"%s\"\n", line);
    return 1;
  }
  printf("ok 1 - greet\n");
  return 0;
}
