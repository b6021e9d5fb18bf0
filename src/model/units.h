/* Area units (DESIGN §4).  Areas are kept in m² everywhere and converted only when printed:
 * 1 亩 = 10000/15 m², 1 公顷 = 15 亩. */
#ifndef TB_UNITS_H
#define TB_UNITS_H

#include <stddef.h>

#define TB_M2_PER_MU (10000.0 / 15.0)

double units_m2_to_mu(double area_m2);

/* Writes the area in 亩 with exactly 2 decimals ("12.35"), rounded half away from zero, never
 * locale-dependent (a French locale must not put a comma into a PDF).  Returns out. */
char *units_format_mu(double area_m2, char *out, size_t out_len);

/* Millimetres to PDF points. */
static inline double
units_mm_to_pt(double mm)
{
    return mm * 72.0 / 25.4;
}

#endif
