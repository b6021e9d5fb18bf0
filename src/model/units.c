#include "tb_features.h"

#include "units.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

double
units_m2_to_mu(double area_m2)
{
    return area_m2 / TB_M2_PER_MU;
}

char *
units_format_mu(double area_m2, char *out, size_t out_len)
{
    /* Hundredths of a 亩 as an integer: m² × 15 / 100.  Rounding once, on the exact product,
     * avoids the double rounding that formatting the quotient with %.2f would do. */
    long long hundredths = llround(area_m2 * 15.0 / 100.0);
    const char *sign = hundredths < 0 ? "-" : "";
    long long v = llabs(hundredths);
    snprintf(out, out_len, "%s%lld.%02lld", sign, v / 100, v % 100);
    return out;
}
