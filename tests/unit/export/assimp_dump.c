/* assimp_dump.c — what Assimp 5.2 (a real reader, through its C API) finds in a mesh file, for
 * tests/cli/test_export.py: one line per mesh and per node, tab separated:
 *   mesh <index> <name> <faces> <triangles> <vertices> <material name> <r> <g> <b> <a>
 *   node <name> <mesh index>...
 * Imported with aiProcess_ValidateDataStructure only (no joining, splitting or material
 * merging), so the counts are the file's. Exit 3 if Assimp cannot read the file. */
#include <assimp/cimport.h>
#include <assimp/material.h>
#include <assimp/postprocess.h>
#include <assimp/scene.h>

#include <stdio.h>

static void nodes(const struct aiNode *n, int depth) {
    if (depth > 64) return;
    printf("node\t%s", n->mName.data);
    for (unsigned i = 0; i < n->mNumMeshes; i++) printf("\t%u", n->mMeshes[i]);
    printf("\n");
    for (unsigned i = 0; i < n->mNumChildren; i++) nodes(n->mChildren[i], depth + 1);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: assimp_dump FILE\n");
        return 2;
    }
    const struct aiScene *sc = aiImportFile(argv[1], aiProcess_ValidateDataStructure);
    if (!sc) {
        fprintf(stderr, "assimp_dump: %s: %s\n", argv[1], aiGetErrorString());
        return 3;
    }
    for (unsigned i = 0; i < sc->mNumMeshes; i++) {
        const struct aiMesh *m = sc->mMeshes[i];
        unsigned tris = 0;
        for (unsigned f = 0; f < m->mNumFaces; f++) tris += m->mFaces[f].mNumIndices == 3;
        struct aiString mname = {0};
        struct aiColor4D c = {0, 0, 0, 0};
        if (m->mMaterialIndex < sc->mNumMaterials) {
            const struct aiMaterial *mat = sc->mMaterials[m->mMaterialIndex];
            aiGetMaterialString(mat, AI_MATKEY_NAME, &mname);
            aiGetMaterialColor(mat, AI_MATKEY_COLOR_DIFFUSE, &c);
        }
        printf("mesh\t%u\t%s\t%u\t%u\t%u\t%s\t%.6f\t%.6f\t%.6f\t%.6f\n", i, m->mName.data,
               m->mNumFaces, tris, m->mNumVertices, mname.data, c.r, c.g, c.b, c.a);
    }
    if (sc->mRootNode) nodes(sc->mRootNode, 0);
    aiReleaseImport(sc);
    return 0;
}
