/* Rendering outside the registry's write lock.  An issue holds SQLite's write lock from the
 * allocation of its 发文字号 to the commit (docs/issue.h), and the number is printed in the
 * document, so a worker that rendered under the lock would make every other worker wait.
 * Instead each issue takes a turn and a guess of its number, renders with the guess in
 * parallel, and allocates when its turn comes (turns go in the order taken, so the guesses
 * hold).  The registry still allocates: when the guess is wrong (`tuban render --db` issued in
 * between, an issue ahead failed), the worker renders again with the allocated number. */
#include "tb_features.h"

#include "server_int.h"

#include <stdlib.h>
#include <string.h>

/* The series of (office, year, 机关代字): index in srv->series, added when first met. */
static number_series *
series_of(server *srv, int office, int year, const char *prefix)
{
    for (size_t i = 0; i < srv->series_count; i++) {
        number_series *s = &srv->series[i];
        if (s->office == office && s->year == year && strcmp(s->prefix, prefix) == 0)
            return s;
    }
    srv->series = tb_xrealloc(srv->series, (srv->series_count + 1) * sizeof *srv->series);
    number_series *s = &srv->series[srv->series_count++];
    *s = (number_series){.office = office, .year = year, .prefix = tb_xstrdup(prefix)};
    return s;
}

/* The number the next issue of s will get: the committed counter plus the issues of s in
 * flight.  Called with issue_lock held, when no issue of s is between allocation and commit
 * or when the last one just ended (so the counter is exact). */
static int
series_next(server *srv, store *st, const number_series *s)
{
    int last = 0;
    tb_err err = {0};
    if (store_docno_last(st, srv->cfg->offices[s->office].id, s->year, s->prefix, &last,
                         &err) != TB_OK)
        server_log("numbering: %s (the guess may be wrong; the registry decides)", err.msg);
    return last + 1 + s->in_flight;
}

void
numbering_take(server *srv, store *st, int office, int year, const char *prefix,
               issue_turn *t)
{
    pthread_mutex_lock(&srv->issue_lock);
    number_series *s = series_of(srv, office, year, prefix);
    if (s->in_flight == 0)
        s->next = series_next(srv, st, s);
    t->ticket = srv->issue_next++;
    t->office = office;
    t->year = year;
    t->prefix = s->prefix;
    t->guess = s->next++;
    s->in_flight++;
    pthread_mutex_unlock(&srv->issue_lock);
}

void
numbering_wait(server *srv, const issue_turn *t)
{
    pthread_mutex_lock(&srv->issue_lock);
    while (srv->issue_serving != t->ticket)
        pthread_cond_wait(&srv->issue_turn, &srv->issue_lock);
    pthread_mutex_unlock(&srv->issue_lock);
}

void
numbering_done(server *srv, store *st, const issue_turn *t)
{
    pthread_mutex_lock(&srv->issue_lock);
    /* Waits for its turn first, so that a turn given up early (a failure before the render)
     * still goes in order. */
    while (srv->issue_serving != t->ticket)
        pthread_cond_wait(&srv->issue_turn, &srv->issue_lock);
    number_series *s = series_of(srv, t->office, t->year, t->prefix);
    s->in_flight--;
    /* The issues behind this one guessed on; from the counter now committed, later guesses are
     * right again even if this issue failed or was numbered differently. */
    s->next = series_next(srv, st, s);
    srv->issue_serving++;
    pthread_cond_broadcast(&srv->issue_turn);
    pthread_mutex_unlock(&srv->issue_lock);
}

void
numbering_free(server *srv)
{
    for (size_t i = 0; i < srv->series_count; i++)
        free(srv->series[i].prefix);
    free(srv->series);
    srv->series = NULL;
    srv->series_count = 0;
}
