/* The domain's central record: one 图斑 (patch) as verified by a township (DESIGN §4).  Plain
 * values: the fields are the API.  Strings are UTF-8 and owned by whoever made the patch (the
 * ingest arena); areas are always m². */
#ifndef TB_PATCH_H
#define TB_PATCH_H

#include "cn_date.h"

#include <stdbool.h>
#include <stddef.h>

/* 合法性判定结果 (PDJG). */
typedef enum legality {
    LEGALITY_UNKNOWN = 0, /* not yet judged */
    LEGALITY_LEGAL,       /* 合法用地 */
    LEGALITY_ILLEGAL,     /* 违法用地 */
    LEGALITY_OTHER,       /* 其他用地 (实地未变化, 设施农用地, 伪变化 …) */
} legality;

/* 整改状态 (ZGZT): the rectification workflow of an illegal patch. */
typedef enum rectify_state {
    RECTIFY_NONE = 0,   /* empty: not applicable */
    RECTIFY_PENDING,    /* 未整改 */
    RECTIFY_ONGOING,    /* 整改中 */
    RECTIFY_DONE,       /* 已整改 */
    RECTIFY_ACCEPTED,   /* 已验收 (销号) */
    RECTIFY_CARRIED,    /* 存违挂账 */
} rectify_state;

typedef struct patch {
    const char *id;             /* 监测编号 JCBH (TBBH, YSTBBH) */
    const char *admin_code;     /* 行政区代码 XZQDM: 9-digit township (or 6-digit county) */
    const char *admin_name;     /* 行政区名称 XZQMC */
    int year;                   /* NF; 0 if absent */
    const char *quarter;        /* JD; NULL for 年度 batches */
    double area_m2;             /* JCMJ as supplied */
    double area_ellipsoid_m2;   /* computed by tuban on the CGCS2000 ellipsoid */
    double farmland_m2;         /* JCGDMJ (GDMJ) */
    double basic_farmland_m2;   /* YJJBNTMJ */
    const char *kind;           /* TBLX 土地 / 矿产 */
    legality legality;          /* PDJG */
    const char *violation;      /* WFLX 违法类型 */
    const char *approval_no;    /* PZWH */
    const char *measure;        /* ZGCS 整改措施 */
    rectify_state state;        /* ZGZT */
    cn_date deadline;           /* ZGQX; year 0 when absent */
    cn_date image_before;       /* QSX 前时相; year 0 when absent */
    cn_date image_after;        /* HSX 后时相; year 0 when absent */
    bool rural_housing;         /* SFNCLZGDJF 新增农村乱占耕地建房 */
    bool military;              /* SFJYTD 军用土地 (tuban's field, see docs/military.md): its
                                 * documents go by 机要 channel only, never over the network */
    const char *earlier_id;     /* TYWZJCTBWQBH */
    const unsigned char *wkb;   /* geometry: (Multi)Polygon, CGCS2000 lon/lat (EPSG:4490) */
    size_t wkb_len;
    double min_lon, min_lat, max_lon, max_lat; /* bbox of wkb */
    long record;                /* 1-based record number in the source file, for messages */
} patch;

/* Parses a PDJG value, full or short (合法用地 / 合法, 违法用地 / 违法, 其他用地 / 其他).
 * Returns false for anything else. */
bool legality_parse(const char *s, legality *out);
const char *legality_name(legality l); /* 合法用地 … ; "" for UNKNOWN */

/* Parses a ZGZT value (未整改, 整改中, 已整改, 已验收 or 销号, 存违挂账); empty -> RECTIFY_NONE. */
bool rectify_state_parse(const char *s, rectify_state *out);
const char *rectify_state_name(rectify_state s); /* "" for NONE */

/* The quarter a JD value names, written 1-4, Q1-Q4, 一-四 or 第一季度 …: 1-4; 0 for none (a 年度
 * batch) or anything else. */
int patch_quarter_number(const char *jd);

#endif
