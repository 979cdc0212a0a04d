// lib3mf_dump.cpp — what lib3mf 1.8.1 (the 3MF Consortium's reference library, Debian's
// lib3mf-dev), reading in strict mode, finds in a 3MF file, for tests/cli/test_export.py:
//   warnings <count>
//   object <name> <vertices> <triangles> <red> <green> <blue> <alpha>   (one per mesh object,
//                                     colour of its default base material; -1 if none)
// Exit 3 if lib3mf refuses the file (its error on stderr).
#include <Model/COM/NMR_DLLInterfaces.h>

#include <cstdio>
#include <vector>

using namespace NMR;

static int fail(PLib3MFBase *b, const char *what) {
    DWORD code = 0;
    LPCSTR msg = nullptr;
    if (b) lib3mf_getlasterror(b, &code, &msg);
    std::fprintf(stderr, "lib3mf_dump: %s failed (%u: %s)\n", what, (unsigned)code,
                 msg ? msg : "?");
    return 3;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: lib3mf_dump FILE.3mf\n");
        return 2;
    }
    PLib3MFModel *model = nullptr;
    PLib3MFModelReader *reader = nullptr;
    if (lib3mf_createmodel(&model) != 0) return fail(nullptr, "createmodel");
    if (lib3mf_model_queryreader(model, "3mf", &reader) != 0) return fail(model, "queryreader");
    lib3mf_reader_setstrictmodeactive(reader, true);
    if (lib3mf_reader_readfromfileutf8(reader, argv[1]) != 0) return fail(reader, "read");
    DWORD warnings = 0;
    lib3mf_reader_getwarningcount(reader, &warnings);
    std::printf("warnings\t%u\n", (unsigned)warnings);
    for (DWORD i = 0; i < warnings && i < 10; i++) {
        DWORD code = 0;
        ULONG need = 0;
        char buf[512] = "";
        lib3mf_reader_getwarningutf8(reader, i, &code, buf, sizeof buf, &need);
        std::printf("warning\t%u\t%s\n", (unsigned)code, buf);
    }
    // base material colours by (group id, index)
    std::vector<std::vector<unsigned>> colours;
    std::vector<DWORD> group_ids;
    PLib3MFModelResourceIterator *it = nullptr;
    BOOL more = false;
    if (lib3mf_model_getbasematerials(model, &it) == 0) {
        while (lib3mf_resourceiterator_movenext(it, &more) == 0 && more) {
            PLib3MFModelResource *r = nullptr;
            lib3mf_resourceiterator_getcurrent(it, &r);
            DWORD id = 0, count = 0;
            lib3mf_resource_getresourceid(r, &id);
            lib3mf_basematerial_getcount(r, &count);
            std::vector<unsigned> c;
            for (DWORD k = 0; k < count; k++) {
                BYTE rr = 0, g = 0, b = 0, a = 0;
                lib3mf_basematerial_getdisplaycolor(r, k, &rr, &g, &b, &a);
                c.push_back((unsigned)rr << 24 | (unsigned)g << 16 | (unsigned)b << 8 | a);
            }
            group_ids.push_back(id);
            colours.push_back(c);
            lib3mf_release(r);
        }
        lib3mf_release(it);
    }
    if (lib3mf_model_getmeshobjects(model, &it) != 0) return fail(model, "getmeshobjects");
    while (lib3mf_resourceiterator_movenext(it, &more) == 0 && more) {
        PLib3MFModelResource *r = nullptr;
        lib3mf_resourceiterator_getcurrent(it, &r);
        char name[256] = "";
        ULONG need = 0;
        lib3mf_object_getnameutf8(r, name, sizeof name, &need);
        DWORD nv = 0, nt = 0;
        lib3mf_meshobject_getvertexcount(r, &nv);
        lib3mf_meshobject_gettrianglecount(r, &nt);
        long col[4] = {-1, -1, -1, -1};
        PLib3MFDefaultPropertyHandler *ph = nullptr;
        if (lib3mf_object_createdefaultpropertyhandler(r, &ph) == 0 && ph) {
            DWORD gid = 0, idx = 0;
            if (lib3mf_defaultpropertyhandler_getbasematerial(ph, &gid, &idx) == 0)
                for (size_t g = 0; g < group_ids.size(); g++)
                    if (group_ids[g] == gid && idx < colours[g].size())
                        for (int k = 0; k < 4; k++)
                            col[k] = (colours[g][idx] >> (24 - 8 * k)) & 255;
            lib3mf_release(ph);
        }
        std::printf("object\t%s\t%u\t%u\t%ld\t%ld\t%ld\t%ld\n", name, (unsigned)nv, (unsigned)nt,
                    col[0], col[1], col[2], col[3]);
        lib3mf_release(r);
    }
    lib3mf_release(it);
    lib3mf_release(reader);
    lib3mf_release(model);
    return 0;
}
