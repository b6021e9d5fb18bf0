/* libFuzzer target: a holiday schedule or an operator's override file (untrusted text) through
 * workcal_add, then the questions a deadline asks of it. */
#include "workcal.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    workcal *c = workcal_new();
    tb_err err = {0};
    if (workcal_add(c, (const char *)data, size, "fuzz-holidays.txt", &err) == TB_OK) {
        bool unconfirmed = false;
        cn_date from = {2025, 1, 1};
        (void)workcal_add_workdays(c, from, 30, &unconfirmed);
        (void)workcal_source(c, 2025);
    }
    workcal_free(c);
    return 0;
}
