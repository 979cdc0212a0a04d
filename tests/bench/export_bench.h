/* export_bench.h — the reference writers of tests/bench/export_bench.c
 * (tests/bench/export_bench_ref.cpp). */
#ifndef SB_EXPORT_BENCH_H
#define SB_EXPORT_BENCH_H

#include "sb_export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Assimp 5.2's exporter `format_id` ("stlb", "glb2", "3mf", "obj", ...) on a scene built from
 * the meshes (one mesh, node and diffuse/base colour material per structure). */
int ref_assimp_export(const sb_scene_mesh *ms, size_t n, const char *format_id, const char *path,
                      char *why, size_t nwhy);
/* lib3mf 1.8.1: one named mesh object per structure with a base material of its colour. */
int ref_lib3mf_export(const sb_scene_mesh *ms, size_t n, const char *path, char *why, size_t nwhy);

#ifdef __cplusplus
}
#endif
#endif
