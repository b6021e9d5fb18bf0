/* Test-only fault points, driven by environment variables the tests set (never in production
 * configuration). */
#ifndef TB_TEST_H
#define TB_TEST_H

/* TUBAN_TEST_SLOW_MS=n: sleeps n ms, called before each rendering (CLI and daemon), so the tests
 * can make a batch or a request take as long as they need. */
void tb_test_slow(void);

#endif
