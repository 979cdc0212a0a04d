/* fuzz_mesh.c — meshes read for `synthbody info` (sb_mesh_read through Assimp 5.2, then our
 * checks sb_mesh_check). The first byte picks the file extension Assimp dispatches on (STL,
 * OBJ, PLY, OFF, glTF/GLB, 3MF, ...); the rest is the file. Assimp itself is Debian's build (not
 * instrumented): crashes inside it are reported as findings in the dependency; what we own is
 * the scene walk, the vertex join and the checks. Promises: on success every triangle index is
 * below the vertex count; failure is SB_ERR_INPUT or SB_ERR_MEMORY with a message. */
#include "fuzz_util.h"
#include "sb_export.h"
#include "sb_mesh.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const EXT[] = {".stl", ".obj", ".ply", ".off", ".glb", ".gltf", ".3mf", ".mesh"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const char *path =
        fuzz_write_file(data + 1, size - 1, EXT[data[0] % (sizeof EXT / sizeof EXT[0])]);
    sb_trimesh *m = NULL;
    sb_error err = {0};
    sb_status s = sb_mesh_read(path, &m, &err);
    if (s) {
        FUZZ_CHECK_ERROR(s, err);
        return 0;
    }
    for (size_t i = 0; i < 3 * m->ntris; i++)
        FUZZ_CHECK(m->tris[i] < m->nverts, "index %u of %zu vertices", m->tris[i], m->nverts);
    sb_mesh_report r;
    s = sb_mesh_check(m, &r, &err);
    if (s) FUZZ_CHECK_ERROR(s, err);
    sb_trimesh_free(m);
    return 0;
}
