/* 发文字号 (GB/T 9704 §7.2.4): 机关代字 + 〔year〕 + sequence + 号, e.g. 示自然资发〔2022〕12号.
 * The year is written in full inside 六角括号 〔〕, the sequence without leading zeros or 第. */
#ifndef TB_DOCNO_H
#define TB_DOCNO_H

#include <stdbool.h>
#include <stddef.h>

/* Writes the number; returns false (and out = "") for an empty prefix, a year outside
 * 1000..9999, a sequence < 1, or a buffer too small. */
bool docno_format(const char *prefix, int year, int seq, char *out, size_t out_len);

/* Parses "示自然资发〔2022〕12号" into its parts (prefix copied into prefix_out). */
bool docno_parse(const char *s, char *prefix_out, size_t prefix_len, int *year, int *seq);

#endif
