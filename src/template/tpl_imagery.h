/* The imagery catalogue of an office (imagery.xml, schema templates/schema/imagery.rng): dated
 * rasters and vector layers for maps, as the plain map_sources of src/model. */
#ifndef TB_TPL_IMAGERY_H
#define TB_TPL_IMAGERY_H

#include "map_sources.h"
#include "tb_arena.h"
#include "tb_err.h"

#include <stddef.h>

/* Parses a catalogue from memory; relative paths are resolved against base_dir (the folder
 * holding the file); name is used in messages.  GDAL virtual file systems and URLs are refused
 * (TB_EFORMAT naming file, line and attribute), as are impossible dates, footprints and
 * stretches.  Everything is owned by a. */
map_sources *tpl_imagery_parse(const char *xml, size_t len, const char *name,
                               const char *base_dir, tb_arena *a, tb_err *err);

/* Reads and parses the catalogue file at path, opened beneath the folder beneath (the office's;
 * NULL: path as given). */
map_sources *tpl_imagery_load(const char *path, const char *beneath, tb_arena *a, tb_err *err);

#endif
