/* The rectification workflow of an illegal patch (seed 000, 003):
 *   未整改 → 整改中 → 已整改 → 已验收 (销号); 存违挂账 at year end, after which rectification
 *   resumes.  A transition the workflow forbids is refused with the rule it breaks. */
#ifndef TB_WORKFLOW_H
#define TB_WORKFLOW_H

#include "cn_date.h"
#include "patch.h"

#include <stdbool.h>

/* True when a patch of legality l may go from `from` to `to` on date `on` (for batch year
 * batch_year).  Otherwise false, and *rule (static text) says which rule forbids it. */
bool workflow_allows(legality l, rectify_state from, rectify_state to, cn_date on, int batch_year,
                     const char **rule);

#endif
