/* Countersigning: an office signs a document that was already issued (the township signs the
 * bureau's acceptance form), by one more incremental update, so every earlier signature stays
 * valid.  The office's seal is the new signature's appearance. */
#ifndef TB_COUNTERSIGN_H
#define TB_COUNTERSIGN_H

#include "tb_buf.h"
#include "tb_err.h"

#include <stdbool.h>
#include <time.h>

typedef struct countersign_options {
    bool beside;          /* place the seal beside the document's first seal (the issuer's), on
                             its page, clear of every seal already there; page and x_mm, y_mm
                             are then unused (and the ones below when it has none) */
    int page;             /* 1-based; 0 = the last page */
    double x_mm, y_mm;    /* the seal's lower left corner from the page's lower left corner */
    const char *reason;   /* UTF-8, may be NULL */
    time_t signing_time;  /* 0 = now */
} countersign_options;

/* Signs pdf (in memory, appended to in place) as the office in office_dir.  Errors name the
 * file at fault; pdf is unchanged on failure. */
tb_code countersign(const char *office_dir, tb_buf *pdf, const countersign_options *opt,
                    tb_err *err) TB_MUST_CHECK;

#endif
