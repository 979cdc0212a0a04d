// export_bench_ref.cpp — the reference writers export_bench.c compares ours with: Assimp 5.2's
// exporters (a scene built by hand from our meshes, one mesh + node + material per structure)
// and lib3mf 1.8.1 (Debian's lib3mf-dev: one named mesh object per structure with a base
// material of its colour). C++ because both APIs are C++ (lib3mf's C functions live in a C++
// namespace). Each function returns 0 on success, else fills why.
#include "export_bench.h"

#include <assimp/Exporter.hpp>
#include <assimp/material.h>
#include <assimp/scene.h>

#include <Model/COM/NMR_DLLInterfaces.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

extern "C" int ref_assimp_export(const sb_scene_mesh *ms, size_t n, const char *format_id,
                                 const char *path, char *why, size_t nwhy) {
    aiScene *sc = new aiScene();
    sc->mRootNode = new aiNode("root");
    sc->mMetaData = new aiMetadata();
    sc->mNumMeshes = static_cast<unsigned>(n);
    sc->mMeshes = new aiMesh *[n];
    sc->mNumMaterials = static_cast<unsigned>(n);
    sc->mMaterials = new aiMaterial *[n];
    sc->mRootNode->mNumChildren = static_cast<unsigned>(n);
    sc->mRootNode->mChildren = new aiNode *[n];
    for (size_t i = 0; i < n; i++) {
        const sb_trimesh *t = ms[i].mesh;
        aiMesh *m = new aiMesh();
        m->mName = aiString(ms[i].name);
        m->mPrimitiveTypes = aiPrimitiveType_TRIANGLE;
        m->mNumVertices = static_cast<unsigned>(t->nverts);
        m->mVertices = new aiVector3D[t->nverts];
        for (size_t v = 0; v < t->nverts; v++)
            m->mVertices[v] = aiVector3D(t->verts[3 * v], t->verts[3 * v + 1], t->verts[3 * v + 2]);
        m->mNumFaces = static_cast<unsigned>(t->ntris);
        m->mFaces = new aiFace[t->ntris];
        for (size_t f = 0; f < t->ntris; f++) {
            m->mFaces[f].mNumIndices = 3;
            m->mFaces[f].mIndices = new unsigned[3];
            for (int c = 0; c < 3; c++) m->mFaces[f].mIndices[c] = t->tris[3 * f + c];
        }
        m->mMaterialIndex = static_cast<unsigned>(i);
        sc->mMeshes[i] = m;
        aiMaterial *mat = new aiMaterial();
        aiString nm(ms[i].name);
        mat->AddProperty(&nm, AI_MATKEY_NAME);
        aiColor4D c(ms[i].rgba[0] / 255.0f, ms[i].rgba[1] / 255.0f, ms[i].rgba[2] / 255.0f,
                    ms[i].rgba[3] / 255.0f);
        mat->AddProperty(&c, 1, AI_MATKEY_COLOR_DIFFUSE);
        mat->AddProperty(&c, 1, AI_MATKEY_BASE_COLOR);
        sc->mMaterials[i] = mat;
        aiNode *node = new aiNode(ms[i].name);
        node->mParent = sc->mRootNode;
        node->mNumMeshes = 1;
        node->mMeshes = new unsigned[1];
        node->mMeshes[0] = static_cast<unsigned>(i);
        sc->mRootNode->mChildren[i] = node;
    }
    Assimp::Exporter ex;
    aiReturn r = ex.Export(sc, format_id, path);
    if (r != aiReturn_SUCCESS) std::snprintf(why, nwhy, "Assimp: %s", ex.GetErrorString());
    delete sc;
    return r == aiReturn_SUCCESS ? 0 : -1;
}

extern "C" int ref_lib3mf_export(const sb_scene_mesh *ms, size_t n, const char *path, char *why,
                                 size_t nwhy) {
    using namespace NMR;
    PLib3MFModel *model = nullptr;
    if (lib3mf_createmodel(&model) != 0) {
        std::snprintf(why, nwhy, "lib3mf: cannot create a model");
        return -1;
    }
    int bad = 0;
    PLib3MFModelBaseMaterial *bm = nullptr;
    DWORD gid = 0;
    bad |= lib3mf_model_addbasematerialgroup(model, &bm);
    bad |= lib3mf_resource_getresourceid(bm, &gid);
    std::vector<MODELMESHVERTEX> v;
    std::vector<MODELMESHTRIANGLE> t;
    for (size_t i = 0; i < n && !bad; i++) {
        const sb_trimesh *m = ms[i].mesh;
        DWORD idx = 0;
        bad |= lib3mf_basematerial_addmaterialutf8(bm, ms[i].name, ms[i].rgba[0], ms[i].rgba[1],
                                                   ms[i].rgba[2], &idx);
        PLib3MFModelMeshObject *mo = nullptr;
        bad |= lib3mf_model_addmeshobject(model, &mo);
        if (bad) break;
        bad |= lib3mf_object_setnameutf8(mo, ms[i].name);
        v.resize(m->nverts);
        t.resize(m->ntris);
        for (size_t k = 0; k < m->nverts; k++)
            for (int c = 0; c < 3; c++) v[k].m_fPosition[c] = m->verts[3 * k + c];
        for (size_t k = 0; k < m->ntris; k++)
            for (int c = 0; c < 3; c++) t[k].m_nIndices[c] = m->tris[3 * k + c];
        bad |= lib3mf_meshobject_setgeometry(mo, v.data(), static_cast<DWORD>(m->nverts), t.data(),
                                             static_cast<DWORD>(m->ntris));
        PLib3MFDefaultPropertyHandler *ph = nullptr;
        bad |= lib3mf_object_createdefaultpropertyhandler(mo, &ph);
        if (ph) {
            bad |= lib3mf_defaultpropertyhandler_setbasematerial(ph, gid, idx);
            lib3mf_release(ph);
        }
        PLib3MFModelBuildItem *bi = nullptr;
        bad |= lib3mf_model_addbuilditem(model, mo, nullptr, &bi);
        if (bi) lib3mf_release(bi);
        lib3mf_release(mo);
    }
    PLib3MFModelWriter *w = nullptr;
    if (!bad) bad |= lib3mf_model_querywriter(model, "3mf", &w);
    if (!bad) bad |= lib3mf_writer_writetofileutf8(w, path);
    if (bad) std::snprintf(why, nwhy, "lib3mf: a call failed");
    if (w) lib3mf_release(w);
    if (bm) lib3mf_release(bm);
    lib3mf_release(model);
    return bad ? -1 : 0;
}
