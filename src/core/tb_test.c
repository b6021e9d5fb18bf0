#include "tb_features.h"

#include "tb_test.h"

#include <stdlib.h>
#include <unistd.h>

void
tb_test_slow(void)
{
    const char *ms = getenv("TUBAN_TEST_SLOW_MS");
    if (ms && atoi(ms) > 0)
        usleep((useconds_t)atoi(ms) * 1000);
}
